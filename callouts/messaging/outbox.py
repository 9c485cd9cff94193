"""Outgoing messages are rows first: saved as pending, then handed to the sender after commit.

A unique constraint per (callout, round, step, channel) for callouts and per
(callout, round, channel) for stand-downs means that however often this runs, a person
gets one message of each.
"""

import contextlib
import threading
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from callouts import events, locking, rows, tasks
from callouts.messaging import texts
from callouts.models import Callout, Channel, Message


def dispatch_grace() -> timedelta:
    """How long a queued send may take to start before the escalator clock sends it itself."""
    return timedelta(seconds=getattr(settings, "CALLOUTS_DISPATCH_GRACE", 20))


def new_message(**fields) -> Message:
    """An outgoing message, not yet saved: pending, due for the clock after the grace."""
    fields.setdefault("status", Message.Status.PENDING)
    fields.setdefault("next_attempt_at", timezone.now() + dispatch_grace())
    return Message(direction=Message.Direction.OUT, **fields)


def create(**fields) -> Message | None:
    """Insert one outgoing message, or None when the unique constraints say it exists already."""
    try:
        with transaction.atomic():
            message = new_message(**fields)
            message.save()
    except IntegrityError:
        return None
    events.queued([message])
    return message


def insert(messages: list[Message]) -> list[Message]:
    """Insert many at once; if one already exists, one by one, keeping those that are new.

    Each new message's "queued" event goes into the incident's log in one more statement.
    """
    created = _insert(messages)
    events.queued(created)
    return created


def _insert(messages: list[Message]) -> list[Message]:
    try:
        with transaction.atomic():
            return rows.insert(messages)
    except IntegrityError:
        created = []
        for message in messages:
            try:
                with transaction.atomic():
                    message.pk = None
                    message.save()
                    created.append(message)
            except IntegrityError:
                continue
        return created


_collector = threading.local()


class Collected:
    """What a reply's transaction queued: ids still to claim, and answers created claimed."""

    def __init__(self, lease: timedelta | None):
        self.lease = lease
        self.ids: list[int] = []
        self.claimed: list[Message] = []


@contextlib.contextmanager
def collecting(lease: timedelta | None = None):
    """Messages queued inside are handed to the caller, not to a send task of their own.

    The reply task handles a reply in one transaction and then sends its answer (and
    any stand-downs or alert it caused) from the sending threads itself, together with
    the other replies' answers: no queue hop, no worker blocked per answer. The caller
    sends what was collected only once that transaction has committed, and drops it
    if it raised; a message collected but never sent is sent by the clock after the
    dispatch grace (or, for an answer created claimed, reconciled once its `lease`
    ends), like any send whose task was lost.
    """
    previous = getattr(_collector, "current", None)
    _collector.current = collected = Collected(lease)
    try:
        yield collected
    finally:
        _collector.current = previous


def queue(messages):
    """Send these once the transaction commits (the clock catches any the queue drops)."""
    ids = [m.pk for m in messages if m is not None and m.status == Message.Status.PENDING]
    if not ids:
        return
    collected = getattr(_collector, "current", None)
    if collected is not None:
        collected.ids.extend(ids)
    else:
        tasks.enqueue_send(ids)


def answer(**fields) -> Message:
    """The SMS answering a reply, saved and queued.

    Inside `collecting(lease)` (the reply task, which sends it itself as soon as its
    transaction commits) it is saved already claimed: SENDING with the lease, as the
    claim would leave it, so the claim's own transaction is not needed. No unique
    constraint covers answers, so no savepoint either.
    """
    collected = getattr(_collector, "current", None)
    claimed = collected is not None and collected.lease is not None
    if claimed:
        fields.update(
            status=Message.Status.SENDING,
            attempts=1,
            next_attempt_at=timezone.now() + collected.lease,
        )
    message = new_message(**fields)
    rows.insert([message])
    events.queued([message])
    if claimed:
        collected.claimed.append(message)
    else:
        queue([message])
    return message


def cancel_pending(incident):
    """Callout messages not yet handed to the provider will not be sent.

    Calls already placed but not yet answered are cancelled at the provider by
    a task after commit: nobody's phone should go on ringing for a callout that
    is over.

    The caller holds the incident's lock (and those of any callouts it changes): the
    messages are locked last, in pk order (callouts.locking).
    """
    tasks.enqueue_cancel_calls(incident.pk, incident.round)
    pending = Message.objects.filter(
        incident=incident,
        direction=Message.Direction.OUT,
        purpose=Message.Purpose.CALLOUT,
        status=Message.Status.PENDING,
    )
    ids = locking.in_order(pending)
    if not ids:
        return 0
    return Message.objects.filter(pk__in=ids, status=Message.Status.PENDING).update(
        status=Message.Status.CANCELLED, next_attempt_at=None, status_at=timezone.now()
    )


def stand_down(callouts):
    """Mark these callouts stood down and queue one stand-down SMS each.

    Two statements whatever the number of people: this runs while the reply that
    fills an incident holds the incident's lock. The caller has locked these callouts
    already, in pk order (callouts.locking): the update takes no lock of its own.
    """
    now = timezone.now()
    Callout.objects.filter(pk__in=[c.pk for c in callouts]).update(
        state=Callout.State.STOOD_DOWN, stood_down_at=now
    )
    for callout in callouts:
        callout.state, callout.stood_down_at = Callout.State.STOOD_DOWN, now
    created = insert(
        [
            new_message(
                channel=Channel.SMS,
                purpose=Message.Purpose.STAND_DOWN,
                incident=callout.incident,
                round=callout.incident.round,
                callout=callout,
                negotiator=callout.negotiator,
                to_number=callout.negotiator.mobile,
                body=texts.stand_down_sms(callout.incident),
            )
            for callout in callouts
            if not callout.sms_unreachable
        ]
    )
    queue(created)
    return created


def alert(incident, negotiator, body, step=None):
    """An SMS to a coordinator or supervisor about the incident."""
    return create(
        channel=Channel.SMS,
        purpose=Message.Purpose.ALERT,
        incident=incident,
        negotiator=negotiator,
        step=step,
        to_number=negotiator.mobile,
        body=body,
    )


def record_alert(incident, body):
    """An alert with nobody to text: kept so that the board shows it."""
    return Message.objects.create(
        direction=Message.Direction.OUT,
        channel=Channel.SMS,
        purpose=Message.Purpose.ALERT,
        incident=incident,
        to_number="",
        body=body,
        status=Message.Status.CANCELLED,
        error_message="Nobody to text: shown on the board only.",
    )
