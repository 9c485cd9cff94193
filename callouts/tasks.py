"""django-q2 tasks: thin and idempotent. Each locks, checks the state, acts once.

Enqueued with transaction.on_commit so that a task never runs against data that
was rolled back, nor before the data it needs is visible.
"""

from django.db import transaction
from django_q.tasks import async_task


def enqueue_step(incident_id: int, step_index: int):
    transaction.on_commit(
        lambda: async_task("callouts.tasks.fire_step", incident_id, step_index, group="steps")
    )


def enqueue_send(message_ids: list[int]):
    ids = list(message_ids)
    transaction.on_commit(lambda: async_task("callouts.tasks.send_messages", ids, group="send"))


def handle_inbound_many(message_ids: list[int]):
    """Understand, record and answer these inbound SMS (and any earlier from the same phones)."""
    from callouts.engine import inbound

    return sum(inbound.handle(pk) for pk in message_ids)


def enqueue_cancel_calls(incident_id: int, round: int):
    transaction.on_commit(
        lambda: async_task("callouts.tasks.cancel_calls", incident_id, round, group="send")
    )


def cancel_calls(incident_id: int, round: int):
    from callouts.messaging import sending

    return sending.cancel_ringing(incident_id, round)


def fire_step(incident_id: int, step_index: int | None = None):
    """Fire a due step, then send its messages from this worker, side by side."""
    from callouts.engine import steps
    from callouts.messaging import sending

    fired = steps.fire(incident_id, step_index)
    if fired is None:
        return None
    sending.send_many(fired.message_ids)
    return fired.decision.action


def reconcile_messages(message_ids: list[int]):
    from callouts.messaging import sending

    return sum(bool(sending.reconcile(pk)) for pk in message_ids)


def send_messages(message_ids: list[int]):
    from callouts.messaging import sending

    return sending.send_many(message_ids)


def deliver_reminders():
    from callouts.messaging import reminders

    return reminders.deliver_due()
