"""The provider's faults: slow (1), down (2), and queue workers dying (3).

Each scenario gets a fresh Stack (database, stand-in, gunicorn, qcluster,
escalator), raises incidents through the API, lets phones answer, stands its
incidents down, waits for the app to settle and measures (soak/ledger.py).
Timings are in seconds from the scenario's start; env vars shorten them.
"""

import random
import time

from soak import ledger
from soak.phones import Phones, usual_answer
from soak.processes import wait_for
from soak.report import env_float, settle
from soak.stack import LOGS, Stack

NEEDS = {"negotiator": 3, "coordinator": 1}


def recovery_to_last(figures, recovered):
    if recovered is None or figures.last_arrival is None:
        return None
    return max(0.0, figures.last_arrival - recovered)


def finish(stack, clock, result, incidents, recovered, settle_s):
    for incident in incidents:
        stack.web.stand_down(incident["id"])
    clock.log(f"stood down {len(incidents)} incident(s); waiting for the app to settle")
    stack.web.drain()
    figures = settle(stack, clock, settle_s, recovered or 0.0)
    result.figures = figures
    result.recovery_to_last = recovery_to_last(figures, recovered)
    result.notes.append(f"tracebacks in the app's logs: {stack.tracebacks()}")
    result.notes += [f"  {failure}" for failure in stack.failures()]
    saved = ledger.evidence(stack, figures, LOGS / f"{stack.name}-evidence.json")
    if saved:
        result.notes.append(f"doubled and lost messages, rows and provider records: {saved}")


def slow_provider(ctx):
    """Twilio takes every message at once but answers after 20 s (past the SDK's 10 s
    timeout) for 45 s, then for 10 s drops the connection after taking each message.
    Callouts, answers and stand-downs must each arrive once."""
    slow_s, delay = env_float("SOAK_SLOW_S", 45), env_float("SOAK_SLOW_DELAY", 20)
    drop_s = env_float("SOAK_DROP_S", 10)
    clock, result = ctx.clock, ctx.result
    with Stack("s1", ctx.server, ctx.token) as stack:
        phones = Phones(stack, usual_answer(), seed=11)
        phones.start()
        clock.t0 = time.monotonic()
        stack.standin.faults(answer_after=delay)
        clock.log(f"provider answers after {delay:.0f}s from now for {slow_s:.0f}s")
        incidents = [stack.web.raise_incident(NEEDS)]
        clock.at(slow_s / 3)
        incidents.append(stack.web.raise_incident(NEEDS))
        clock.at(slow_s)
        if drop_s:
            stack.standin.faults(drop=True)
            clock.log(f"provider takes each message and drops the connection for {drop_s:.0f}s")
            incidents.append(stack.web.raise_incident({"negotiator": 2}))
            clock.at(slow_s + drop_s)
        stack.standin.clear_faults()
        recovered = time.monotonic()
        clock.log("provider answering at once again")
        clock.at(slow_s + drop_s + 5)
        phones.stop()
        finish(stack, clock, result, incidents, recovered, ctx.settle_s)
        result.notes.append(f"creates reaching the stand-in: {stack.standin.received}")


