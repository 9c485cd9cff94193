"""Every background task of the rota, named here and nowhere else (config/jobs.py says when).

The task bodies are idempotent: safe to run twice.
"""

from django_q.tasks import async_task

QUEUE_REMINDERS = "roster.services.queue_reminders"


def queue_reminders_now():
    """Fill the reminder outbox in a queue worker (the clock calls this every 15 minutes)."""
    async_task(QUEUE_REMINDERS, by=None, group="reminders")
