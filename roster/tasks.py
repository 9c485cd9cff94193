"""Background jobs for the rota (django-q2). Thin and idempotent: safe to run twice."""

from roster import services

SCHEDULE_NAME = "roster: queue reminders"


def queue_reminders(now=None) -> int:
    """Add every reminder now due to the outbox (every 15 minutes); returns how many were new."""
    return services.queue_reminders(now)


def ensure_schedule():
    """Run queue_reminders every 15 minutes under django-q2's scheduler (idempotent)."""
    from django_q.models import Schedule

    Schedule.objects.update_or_create(
        name=SCHEDULE_NAME,
        defaults={
            "func": "roster.tasks.queue_reminders",
            "schedule_type": Schedule.MINUTES,
            "minutes": 15,
        },
    )
