"""Is the machinery alive? Heartbeats, what a monitor sees (/healthz/), and the alert when
the escalator clock or the queue has stopped.

The escalator beats every few seconds. The queue workers watch its beat; the escalator
watches the queue (a due message or reply left waiting). Whoever sees the other stopped
texts the coordinators itself, sending from its own process (sending.send_many, not a
queued task), so that the alert does not depend on what has stopped. Once per
ALERT_EVERY while the problem lasts; the dashboard says so on every page meanwhile.
"""

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import close_old_connections, connection
from django.db.models import Min, Q
from django.utils import timezone

from cadre.models import Negotiator
from callouts.messaging import health, outbox, sending
from callouts.models import Channel, Heartbeat, Message, ProviderHealth

log = logging.getLogger("callouts.watch")
ESCALATOR = "escalator"
STALE = timedelta(seconds=60)
ALERT_EVERY = timedelta(minutes=30)
WATCH_SECONDS = 30


@dataclass(frozen=True)
class Health:
    database: bool
    escalator_seen: datetime | None = None
    oldest_waiting: datetime | None = None
    # The provider's health row while it is failing (the banner shows its last error).
    provider_failing: ProviderHealth | None = None


def problems(state: Health, now: datetime) -> dict[str, str]:
    """What is wrong, by what stopped: pure, for the page, /healthz/ and the alerts."""
    if not state.database:
        return {"database": "the database cannot be reached"}
    found = {}
    if state.escalator_seen is None or now - state.escalator_seen > STALE:
        since = f"since {state.escalator_seen:%H:%M:%S} UTC" if state.escalator_seen else "ever"
        found["escalator"] = f"the escalator clock has not ticked {since}: steps will not fire"
    if state.oldest_waiting is not None and now - state.oldest_waiting > STALE:
        waited = int((now - state.oldest_waiting).total_seconds())
        found["queue"] = f"the queue is not draining: a message has waited {waited} s"
    return found


def beat(now=None):
    Heartbeat.objects.update_or_create(name=ESCALATOR, defaults={"at": now or timezone.now()})


def check(now=None) -> Health:
    now = now or timezone.now()
    try:
        seen = Heartbeat.objects.filter(name=ESCALATOR).values_list("at", flat=True).first()
        due = Q(direction=Message.Direction.OUT, status=Message.Status.PENDING) | Q(
            direction=Message.Direction.IN, status=Message.Status.RECEIVED
        )
        oldest = Message.objects.filter(due, next_attempt_at__lte=now).aggregate(
            at=Min("next_attempt_at")
        )["at"]
        failing = health.current()
    except Exception:
        log.exception("health check could not read the database")
        return Health(database=False)
    return Health(
        database=True,
        escalator_seen=seen,
        oldest_waiting=oldest,
        provider_failing=failing,
    )


def watch_queue():
    """Clock job: beat, and text the coordinators if the queue has stopped draining."""
    now = timezone.now()
    beat(now)
    found = problems(check(now), now)
    _alert_once("queue", found.get("queue"), now)


def watch_escalator(now=None):
    """Queue workers' watch: text the coordinators if the escalator clock has stopped."""
    now = now or timezone.now()
    found = problems(check(now), now)
    _alert_once("escalator", found.get("escalator"), now)


def _alert_once(what: str, problem: str | None, now) -> bool:
    name = f"alert:{what}"
    row, _ = Heartbeat.objects.get_or_create(name=name, defaults={"at": now})
    if problem is None:
        if row.alerted_at is not None:
            Heartbeat.objects.filter(pk=row.pk).update(alerted_at=None, at=now)
            log.warning("%s is working again", what)
        return False
    # One winner among the workers that noticed: the update is the lock.
    won = (
        Heartbeat.objects.filter(pk=row.pk)
        .filter(Q(alerted_at__isnull=True) | Q(alerted_at__lt=now - ALERT_EVERY))
        .update(alerted_at=now, at=now)
    )
    if not won:
        return False
    log.error("Standby: %s", problem)
    ids = [
        m.pk
        for m in (
            outbox.create(
                channel=Channel.SMS,
                purpose=Message.Purpose.ALERT,
                negotiator=person,
                to_number=person.mobile,
                body=f"STANDBY SYSTEM ALERT: {problem}. Call out by phone until fixed.",
            )
            for person in coordinators()
        )
        if m is not None
    ]
    sending.send_many(ids)  # here and now: not through the queue, which may be what stopped
    return True


def coordinators() -> list[Negotiator]:
    """Everyone who can act on it: active coordinators with a mobile, in every force."""
    return list(Negotiator.objects.filter(is_coordinator=True, active=True).exclude(mobile=""))


def start_watching_escalator(**_):
    """Worker start hook: a thread that watches the escalator from inside a queue worker."""
    stop = threading.Event()

    def run():
        while not stop.wait(WATCH_SECONDS):
            try:
                close_old_connections()
                watch_escalator()
            except Exception:
                log.exception("watching the escalator failed; trying again")
            finally:
                connection.close()

    threading.Thread(target=run, name="watch-escalator", daemon=True).start()
    return stop
