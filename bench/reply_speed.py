"""Replies keep pace with a storm: from a reply at the webhook to its answer SMS at the provider.

The production set-up on this machine: gunicorn (3 workers x 2 threads), a real
`qcluster` and the `escalator`, PostgreSQL (standby_bench_replies, dropped and
re-created), the Twilio stand-in answering each request after 200 ms. A cadre of
3,000 called to 60 live incidents (needs too large ever to fill, so every reply
gets exactly one SMS back and nothing else goes to that phone); a tenth of the
replies come from numbers not in the cadre. Each reply's latency is from when its
POST was due to when the stand-in received the answer to that phone (the k-th
answer to a phone answers its k-th reply).

1. Idle: 20 replies one at a time. Target p95 <= 0.5 s. Floor, measured between
   them: one webhook POST + one provider request.
2. Storm: 100 replies a second for 60 s (BENCH_REPLY_RATE, BENCH_REPLY_SECONDS),
   open loop. Target p95 <= 1.5 s.
3. Burst: 1,000 replies at once (as fast as 32 connections send them). Target: every
   one answered within 20 s.
Throughout: every reply answered exactly once (nothing sent twice, nothing lost).

Environment: BENCH_REPLIES_DATABASE_URL
(postgres://postgres@127.0.0.1:5432/standby_bench_replies), BENCH_REPLY_RATE (100),
BENCH_REPLY_SECONDS (60), BENCH_BURST (1000).
"""

import os
import random
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
PEOPLE = 3000
INCIDENTS = 60
BODIES = ["Y 15", "yes 20 mins", "N", "ETA 10", "Y", "ARRIVED", "what is this", "2", "1"]
IDLE_PROBES = 20
TARGET_IDLE_P95, TARGET_STORM_P95, TARGET_BURST = 0.5, 1.5, 20.0


def env(name, default):
    return os.environ.get(name, default)


def mobile(n: int) -> str:
    return f"+4477009{n:05d}"


def server_env(database_url, standin_url):
    from bench.webhook_load import server_env as web_env

    return {
        **web_env(database_url),
        "SMS_GATEWAY": "twilio",
        "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
        "TWILIO_API_BASE": standin_url,
        "STANDBY_VAR_DIR": str(ROOT / "var" / "bench-replies"),
        "DB_POOL_MAX": "8",
    }


def seed():
    """In a Django process: the cadre, called to live incidents that cannot fill."""
    import django

    django.setup()
    from datetime import date, timedelta

    from django.utils import timezone

    from cadre.models import Accreditation, Force, Negotiator
    from callouts.models import Callout, Incident, Message

    force = Force.objects.create(name="Bench Constabulary", code="BEN")
    people = []
    for n in range(1, PEOPLE + 1):
        person = Negotiator(
            force=force, callsign=f"B-{n:04d}", full_name=f"Bench {n}", mobile=mobile(n)
        )
        person.roles = ["negotiator"]
        people.append(person)
    people = Negotiator.objects.bulk_create(people)
    Accreditation.objects.bulk_create(
        Accreditation(
            negotiator=p,
            kind="initial",
            passed_on=date(2020, 1, 1),
            valid_until=date.today() + timedelta(days=900),
        )
        for p in people
    )
    for i in range(INCIDENTS):
        incident = Incident.objects.create(
            force=force,
            reference=f"BEN-{i:02d}",
            kind="barricade",
            location="Bench town",
            rendezvous="Station car park",
            needs={"negotiator": 100_000},
            policy_name="Standard",
            steps=[{"audience": "force", "channel": "sms", "wait_minutes": 600, "named": []}],
            step_index=0,
            next_step_at=timezone.now() + timedelta(hours=10),
        )
        mine = people[i::INCIDENTS]
        callouts = Callout.objects.bulk_create(
            Callout(incident=incident, negotiator=p, asked_roles=["negotiator"], first_step=0)
            for p in mine
        )
        Message.objects.bulk_create(
            Message(
                channel="sms",
                purpose="callout",
                incident=incident,
                callout=c,
                negotiator=c.negotiator,
                step=0,
                to_number=c.negotiator.mobile,
                body="CALLOUT",
                status="delivered",
                provider_sid=f"SMbench{c.pk:026d}",
            )
            for c in callouts
        )
    print(f"Seeded {PEOPLE} negotiators called to {INCIDENTS} live incidents", flush=True)


