"""Roster's reminder outbox (roster.models.Reminder) delivered through our gateway.

Each due reminder becomes one Message row under a lock on the reminder, and
Reminder.sent_at is set in the same transaction, so a reminder is queued once
however many ticks or workers look at it; the Message then goes out like any other.
"""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from cadre.queries import negotiator_for
from callouts.messaging import outbox, sending
from callouts.models import Channel, Message
from roster.models import Reminder

BATCH = 100


# A reminder this late (delivery was down) would only confuse: it is closed instead.
TOO_LATE = timedelta(hours=12)


def due(now):
    return Reminder.objects.due(now).order_by("due_at", "pk")


def deliver_due(now=None) -> int:
    now = now or timezone.now()
    ids = []
    for pk in due(now).values_list("pk", flat=True)[:BATCH]:
        message = _queue_one(pk, now)
        if message is not None:
            ids.append(message.pk)
    return sending.send_many(ids)


def _queue_one(pk, now) -> Message | None:
    with transaction.atomic():
        reminder = (
            Reminder.objects.select_for_update(of=("self",))
            .select_related("negotiator", "user")
            .filter(pk=pk, sent_at__isnull=True, cancelled_at__isnull=True)
            .first()
        )
        if reminder is None:
            return None
        mobile = reminder.mobile()
        person = reminder.negotiator or negotiator_for(reminder.user)
        stopped = person is not None and person.texts_stopped
        if not mobile or stopped or reminder.due_at < now - TOO_LATE:
            # Nobody to text, texts stopped (they sent STOP: the provider would refuse it),
            # or far too late: closed rather than tried for ever.
            reminder.cancelled_at = now
            reminder.save(update_fields=["cancelled_at"])
            return None
        message = outbox.create(
            channel=Channel.SMS,
            purpose=Message.Purpose.REMINDER,
            negotiator=person,
            to_number=mobile,
            body=reminder.body,
        )
        reminder.sent_at = now
        reminder.save(update_fields=["sent_at"])
        return message
