"""Background jobs for the rota (django-q2). Thin and idempotent: safe to run twice."""

from datetime import timedelta

from django.contrib.auth.models import User
from django.db.models import Q
from django.utils import timezone

from cadre.access import COORDINATOR
from cadre.queries import home_force
from cadre.rules import local_date
from roster import queries, rules
from roster.models import Reminder, Rota
from roster.rules import reminders

SCHEDULE_NAME = "roster: queue reminders"


def coordinators_of(rota) -> list[int]:
    """Coordinator logins for this force (or, with no negotiator record, the home force)."""
    users = User.objects.filter(is_active=True, groups__name=COORDINATOR)
    mine = Q(negotiator__force=rota.force_id)
    home = home_force()
    if home is not None and home.pk == rota.force_id:
        mine |= Q(negotiator__isnull=True)
    return list(users.filter(mine).distinct().values_list("pk", flat=True))


def queue_reminders(now=None) -> int:
    """Add every reminder now due to the outbox; returns how many were new.

    The unique dedupe key makes a second run add nothing. A pending start
    reminder whose shifts have gone (removed, swapped) is cancelled.
    """
    now = now or timezone.now()
    added = 0
    for rota in Rota.objects.select_related("force"):
        data = queries.load(rota, now - timedelta(days=2), now + reminders.GAP_HORIZON)
        live = [s for s in data.spans if s.end > now]
        due = reminders.shift_starts(live, now)
        # From yesterday's local midnight, not from `now`: an ongoing gap then keeps the same
        # start (and dedupe key) from one run to the next, so it is repeated at most daily.
        since = rules.local_midnight(local_date(now) - timedelta(days=1))
        gaps = data.coverage(since, now + reminders.GAP_HORIZON).gaps
        due += reminders.gap_alerts(gaps, coordinators_of(rota), rota.pk, now)
        keys = {d.key for d in due}
        existing = set(
            Reminder.objects.filter(dedupe_key__in=keys).values_list("dedupe_key", flat=True)
        )
        new = [
            Reminder(
                kind=d.kind,
                negotiator_id=d.negotiator_id,
                user_id=d.user_id,
                body=d.body,
                due_at=d.due_at,
                dedupe_key=d.key,
            )
            for d in due
            if d.key not in existing
        ]
        Reminder.objects.bulk_create(new, ignore_conflicts=True)
        added += len(new)
        Reminder.objects.filter(
            kind=Reminder.Kind.SHIFT_START,
            negotiator__force=rota.force_id,
            sent_at__isnull=True,
            cancelled_at__isnull=True,
            due_at__gt=now,
        ).exclude(dedupe_key__in=keys).update(cancelled_at=now)
    return added


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
