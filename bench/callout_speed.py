"""Callout speed: the first step's SMS out, and steps firing on time.

Against the local Twilio stand-in (answers each request after 200 ms), with a
real `qcluster` and the `escalator` as subprocesses on a PostgreSQL database of
its own (standby_bench_callouts, dropped and re-created each run).

1. From raising an incident to the first step's SMS all accepted by the provider:
   60 SMS, target <= 0.3 s; 300 SMS (a force of 300 on call), target <= 0.8 s with at
   most 100 provider requests in flight (CALLOUTS_PROVIDER_CONCURRENCY, counted by
   the stand-in). Beside each, in the same run: a bare SDK client sending as many from
   as many threads as the budget allows, and the floor (waves of 100 x 200 ms).
2. Escalation steps firing late: 50 steps falling due over ~15 s, lateness =
   when the step's first message was saved minus when it was due; target p95 < 2 s.

Environment: BENCH_CALLOUTS_DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/standby_bench_callouts), BENCH_RUNS (5).
"""

import contextlib
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PEOPLE = 60
LARGE = 300
BUDGET = 100
STEPS = 50
TARGETS = {PEOPLE: 0.3, LARGE: 0.8}
TARGET_LATENESS_P95_S = 2.0


def configure(url, standin_url):
    from bench.webhook_load import server_env

    # The production set-up (DEBUG off: on, it keeps every SQL statement in memory, timed),
    # as the other benchmarks run it; then this one's provider and budget.
    os.environ.update(
        {
            **server_env(url),
            "Q_SYNC": "false",
            "SMS_GATEWAY": "twilio",
            "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
            "TWILIO_AUTH_TOKEN": "bench-token",
            "TWILIO_FROM_NUMBER": "+447700900000",
            "TWILIO_API_BASE": standin_url,
            "LOG_LEVEL": "WARNING",
            "STANDBY_VAR_DIR": str(ROOT / "var" / "bench-callouts"),
            "CALLOUTS_PROVIDER_CONCURRENCY": str(BUDGET),
        }
    )


