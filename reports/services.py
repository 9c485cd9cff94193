"""Every write reports makes, atomic: a welfare follow-up recorded, a force's workload
thresholds, old message texts purged. Bad input raises ValidationError and saves nothing.

Every write takes the acting login as `by=` (keyword, required); the follow-up and the
workload settings record it. `by=None` means the system acts (the demo seeding, the
`purge_history` command)."""

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from callouts.models import Event, Incident, Message
from reports.models import FollowUp, WorkloadSettings


def record_follow_up(deployment, *, outcome, held_at: datetime, note="", by) -> FollowUp:
    """Record a person's welfare follow-up as done or declined; once per deployment."""
    now = timezone.now()
    errors = {}
    if outcome not in FollowUp.Outcome.values:
        errors["outcome"] = "Choose done or declined."
    if not deployment.went or deployment.stood_down_at is None:
        errors["outcome"] = "A follow-up is recorded for someone who went, once stood down."
    if held_at is None:
        errors["held_at"] = "Say when."
    elif held_at > now + timedelta(minutes=5):
        errors["held_at"] = "That is in the future."
    elif deployment.stood_down_at and held_at < deployment.accepted_at:
        errors["held_at"] = "That is before they were deployed."
    note = (note or "").replace("\x00", "").strip()
    if len(note) > 5000:
        errors["note"] = "Keep the note under 5,000 characters."
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            return FollowUp.objects.create(
                deployment=deployment,
                outcome=outcome,
                held_at=held_at,
                note=note,
                recorded_by=by if getattr(by, "is_authenticated", False) else None,
            )
    except IntegrityError:
        raise ValidationError({"outcome": "A follow-up is already recorded for this."}) from None


def save_workload_settings(force, *, max_deployments_30_days, unanswered_in_a_row, by):
    errors = {}
    if not 1 <= max_deployments_30_days <= 99:
        errors["max_deployments_30_days"] = "Between 1 and 99."
    if not 1 <= unanswered_in_a_row <= 20:
        errors["unanswered_in_a_row"] = "Between 1 and 20."
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        row, _ = WorkloadSettings.objects.select_for_update().get_or_create(force=force)
        row.max_deployments_30_days = max_deployments_30_days
        row.unanswered_in_a_row = unanswered_in_a_row
        row.updated_by = by if getattr(by, "is_authenticated", False) else None
        row.save()
    return row


# Retention ------------------------------------------------------------------------------

# Event kinds whose data may hold what a person wrote or was sent.
TEXT_EVENTS = (Event.Kind.REPLY_RECEIVED, Event.Kind.ALERT)
TEXT_KEYS = ("text", "body", "raw")


def purge_history(cutoff: datetime, *, dry_run=False, batch=2000, by) -> dict:
    """Strip message bodies, raw reply texts and phone numbers from incidents raised before
    `cutoff` (and from messages of no incident created before it). Incidents, callouts,
    deployments, events and every figure stay. Returns what was (or would be) changed.
    `by`: None from `manage.py purge_history` (the system; nothing records who)."""
    old = Incident.objects.filter(raised_at__lt=cutoff)
    messages = Message.objects.filter(
        Q(incident__in=old) | Q(incident__isnull=True, created_at__lt=cutoff)
    ).exclude(body="", to_number="", from_number="")
    events = Event.objects.filter(incident__in=old, kind__in=TEXT_EVENTS)
    found = {"incidents": old.count(), "messages": messages.count(), "events": 0}
    event_ids = [
        pk
        for pk, data in events.values_list("pk", "data").iterator()
        if any(k in (data or {}) for k in TEXT_KEYS)
    ]
    found["events"] = len(event_ids)
    if dry_run:
        return found
    with transaction.atomic():
        messages.update(body="", to_number="", from_number="", error_message="")
        for start in range(0, len(event_ids), batch):
            chunk = list(Event.objects.filter(pk__in=event_ids[start : start + batch]))
            for event in chunk:
                event.data = {k: v for k, v in event.data.items() if k not in TEXT_KEYS} | {
                    "purged": True
                }
            # The log is append-only for the application; retention is the one sanctioned
            # change, made with a queryset update (Event.save refuses it on purpose).
            Event.objects.bulk_update(chunk, ["data"])
    return found
