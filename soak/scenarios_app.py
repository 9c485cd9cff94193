"""The app's own faults: the escalator dying (4), PostgreSQL restarting (5), and a storm (6)."""

import statistics
import time
from datetime import UTC, datetime

from soak.phones import Phones, Stream, usual_answer
from soak.report import env_float
from soak.scenarios import NEEDS, finish
from soak.seed import mobile
from soak.stack import Stack


def escalator_kill(ctx):
    """The escalator SIGKILLed while a step falls due, retries wait on their backoff and
    replies arrive; restarted 14 s later, then killed and restarted once more."""
    down_s = env_float("SOAK_CLOCK_DOWN_S", 14)
    clock, result = ctx.clock, ctx.result
    with Stack("s4", ctx.server, ctx.token) as stack:
        for n in (1, 2, 3):  # their first attempt fails: the retry is the clock's to send
            stack.standin.fail(mobile(n), 503, 20503, times=1)
        clock.t0 = time.monotonic()
        a, b = stack.web.raise_incident(NEEDS), stack.web.raise_incident({"negotiator": 2})
        clock.at(1)
        stack.kill("escalator")
        clock.log("escalator SIGKILLed")
        for incident in (a, b):
            stack.step_due_in(incident["id"], 5)
        clock.log("the next step of both incidents is due in 5 s")
        clock.at(3)
        stack.web.reply(mobile(2), f"Y 10 {b['reference']}")
        stack.web.reply(mobile(3), f"N {a['reference']}")
        stack.web.reply("+447700900901", "hello?")
        clock.at(5)
        stack.web.reply(mobile(2), f"ETA 5 {b['reference']}")
        clock.at(1 + down_s)
        stack.launch("escalator")
        recovered, restarted = time.monotonic(), datetime.now(UTC)
        clock.log("escalator restarted")
        clock.at(14 + down_s)
        stack.kill("escalator")
        stack.launch("escalator")
        clock.log("escalator SIGKILLed and restarted at once")
        clock.at(24 + down_s)
        late = _step_fired_after(stack, [a, b], restarted)
        finish(stack, clock, result, [a, b], recovered, ctx.settle_s)
        for reference, seconds in late:
            if seconds is None:
                result.problems.append(
                    f"{reference}: a step due while the clock was down never fired"
                )
            else:
                result.notes.append(
                    f"{reference}: step due while the clock was down fired {seconds:.1f}s "
                    "after its restart"
                )


def _step_fired_after(stack, incidents, restarted):
    rows = dict(
        stack.sql(
            "SELECT incident_id, min(created_at) FROM callouts_message "
            "WHERE purpose = 'callout' AND step = 1 AND incident_id = ANY(%s) GROUP BY 1",
            ([i["id"] for i in incidents],),
        )
    )
    return [
        (
            i["reference"],
            (rows[i["id"]] - restarted).total_seconds() if i["id"] in rows else None,
        )
        for i in incidents
    ]