def start(*args):
    return subprocess.Popen(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=os.environ.copy(),
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stop(process):
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


def cadre(people=PEOPLE, code="BENCH", first=0):
    from datetime import date, timedelta

    from django.utils import timezone

    from cadre.models import Accreditation, Force, Negotiator
    from callouts.engine.policy import create_default_policy
    from roster.models import Shift
    from roster.queries import rota_for

    force = Force.objects.create(name=f"Bench {code}", code=code)
    create_default_policy(force)
    now = timezone.now()
    for i in range(first, first + people):
        person = Negotiator.objects.create(
            force=force, callsign=f"B-{i:03d}", full_name=f"Bench {i}", mobile=f"+4477009{i:05d}"
        )
        Accreditation.objects.create(
            negotiator=person,
            kind="initial",
            passed_on=date(2020, 1, 1),
            valid_until=date.today() + timedelta(days=400),
        )
        Shift.objects.create(
            rota=rota_for(force),
            negotiator=person,
            role="negotiator",
            start=now - timedelta(hours=1),
            end=now + timedelta(hours=12),
        )
    return force


def first_step(force, standin, people):
    """Seconds from raising to the step's SMS all at the provider, the most in flight, and
    how late the stand-in took each message after its delay (the instrument's own error)."""
    from callouts import services

    standin.messages.clear()
    standin.max_in_flight = 0
    began = time.monotonic()
    services.raise_incident(force=force, kind="barricade", location="Bench Lane", by=None)
    deadline = began + 20
    while len(standin.messages) < people and time.monotonic() < deadline:
        time.sleep(0.005)
    took = float("inf")
    if len(standin.messages) >= people:
        took = max(m["received_at"] for m in standin.messages) - began
    time.sleep(0.5)
    late = [m["received_at"] - m["arrived_at"] - standin.delay for m in standin.messages]
    return took, standin.max_in_flight, late


def bare_client(standin, count):
    """The same SMS from a bare SDK client, as many threads as the budget: the baseline."""
    from concurrent.futures import ThreadPoolExecutor

    from twilio.rest import Client

    clients = []
    for _ in range(min(count, BUDGET)):
        client = Client("AC" + "0" * 32, "bench-token")
        client.api.base_url = standin.base_url
        clients.append(client)
    standin.messages.clear()
    began = time.monotonic()

    def send(i):
        clients[i % len(clients)].messages.create(
            to=f"+4477008{i:05d}", from_="+447700900000", body="bare"
        )

    with ThreadPoolExecutor(len(clients)) as pool:
        list(pool.map(send, range(count)))
    return max(m["received_at"] for m in standin.messages) - began


def lateness(force):
    from datetime import timedelta

    from django.db.models import Min
    from django.utils import timezone

    from callouts.models import Incident

    t0 = timezone.now() + timedelta(seconds=3)
    step = [{"audience": "named", "channel": "sms", "wait_minutes": 30, "named": []}]
    people = list(force.negotiators.values_list("pk", flat=True))
    due = {}
    for i in range(STEPS):
        step[0]["named"] = [people[i % len(people)]]
        incident = Incident.objects.create(
            force=force,
            reference=f"BENCH-LATE-{i:02d}",
            kind="other",
            location="Bench Lane",
            needs={"negotiator": 1},
            steps=[dict(step[0])],
            next_step_at=t0 + timedelta(seconds=0.3 * i),
        )
        due[incident.pk] = incident.next_step_at
    time.sleep(3 + 0.3 * STEPS + 3)
    fired = dict(
        Incident.objects.filter(pk__in=due)
        .annotate(first=Min("messages__created_at"))
        .values_list("pk", "first")
    )
    return [(fired[pk] - due[pk]).total_seconds() if fired.get(pk) else float("inf") for pk in due]


def p95(values):
    ordered = sorted(values)
    return ordered[max(0, int(round(0.95 * len(ordered))) - 1)]


def main():
    sys.path.insert(0, str(ROOT))
    from bench.twilio_standin import StandIn
    from bench.webhook_load import recreate_database

    url = os.environ.get(
        "BENCH_CALLOUTS_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/standby_bench_callouts"
    )
    runs = int(os.environ.get("BENCH_RUNS", "5"))
    try:
        recreate_database(url)
    except Exception as e:  # no PostgreSQL here: say so rather than fail the other benchmarks
        print(f"callout_speed SKIPPED: cannot create the benchmark database ({e})")
        return
    with StandIn(delay=0.2) as standin:
        configure(url, standin.base_url)
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=os.environ, check=True
        )
        import django

        django.setup()
        force = cadre()
        large = cadre(LARGE, "LARGE", first=PEOPLE)
        processes = [start("qcluster"), start("escalator")]
        firsts = {PEOPLE: [], LARGE: []}
        bare = {PEOPLE: [], LARGE: []}
        in_flight = {PEOPLE: 0, LARGE: 0}
        standin_late: list[float] = []
        try:
            time.sleep(3)  # let the cluster start its workers
            load = os.getloadavg()[0]
            for _ in range(runs):
                # Each figure interleaved with its baseline.
                for size, which in ((PEOPLE, force), (LARGE, large)):
                    took, most, late_here = first_step(which, standin, size)
                    standin_late += late_here
                    firsts[size].append(took)
                    in_flight[size] = max(in_flight[size], most)
                    bare[size].append(bare_client(standin, size))
            late = lateness(force)
        finally:
            for process in processes:
                stop(process)
    print(f"load average {load:.2f} on {os.cpu_count()} cores when it started")
    for size, goal in TARGETS.items():
        floor = -(-size // BUDGET) * 0.2
        median = statistics.median(firsts[size])
        print(
            f"first step, {size} SMS accepted by the stand-in (200 ms each), from raising: "
            + ", ".join(f"{s:.2f}s" for s in firsts[size])
            + f"; median {median:.2f}s (target <= {goal}s: "
            + ("OK" if median <= goal else "MISSED")
            + f"); most in flight {in_flight[size]} (budget {BUDGET}); bare "
            f"{min(size, BUDGET)}-thread SDK client median {statistics.median(bare[size]):.2f}s; "
            f"floor {floor:.2f}s"
        )
    print(
        f"the stand-in took {len(standin_late)} messages on time: median "
        f"{statistics.median(standin_late) * 1000:.1f} ms, most "
        f"{max(standin_late) * 1000:.1f} ms after its "
        f"{standin.delay * 1000:.0f} ms"
    )
    print(
        f"step firing lateness over {len(late)} steps: median {statistics.median(late):.3f}s, "
        f"p95 {p95(late):.3f}s, max {max(late):.3f}s (target p95 < {TARGET_LATENESS_P95_S}s) "
        + ("OK" if p95(late) < TARGET_LATENESS_P95_S else "MISSED")
    )


if __name__ == "__main__":
    main()
