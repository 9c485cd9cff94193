"""Every background task of callouts, named here and nowhere else.

This module is the bottom of the house: it imports nothing from the app, so any
module may queue work without an import circle. Each task is the dotted path of
the plain function that does the work (django-q2 imports it in the worker);
those functions are idempotent, since django-q2 delivers at least once.

Work for a transaction's data is queued on commit, so that a task never runs
against data that was rolled back, nor before the data it needs is visible.
The escalator clock (config/jobs.py) queues its finds directly.
"""

from django.db import transaction
from django_q.brokers import get_broker
from django_q.tasks import async_task

FIRE_STEP = "callouts.engine.steps.fire_and_send"
SEND = "callouts.messaging.sending.send_many"
RECONCILE = "callouts.messaging.sending.reconcile_many"
CANCEL_CALLS = "callouts.messaging.sending.cancel_ringing"
HANDLE_REPLIES = "callouts.engine.inbound.handle_many"
DELIVER_REMINDERS = "callouts.messaging.reminders.deliver_due"
APPLY_STATUSES = "callouts.messaging.status.apply_many"

ALL = (FIRE_STEP, SEND, RECONCILE, CANCEL_CALLS, HANDLE_REPLIES, DELIVER_REMINDERS, APPLY_STATUSES)


def enqueue_step(incident_id: int, step_index: int):
    """Fire this step once the transaction commits (the clock fires it if the task is lost)."""
    transaction.on_commit(lambda: async_task(FIRE_STEP, incident_id, step_index, group="steps"))


def enqueue_send(message_ids: list[int]):
    """Send these saved messages once the transaction commits."""
    ids = list(message_ids)
    transaction.on_commit(lambda: send_now(ids))


def enqueue_cancel_calls(incident_id: int, round: int):
    transaction.on_commit(lambda: async_task(CANCEL_CALLS, incident_id, round, group="send"))


def send_now(message_ids: list[int]):
    async_task(SEND, list(message_ids), group="send")


def reconcile_now(message_ids: list[int]):
    async_task(RECONCILE, list(message_ids), group="send")


def handle_replies_now(message_ids: list[int]):
    async_task(HANDLE_REPLIES, list(message_ids), group="inbound")


def apply_statuses_now(callback_ids: list[int]):
    async_task(APPLY_STATUSES, list(callback_ids), group="send")


def deliver_reminders_now():
    async_task(DELIVER_REMINDERS, group="reminders")


_broker = None


def unfinished() -> int:
    """Tasks queued and not yet done: waiting, or taken by a worker (django-q2's broker).

    The Redis broker does not count tasks a cluster has taken and not yet finished.
    """
    global _broker
    if _broker is None:
        _broker = get_broker()
    return (_broker.queue_size() or 0) + (_broker.lock_size() or 0)
