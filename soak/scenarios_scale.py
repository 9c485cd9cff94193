"""Scaling out: two worker machines on a Redis broker, one of them dying mid-send (7)."""

import re
import time

from soak import broker
from soak.phones import Phones, usual_answer
from soak.processes import wait_for
from soak.report import env_float
from soak.scenarios import NEEDS, finish
from soak.stack import Stack

# django-q2's worker logs "Process-1:2 processing <task> 'callouts.…'" (INFO) for each task.
RAN = re.compile(r" processing \S+ '([\w.]+)'")


def two_machines(ctx):
    """Two `qcluster`s (two worker machines, two workers each) share a queue in Redis with
    the escalator and gunicorn on PostgreSQL. The cluster sending a step's SMS is SIGKILLed
    whole mid-send (a machine dying), an incident is raised while only the other is left,
    and it comes back 10 s later. Every callout once, replies answered, both clusters busy."""
    down_s = env_float("SOAK_MACHINE_DOWN_S", 10)
    clock, result = ctx.clock, ctx.result
    with (
        broker.running() as redis,
        Stack(
            "s7",
            ctx.server,
            ctx.token,
            delay=0.5,
            redis_url=redis.url(),
            clusters=2,
            env={"Q_WORKERS": "2", "LOG_LEVEL": "INFO"},
        ) as stack,
    ):
        phones = Phones(stack, usual_answer(accept=0.3, decline=0.2), seed=77)
        phones.start()
        clock.t0 = time.monotonic()
        incidents = [stack.web.raise_incident(NEEDS), stack.web.raise_incident({"negotiator": 2})]
        clock.at(3)
        killed = _kill_the_sender(stack, clock, incidents)
        incidents.append(stack.web.raise_incident({"negotiator": 2, "coordinator": 1}))
        clock.log(f"raised {incidents[-1]['reference']} with one machine left")
        clock.at(4 + down_s)
        stack.launch(killed)
        recovered = time.monotonic()
        clock.log(f"{killed} started again")
        clock.at(6 + down_s)
        incidents.append(stack.web.raise_incident({"negotiator": 2}))
        stack.step_due_in(incidents[-1]["id"], 4)
        clock.at(16 + down_s)
        phones.stop()
        finish(stack, clock, result, incidents, recovered, ctx.settle_s)
        ran = {cluster: _tasks_run(stack, cluster) for cluster in stack.clusters}
        queued = redis.calls("rpush")
        result.notes.append(
            f"tasks queued through Redis: {queued}; run by "
            + ", ".join(f"{c} {n}" for c, n in ran.items())
            + f" ({killed} SIGKILLed whole mid-send, {down_s:.0f}s down)"
        )
        tallies = result.figures.tallies
        result.notes.append(
            f"replies taken in {tallies['reply in'].delivered}, "
            f"answered {tallies['answer'].delivered}"
        )
        if not queued:
            result.problems.append("nothing went through Redis")
        if min(ran.values()) == 0:
            result.problems.append("a cluster ran no task: the queue was not shared")
        if not tallies["answer"].delivered:
            result.problems.append("no reply was answered")


def _kill_the_sender(stack, clock, incidents) -> str:
    """Bring both incidents' second step (SMS to the whole force) due, and once the provider
    is taking its messages, SIGKILL the cluster whose worker is sending them."""
    marks = {c: _log_size(stack, c) for c in stack.clusters}
    before = stack.standin.received
    for incident in incidents:
        stack.step_due_in(incident["id"], 0.5)
    wait_for(lambda: stack.standin.received > before, 10, every=0.02)
    sending = [c for c in stack.clusters if "sending.send_many" in _log_since(stack, c, marks[c])]
    killed = sending[-1] if sending else stack.clusters[-1]
    stack.kill(killed)
    clock.log(
        f"{killed} SIGKILLed whole while sending (provider had taken "
        f"{stack.standin.received - before} of the step's SMS)"
    )
    return killed


def _log_size(stack, cluster) -> int:
    path = stack.log(cluster)
    return path.stat().st_size if path.exists() else 0


def _log_since(stack, cluster, offset) -> str:
    with stack.log(cluster).open("rb") as log:
        log.seek(offset)
        return log.read().decode(errors="replace")


def _tasks_run(stack, cluster) -> int:
    return len(RAN.findall(_log_since(stack, cluster, 0)))