class Replies:
    """Signed SMS webhook requests, and when each was due, per phone."""

    def __init__(self):
        from twilio.request_validator import RequestValidator

        from bench.webhook_load import FROM_NUMBER, PUBLIC, TOKEN

        self.validator, self.public, self.to = RequestValidator(TOKEN), PUBLIC, FROM_NUMBER
        self.rng = random.Random(11)
        self.count = 0
        self.unknown = 0
        self.sent: dict[str, list[float]] = {}  # phone -> when each reply was due

    def build(self, phone=None, body=None):
        self.count += 1
        if phone is None:
            if self.rng.random() < 0.1:
                self.unknown += 1
                phone = f"+4479000{self.unknown:05d}"
            else:
                phone = mobile(self.rng.randint(1, PEOPLE))
        params = {
            "MessageSid": f"SMreply{self.count:027d}",
            "AccountSid": "AC" + "0" * 32,
            "From": phone,
            "To": self.to,
            "Body": body or self.rng.choice(BODIES),
            "NumMedia": "0",
        }
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": self.validator.compute_signature(
                self.public + "/twilio/sms/", params
            ),
        }
        return phone, ("/twilio/sms/", urlencode(params).encode(), headers)

    def mark(self, phone, due):
        self.sent.setdefault(phone, []).append(due)


def answers_by_phone(standin):
    with standin.lock:
        rows = [(m["to"], m["received_at"]) for m in standin.messages]
    found: dict[str, list[float]] = {}
    for to, at in sorted(rows, key=lambda r: r[1]):
        found.setdefault(to, []).append(at)
    return found


def wait_answered(standin, replies, phones, deadline):
    """Until every reply of these phones has an answer, or the deadline."""
    while time.monotonic() < deadline:
        got = answers_by_phone(standin)
        if all(len(got.get(p, ())) >= len(replies.sent[p]) for p in phones):
            return True
        time.sleep(0.05)
    return False


def latencies(standin, replies, phones_due):
    """[(phone, due)] -> the seconds from each reply to its answer (inf when missing)."""
    got = answers_by_phone(standin)
    out = []
    for phone, due in phones_due:
        k = replies.sent[phone].index(due)
        answers = got.get(phone, [])
        out.append(answers[k] - due if k < len(answers) else float("inf"))
    return out


