"""The escalator clock: one tick fires due steps and picks up due sends.

django-q2's scheduler looks at its schedules about every 30 seconds, so a step
due at 12:03:00 could fire at 12:03:29. The clock instead looks at the database
every quarter second: Incident.next_step_at says when each live incident's next
step is due, Message.next_attempt_at when a send is due (a retry after backoff,
a queued send that no worker started, a SENDING whose outcome was lost) or when
an inbound SMS is due for handling (the webhook only takes it in); a status callback
the webhook kept but could not apply waits in StatusCallback. All
state is in the database, so a restarted clock carries on where it left off.
Firing a step is a short transaction done here; sending goes to the queue.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db.models import Case, Value, When
from django.utils import timezone

from callouts import tasks
from callouts.engine import inbound, steps, unfilled
from callouts.messaging import outbox, status
from callouts.models import Incident, Message

log = logging.getLogger(__name__)
BATCH = 200


P = Message.Purpose
# After an outage, what is waiting goes in this order: people told to stand down first
# (they may be driving to a scene that no longer needs them), then answers to replies.
PRIORITY = Case(
    When(purpose=P.STAND_DOWN, then=Value(0)),
    When(purpose=P.REPLY, then=Value(1)),
    When(purpose=P.CALLOUT, then=Value(2)),
    When(purpose=P.UNFILLED, then=Value(3)),
    When(purpose=P.ALERT, then=Value(3)),
    default=Value(4),
)


def due_incidents(now):
    return list(
        Incident.objects.filter(status=Incident.Status.CALLING, next_step_at__lte=now)
        .order_by("next_step_at")
        .values_list("pk", flat=True)[:BATCH]
    )


def _claim(queryset, now, hold: timedelta) -> list[int]:
    """Take due messages for this tick by moving their next_attempt_at on (one winner each).

    If the task we queue for them is lost, they fall due again after `hold`.
    """
    ids = list(queryset.values_list("pk", flat=True)[:BATCH])
    if not ids:
        return []
    unordered = queryset.order_by()
    return [pk for pk in ids if unordered.filter(pk=pk).update(next_attempt_at=now + hold) == 1]


def workers() -> int:
    return max(1, int(settings.Q_CLUSTER.get("workers") or 1))


# A reply due this long and taken by nobody is handed to the queue even while every worker
# seems to have a task: the tasks counted may be a SIGKILLed cluster's, locked in the
# database broker until django-q2's retry (90 s), and no running task is pulling (soak 3
# in CI: replies waited 60 s and more after a whole cluster was killed).
REPLIES_WAIT_AT_MOST = timedelta(seconds=2)


def dispatch_replies(now=None) -> int:
    """Hand waiting replies to the queue: run on every tick, and at once when the webhook
    takes one in (config.jobs.ON_WAKE, PostgreSQL NOTIFY).

    Spread over the workers (a few replies become that many tasks, handled side by
    side), at most CALLOUTS_REPLY_CHUNK a task, and no more than two chunks per worker in hand
    at once: the rest stay in the database, oldest first, where the reply tasks take
    them themselves as they finish (inbound.handle_many), instead of piling up in the
    queue to be re-queued after the grace. Nor is a task queued while every worker has
    one: a reply task that is running pulls what waits, and in a storm a task queued for
    each wake-up only waited behind them, to find its replies handled already (measured:
    2,500 such tasks left in the queue after 4,000 replies, each costing the clock, the
    queue and a worker).
    """
    now = now or timezone.now()
    count = workers()
    if tasks.unfinished() >= count and not inbound.replies_waiting(now - REPLIES_WAIT_AT_MOST):
        return 0
    room = 2 * count * inbound.reply_chunk() - inbound.replies_in_hand(now)
    replies = inbound.claim_replies(now, min(room, BATCH))
    if not replies:
        return 0
    chunk = min(inbound.reply_chunk(), -(-len(replies) // count))
    for start in range(0, len(replies), chunk):
        tasks.handle_replies_now(replies[start : start + chunk])
    return len(replies)


def tick(now=None) -> dict:
    now = now or timezone.now()
    fired = 0
    for pk in due_incidents(now):
        try:
            result = steps.fire(pk, now=now)
        except Exception:
            # One incident's failure must not hold up the others' steps.
            log.exception("firing the next step of incident %s failed", pk)
            continue
        if result is not None:
            fired += 1
            if result.message_ids:
                tasks.enqueue_send(result.message_ids)
    told = 0
    for pk in unfilled.due(now):
        try:
            told += bool(unfilled.check(pk, now))
        except Exception:
            log.exception("telling a human that incident %s is not filling failed", pk)
    out = Message.objects.filter(direction=Message.Direction.OUT, next_attempt_at__lte=now)
    pending = out.filter(status=Message.Status.PENDING).order_by(PRIORITY, "pk")
    to_send = _claim(pending, now, outbox.dispatch_grace())
    if to_send:
        tasks.send_now(to_send)
    unsure = out.filter(status__in=[Message.Status.SENDING, Message.Status.UNKNOWN])
    lost = _claim(unsure.order_by("pk"), now, outbox.dispatch_grace())
    if lost:
        tasks.reconcile_now(lost)
    callbacks = status.claim_due(now, BATCH)
    if callbacks:
        tasks.apply_statuses_now(callbacks)
    return {
        "fired": fired,
        "told": told,
        "sends": len(to_send),
        "reconciled": len(lost),
        "replies": dispatch_replies(now),
        "statuses": len(callbacks),
    }
