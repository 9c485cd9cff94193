"""Stand-downs during a storm of Twilio's status callbacks (8).

Each round raises an incident that asks the whole force at once by SMS and voice (60
messages), and stands it down from the API twice at the same moment (two coordinators)
as soon as the provider has taken some of them: their "sent"/"delivered" and
"initiated"/"ringing" callbacks are then arriving in the same moments, posted signed by
Twilio's side here for every SMS and call the stand-in takes. Judged on: every
stand-down answered 200 and every incident ending stood down; every callback answered
2xx, and applied (its message's status is the callback's or one after it); nothing
left kept and not applied.
"""

import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from soak.processes import wait_for
from soak.report import env_float
from soak.scenarios import finish
from soak.stack import Stack

POLICY = "Soak everyone"  # soak/seed.py: the whole force at once, SMS and voice
FINAL = {"delivered", "undelivered", "failed", "cancelled", "completed", "busy", "no-answer"}
# The Message status a callback sets (callouts.messaging.status.PROVIDER) ...
SETS = {"sent": "sent", "delivered": "delivered", "initiated": "sent", "ringing": "ringing"}
# ... and the statuses that say it was applied: its own, or one after it (the stand-down
# cancels a ringing call at the provider; a late "sent" after "delivered" is ignored).
APPLIED = {
    "sent": {"sent", "ringing", "in-progress"} | FINAL,
    "ringing": {"ringing", "in-progress"} | FINAL,
    "delivered": FINAL,
}
CALLBACKS = {"sms": ("sent", "delivered"), "voice": ("initiated", "ringing")}
ACCOUNT = "AC" + "0" * 32


class Callbacks:
    """Twilio's side: for every SMS and call the stand-in takes, its status callbacks, posted
    at once (a thread watching the stand-in, a pool posting them side by side)."""

    def __init__(self, stack, threads=16):
        self.stack = stack
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="soak-status")
        self.lock = threading.Lock()
        self.posted = []  # (message id, callback status, Request)
        self.seen = set()
        self.futures = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def _watch(self):
        while not self.stopping.is_set():
            self._post_new()
            time.sleep(0.01)
        self._post_new()

    def _post_new(self):
        standin = self.stack.standin
        with standin.lock:
            taken = [("sms", m) for m in standin.messages] + [("voice", c) for c in standin.calls]
        for channel, record in taken:
            if record["sid"] in self.seen or not record.get("status_callback"):
                continue
            self.seen.add(record["sid"])
            for value in CALLBACKS[channel]:
                self.futures.append(self.pool.submit(self._post, channel, record, value))

    def _post(self, channel, record, value):
        sid_field, status_field = (
            ("MessageSid", "MessageStatus") if channel == "sms" else ("CallSid", "CallStatus")
        )
        params = {sid_field: record["sid"], status_field: value, "AccountSid": ACCOUNT}
        request = self.stack.web.status_callback(record["status_callback"], params)
        with self.lock:
            self.posted.append((record["message_id"], value, request))

    def stop(self):
        self.stopping.set()
        self.thread.join(10)
        for future in list(self.futures):
            future.result()
        self.pool.shutdown(wait=True)


def stand_downs_in_a_callback_storm(ctx):
    rounds = int(env_float("SOAK_LOCK_ROUNDS", 10))
    clock, result = ctx.clock, ctx.result
    with Stack("s8", ctx.server, ctx.token) as stack:
        callbacks = Callbacks(stack).start()
        clock.t0 = time.monotonic()
        incidents, stand_downs = [], []
        for _ in range(rounds):
            incident = stack.web.raise_incident({"negotiator": 2}, policy=POLICY)
            incidents.append(incident)
            ids = set()

            def taken_enough(incident=incident, ids=ids):
                if not ids:
                    ids.update(
                        pk
                        for (pk,) in stack.sql(
                            "SELECT id FROM callouts_message WHERE incident_id = %s",
                            (incident["id"],),
                        )
                    )
                taken = stack.standin.accepted() + list(stack.standin.calls)
                return sum(1 for m in taken if m["message_id"] in ids) >= 20

            wait_for(taken_enough, 15, every=0.02)
            stand_downs += _stand_down_twice_at_once(stack, incident["id"])
        clock.log(f"{rounds} incidents raised and stood down; callbacks still arriving")
        time.sleep(2)  # the last round's calls and SMS: taken, their callbacks posted
        callbacks.stop()
        ended = time.monotonic()
        clock.log(f"{len(callbacks.posted)} status callbacks posted")
        # Before `finish`, which stands each down again (retrying) for the ledger.
        statuses = dict(
            stack.sql(
                "SELECT id, status FROM callouts_incident WHERE id = ANY(%s)",
                ([i["id"] for i in incidents],),
            )
        )
        finish(stack, clock, result, incidents, ended, ctx.settle_s)
        kept = "SELECT count(*) FROM callouts_statuscallback"
        wait_for(lambda: stack.sql(kept)[0][0] == 0, 30)
        _judge(stack, result, statuses, stand_downs, callbacks.posted, stack.sql(kept)[0][0])


def _stand_down_twice_at_once(stack, incident_id):
    """Two coordinators press stand-down in the same moment: each answer, once (no retry)."""
    answers = []
    start = threading.Barrier(2)

    def press():
        start.wait(10)
        began = time.monotonic()
        status, _ = stack.web.api("POST", f"/incidents/{incident_id}/stand-down/")
        answers.append((status, time.monotonic() - began))

    threads = [threading.Thread(target=press) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return answers


def _judge(stack, result, statuses, stand_downs, posted, kept):
    """`statuses`: each incident's status once its stand-downs had answered."""
    refused = [status for status, _ in stand_downs if status != 200]
    slowest = max((seconds for _, seconds in stand_downs), default=0.0)
    live = [pk for pk, status in statuses.items() if status != "stood_down"]
    result.notes.append(
        f"stand-downs: {len(stand_downs)} for {len(statuses)} incidents, "
        f"{len(stand_downs) - len(refused)} answered 200 (slowest {slowest * 1000:.0f} ms); "
        f"{len(statuses) - len(live)} incidents stood down"
    )
    if refused:
        result.problems.append(f"{len(refused)} stand-downs answered {sorted(set(refused))}")
    if live:
        result.problems.append(f"{len(live)} incidents not stood down: {live[:5]}")
    messages = dict(
        stack.sql(
            "SELECT id, status FROM callouts_message WHERE id = ANY(%s)",
            (list({pk for pk, _, _ in posted if pk}),),
        )
    )
    failed = [r for _, _, r in posted if r.status is None or not 200 <= r.status < 300]
    not_applied = [
        (pk, value, messages.get(pk))
        for pk, value, _ in posted
        if messages.get(pk) not in APPLIED[SETS[value]]
    ]
    times = sorted(r.seconds for _, _, r in posted)
    if times:
        p95 = times[int(0.95 * (len(times) - 1))]
        result.notes.append(
            f"status callbacks: {len(posted)}, {len(posted) - len(failed)} answered 2xx, "
            f"{len(posted) - len(not_applied)} applied, {kept} kept and not applied; "
            f"median {statistics.median(times) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
            f"max {times[-1] * 1000:.0f} ms"
        )
    if failed:
        codes = sorted({r.status for r in failed}, key=str)
        result.problems.append(f"{len(failed)} status callbacks answered {codes}")
    if not_applied:
        result.problems.append(
            f"{len(not_applied)} status callbacks not applied, e.g. {not_applied[:3]}"
        )
    if kept:
        result.problems.append(f"{kept} status callbacks kept and never applied")