def pct(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def post(url, request):
    path, body, headers = request
    started = time.monotonic()
    req = urllib.request.Request(url + path, data=body, headers=headers, method="POST")
    with urllib.request.urlopen(req, timeout=10) as response:
        response.read()
    return started, time.monotonic() - started


def provider_request(standin_url):
    """One bare provider request (what an answer costs at least), timed."""
    body = urlencode({"To": "+447700800001", "From": "+447700900000", "Body": "floor"}).encode()
    started = time.monotonic()
    req = urllib.request.Request(
        f"{standin_url}/2010-04-01/Accounts/AC{'0' * 32}/Messages.json", data=body, method="POST"
    )
    with urllib.request.urlopen(req, timeout=10) as response:
        response.read()
    return time.monotonic() - started


def idle(url, standin, replies):
    figures, floors = [], []
    people = random.Random(5).sample(range(1, PEOPLE + 1), IDLE_PROBES)
    for n in people:
        phone, request = replies.build(phone=mobile(n), body="Y 15")
        started, _ = post(url, request)
        replies.mark(phone, started)
        wait_answered(standin, replies, [phone], time.monotonic() + 10)
        figures += latencies(standin, replies, [(phone, started)])
        # The floor, between probes: a webhook POST (an unknown number) + a provider request.
        floor_phone, floor_request = replies.build(phone=f"+4479111{n:05d}", body="floor")
        floor_at, webhook = post(url, floor_request)
        replies.mark(floor_phone, floor_at)
        floors.append(webhook + provider_request(standin.base_url))
        wait_answered(standin, replies, [floor_phone], time.monotonic() + 10)
        time.sleep(0.3)
    return figures, floors


def descendants(pid) -> list[int]:
    from bench.webhook_load import children

    found, todo = [], [pid]
    while todo:
        kids = children(todo.pop())
        found += kids
        todo += kids
    return found


def cpu_by_part(processes, database_url) -> dict[str, float]:
    """CPU seconds so far of each part: web, queue, clock, PostgreSQL, this process."""
    from bench.webhook_load import cpu_seconds, database_backends

    web, queue, clock = processes
    return {
        "gunicorn": cpu_seconds(descendants(web.pid)),
        "qcluster": cpu_seconds([queue.pid, *descendants(queue.pid)]),
        "escalator": cpu_seconds([clock.pid]),
        "PostgreSQL": cpu_seconds(database_backends(database_url)),
        "stand-in + load generator": cpu_seconds([os.getpid()]),
    }


def storm(url, standin, replies, rate, seconds):
    from bench import loadgen

    built = [replies.build() for _ in range(int(rate * seconds))]
    result = loadgen.run(url, [r for _, r in built], rate=rate, connections=32)
    due = []
    for i, (phone, _) in enumerate(built):
        at = result.started + i / rate
        replies.mark(phone, at)
        due.append((phone, at))
    phones = {p for p, _ in due}
    drained = wait_answered(standin, replies, phones, time.monotonic() + 120)
    return result, latencies(standin, replies, due), drained


def burst(url, standin, replies, count):
    from bench import loadgen

    built = [replies.build() for _ in range(count)]
    began = time.monotonic()
    result = loadgen.run(url, [r for _, r in built], rate=5000, connections=32)
    for phone, _ in built:
        replies.mark(phone, began)
    phones = {p for p, _ in built}
    wait_answered(standin, replies, phones, time.monotonic() + 60)
    got = answers_by_phone(standin)
    last = 0.0
    for phone in phones:
        answers = got.get(phone, [])
        if len(answers) < len(replies.sent[phone]):
            return result, float("inf"), result.seconds
        last = max(last, answers[len(replies.sent[phone]) - 1])
    return result, last - began, result.seconds


def exactly_once(standin, replies, database_url):
    import psycopg

    got = answers_by_phone(standin)
    twice = sum(max(0, len(got.get(p, [])) - len(d)) for p, d in replies.sent.items())
    lost = sum(max(0, len(d) - len(got.get(p, []))) for p, d in replies.sent.items())
    with psycopg.connect(database_url) as conn:
        unhandled = conn.execute(
            "SELECT count(*) FROM callouts_message WHERE direction = 'in' AND status = 'received'"
        ).fetchone()[0]
    return twice, lost, unhandled


def start(python, args, server):
    return subprocess.Popen(
        [python, *args],
        cwd=ROOT,
        env=server,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def main():
    from bench.callout_speed import stop
    from bench.twilio_standin import StandIn
    from bench.webhook_load import free_port, recreate_database, wait_until_up

    database_url = env(
        "BENCH_REPLIES_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/standby_bench_replies"
    )
    rate = int(env("BENCH_REPLY_RATE", "100"))
    seconds = float(env("BENCH_REPLY_SECONDS", "60"))
    count = int(env("BENCH_BURST", "1000"))
    python = sys.executable
    try:
        recreate_database(database_url)
    except Exception as error:
        print(f"  skipped: cannot reach PostgreSQL for {database_url} ({error})")
        return
    with StandIn(delay=0.2) as standin:
        server = server_env(database_url, standin.base_url)
        for args in (["migrate", "--no-input", "-v", "0"], ["collectstatic", "--no-input", "-v0"]):
            subprocess.run([python, "manage.py", *args], cwd=ROOT, env=server, check=True)
        subprocess.run(
            [python, "-m", "bench.reply_speed", "seed"], cwd=ROOT, env=server, check=True
        )
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        processes = [
            start(
                python,
                ["-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}",
                 "--workers", "3", "--threads", "2", "--worker-class", "gthread",
                 "--keep-alive", "10", "--log-level", "warning"],
                server,
            ),
            start(python, ["manage.py", "qcluster"], server),
            start(python, ["manage.py", "escalator"], server),
        ]  # fmt: skip
        replies = Replies()
        try:
            wait_until_up(url)
            time.sleep(3)  # the cluster's workers start their sending threads
            warm = [replies.build() for _ in range(40)]
            for phone, request in warm:
                at, _ = post(url, request)
                replies.mark(phone, at)
            wait_answered(standin, replies, {p for p, _ in warm}, time.monotonic() + 30)
            load = os.getloadavg()[0]
            idle_figures, floors = idle(url, standin, replies)
            cpu_before, wall = cpu_by_part(processes, database_url), time.monotonic()
            storm_result, storm_figures, drained = storm(url, standin, replies, rate, seconds)
            cpu_after, wall = cpu_by_part(processes, database_url), time.monotonic() - wall
            time.sleep(2)
            burst_result, burst_seconds, burst_sending = burst(url, standin, replies, count)
            time.sleep(2)
            twice, lost, unhandled = exactly_once(standin, replies, database_url)
            load_after = os.getloadavg()[0]
        finally:
            for process in processes:
                stop(process)
    floor = statistics.median(floors)
    print(
        f"reply -> answer SMS at the provider (stand-in 200 ms); load average {load:.2f} before, "
        f"{load_after:.2f} after, {os.cpu_count()} cores"
    )
    print(
        f"  idle, {len(idle_figures)} replies one at a time: p50 "
        f"{statistics.median(idle_figures):.2f}s, p95 {pct(idle_figures, 95):.2f}s, max "
        f"{max(idle_figures):.2f}s (target p95 <= {TARGET_IDLE_P95}s: "
        f"{'OK' if pct(idle_figures, 95) <= TARGET_IDLE_P95 else 'MISSED'}); floor (a webhook "
        f"POST + a provider request) {floor:.2f}s"
    )
    achieved = storm_result.sent / storm_result.seconds if storm_result.seconds else 0
    print(
        f"  storm, {rate}/s for {seconds:.0f}s ({storm_result.sent} replies, offered at "
        f"{achieved:.0f}/s, webhook p50 {storm_result.percentile(50) * 1000:.0f} ms, p99 "
        f"{storm_result.percentile(99) * 1000:.0f} ms, {storm_result.failed} failed): answer p50 "
        f"{statistics.median(storm_figures):.2f}s, p95 {pct(storm_figures, 95):.2f}s, max "
        f"{max(storm_figures):.2f}s (target p95 <= {TARGET_STORM_P95}s: "
        f"{'OK' if pct(storm_figures, 95) <= TARGET_STORM_P95 and drained else 'MISSED'}); "
        f"floor {floor:.2f}s"
    )
    print(
        f"  burst of {count} replies (sent in {burst_sending:.1f}s, {burst_result.failed} failed): "
        f"all answered {burst_seconds:.1f}s after the first (target <= {TARGET_BURST:.0f}s: "
        f"{'OK' if burst_seconds <= TARGET_BURST else 'MISSED'}); floor {floor:.2f}s"
    )
    spent = {k: cpu_after[k] - cpu_before[k] for k in cpu_after}
    per = storm_result.sent or 1
    print(
        "  where the CPU went during the storm, per reply: "
        + ", ".join(f"{k} {v / per * 1000:.1f} ms" for k, v in spent.items())
        + f"; {sum(spent.values()) / wall * 100:.0f}% of one core over {wall:.0f}s "
        f"(2 cores = 200%)"
    )
    total = sum(len(d) for d in replies.sent.values())
    print(
        f"  exactly once over {total} replies: {twice} answered twice, {lost} not answered, "
        f"{unhandled} left unhandled ({'OK' if not (twice or lost or unhandled) else 'MISSED'})",
        flush=True,
    )


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    if sys.argv[1:] == ["seed"]:
        seed()
    else:
        main()