def outage(ctx):
    """Twilio answers 500 to every create for 3 minutes, then recovers. Callouts of an
    incident still calling, answers to replies and stand-downs made during the outage
    must all arrive, once, after recovery."""
    down_s = env_float("SOAK_OUTAGE_S", 180)
    clock, result = ctx.clock, ctx.result
    with Stack("s2", ctx.server, ctx.token) as stack:
        phones = Phones(stack, usual_answer(accept=0.25, decline=0.25), seed=22)
        phones.start()
        clock.t0 = time.monotonic()
        a = stack.web.raise_incident(NEEDS)
        clock.log(f"raised {a['reference']} with the provider healthy")
        clock.at(5)
        stack.standin.faults(status=500)
        clock.log(f"provider answers 500 to every create for {down_s:.0f}s")
        clock.at(5 + down_s * 0.03)
        b = stack.web.raise_incident(NEEDS)
        clock.log(f"raised {b['reference']} during the outage")
        clock.at(5 + down_s * 0.11)
        stack.web.stand_down(a["id"])
        clock.log(f"stood {a['reference']} down during the outage")
        clock.at(5 + down_s * 0.3)
        c = stack.web.raise_incident(NEEDS)
        clock.log(f"raised {c['reference']} during the outage (left calling)")
        clock.at(5 + down_s * 0.5)
        stack.web.stand_down(b["id"])
        clock.log(f"stood {b['reference']} down during the outage")
        clock.at(5 + down_s)
        stack.standin.clear_faults()
        recovered = time.monotonic()
        clock.log(f"provider healthy again; {c['reference']} still calling")
        clock.at(5 + down_s + 20)
        phones.stop()
        finish(stack, clock, result, [c], recovered, ctx.settle_s)


def worker_kills(ctx):
    """Ten SIGKILLs to the queue while incidents escalate (sends in flight: the stand-in
    answers after 0.5 s), one of them to the whole cluster while Twilio's message list
    (the lost-sid lookup) answers 500 for 40 s."""
    kills, span = int(env_float("SOAK_KILLS", 10)), env_float("SOAK_KILL_SPAN_S", 40)
    list_down = env_float("SOAK_LIST_DOWN_S", 40)
    clock, result = ctx.clock, ctx.result
    rng = random.Random(3)
    with Stack("s3", ctx.server, ctx.token, delay=0.5) as stack:
        phones = Phones(stack, usual_answer(accept=0.3, decline=0.2), seed=33)
        phones.start()
        clock.t0 = time.monotonic()
        special = span / 2
        events = [(i * span / 9, "raise") for i in range(10)]
        events += [(rng.uniform(2, span), "kill") for _ in range(max(0, kills - 1))]
        events += [(special, "list"), (special + list_down, "list ok")]
        incidents, recovered, counts = [], None, {"worker": 0, "cluster": 0}
        for moment, what in sorted(events):
            clock.at(moment)
            if what == "raise":
                incident = stack.web.raise_incident({"negotiator": 2})
                stack.step_due_in(incident["id"], 8)
                incidents.append(incident)
            elif what == "kill":
                kind = _kill(stack, rng)
                counts[kind] += 1
                clock.log(f"SIGKILL {kind}")
                recovered = time.monotonic()
            elif what == "list":
                incidents.append(_kill_while_list_fails(stack, clock))
                counts["cluster"] += 1
            else:
                stack.standin.clear_faults()
                clock.log("message list answering again")
                recovered = max(recovered or 0, time.monotonic())
        phones.stop()
        result.notes.append(
            f"kills: {counts['worker']} worker processes, {counts['cluster']} whole clusters"
        )
        finish(stack, clock, result, incidents, recovered, max(ctx.settle_s, 60))


def _kill(stack, rng) -> str:
    """Mostly one worker process (django-q2 starts another); every third, the whole cluster."""
    if rng.random() < 0.67 and (stack.kill_a_worker() or _retry_worker_kill(stack)):
        return "worker"
    stack.kill("qcluster")
    stack.launch("qcluster")
    return "cluster"


def _retry_worker_kill(stack) -> bool:
    stack.wait_for_workers(10)
    return stack.kill_a_worker()


def _kill_while_list_fails(stack, clock):
    stack.standin.faults(list_status=500)
    before = stack.standin.received
    incident = stack.web.raise_incident({"negotiator": 4, "coordinator": 1})
    # Kill once the step's sends are at the provider, before their answers come back.
    wait_for(lambda: stack.standin.received > before, 10, every=0.02)
    stack.kill("qcluster")
    clock.log(f"message list failing; whole cluster SIGKILLed mid-send ({incident['reference']})")
    stack.launch("qcluster")
    return incident