def database_restart(ctx):
    """PostgreSQL stopped for 30 s mid-incident while replies keep arriving (2 a second).
    Every reply taken in once and answered; no 500 once the database is back."""
    down_s = env_float("SOAK_DB_DOWN_S", 30)
    clock, result = ctx.clock, ctx.result
    with Stack("s5", ctx.server, ctx.token) as stack:
        clock.t0 = time.monotonic()
        a, b = stack.web.raise_incident(NEEDS), stack.web.raise_incident({"negotiator": 2})
        references = [a["reference"], b["reference"]]
        phones = Phones(stack, usual_answer(accept=0.2, decline=0.2), seed=55)
        stream = Stream(stack, 120, references, phones, seed=5)
        phones.start()
        stream.start()
        clock.at(8)
        ctx.server.stop()
        went_down = time.monotonic()
        clock.log(f"PostgreSQL stopped for {down_s:.0f}s")
        clock.at(8 + down_s)
        ctx.server.start()
        recovered = time.monotonic()
        clock.log("PostgreSQL started again")
        clock.at(11 + down_s)
        c = stack.web.raise_incident({"negotiator": 2}, tries=5)
        references.append(c["reference"])
        clock.at(18 + down_s)
        stack.web.stand_down(a["id"], tries=5)
        clock.at(23 + down_s)
        stream.stop()
        phones.stop()
        stack.web.drain()
        during = [r for r in stack.web.replies if went_down <= r.request.started < recovered]
        refused = sum(1 for r in during if r.request.status != 200)
        errors, no_answer, slowest = stack.web.failures(since=recovered)
        quiet = _quiet_restart(ctx.server, stack, clock, [b, c])
        finish(stack, clock, result, [b, c], recovered, ctx.settle_s)
        result.notes.append(
            f"replies while the database was down: {len(during)}, {refused} not answered 200 "
            f"in time; replies in all: {len(stack.web.replies)}"
        )
        result.notes.append(
            f"after the restart, under traffic: {errors} answered 5xx, {no_answer} unanswered, "
            f"slowest {slowest:.1f}s"
        )
        result.notes.append(
            f"after a second restart with no traffic during it: {quiet[0]} of the first "
            f"{quiet[1]} requests answered 5xx, slowest {quiet[2]:.1f}s"
        )
        if errors or no_answer or quiet[0]:
            failed = errors + no_answer + quiet[0]
            result.problems.append(f"{failed} web requests failed after a restart")


def _quiet_restart(server, stack, clock, incidents):
    """PostgreSQL restarted while nobody calls the web: pooled connections go stale."""
    server.stop()
    time.sleep(3)
    server.start()
    since = time.monotonic()
    clock.log("PostgreSQL restarted again, with no traffic during it")
    for incident in incidents * 3:
        stack.web.api("GET", f"/incidents/{incident['id']}/")
    for n in (7, 8, 9, 11):
        stack.web.reply(mobile(n), f"ETA 5 {incidents[0]['reference']}", wait=True)
    errors, no_answer, slowest = stack.web.failures(since=since)
    return errors + no_answer, len(incidents) * 3 + 4, slowest


def storm(ctx):
    """20 incidents raised within a minute while 200 replies a minute arrive."""
    count = int(env_float("SOAK_STORM_INCIDENTS", 20))
    span, per_minute = env_float("SOAK_STORM_S", 60), env_float("SOAK_REPLIES_PER_MIN", 200)
    clock, result = ctx.clock, ctx.result
    with Stack("s6", ctx.server, ctx.token) as stack:
        references, incidents = [], []
        phones = Phones(stack, lambda rng, reference: None, seed=66)
        stream = Stream(stack, per_minute, references, phones, seed=6)
        phones.start()
        clock.t0 = time.monotonic()
        stream.start()
        for i in range(count):
            clock.at(i * span / count)
            incident = stack.web.raise_incident({"negotiator": 2, "coordinator": 1})
            incidents.append(incident)
            references.append(incident["reference"])
            if i >= 2:  # the next step (SMS to the whole force) 15 s on, inside the storm
                stack.step_due_in(incidents[i - 2]["id"], 15, wait=False)
        clock.at(span)
        stream.stop()
        phones.stop()
        ended = time.monotonic()
        clock.log(f"storm over: {count} incidents, {stream.sent} replies")
        finish(stack, clock, result, incidents, ended, max(ctx.settle_s, 60))
        result.notes.append("recovery here: from the end of the storm")
        for kind in ("api", "reply"):
            times = sorted(r.seconds for r in stack.web.requests if r.kind == kind)
            if times:
                p95 = times[int(0.95 * (len(times) - 1))]
                result.notes.append(
                    f"{kind} requests: {len(times)}, median {statistics.median(times) * 1000:.0f} "
                    f"ms, p95 {p95 * 1000:.0f} ms, max {times[-1] * 1000:.0f} ms"
                )
        errors, no_answer, _ = stack.web.failures()
        if errors or no_answer:
            result.problems.append(f"{errors} answered 5xx, {no_answer} unanswered")
