import secrets
from datetime import time

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from cadre.models import Force, Negotiator, Role
from cadre.queries import negotiator_for

# Unless a force sets its own: two negotiators and a coordinator on call at all times.
DEFAULT_MINIMUM = {Role.NEGOTIATOR: 2, Role.COORDINATOR: 1, Role.ADVISER: 0}


class Rota(models.Model):
    force = models.OneToOneField(Force, on_delete=models.CASCADE, related_name="rota")
    # Welfare limit: longer unbroken runs on call are flagged as a conflict.
    max_consecutive_days = models.PositiveSmallIntegerField(default=7)

    def __str__(self):
        return f"{self.force} rota"

    def minimums(self) -> dict[str, int]:
        """Minimum on call per role, every role present (the default where no rule is set)."""
        result = {str(role): n for role, n in DEFAULT_MINIMUM.items()}
        for rule in self.coverage_rules.all():
            result[rule.role] = rule.minimum
        return result


class CoverageRule(models.Model):
    rota = models.ForeignKey(Rota, on_delete=models.CASCADE, related_name="coverage_rules")
    role = models.CharField(max_length=20, choices=Role.choices)
    minimum = models.PositiveSmallIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["rota", "role"], name="one_coverage_rule_per_role")
        ]

    def __str__(self):
        return f"{self.rota}: {self.minimum} {self.role}"


class RotationPattern(models.Model):
    class Length(models.TextChoices):
        DAY = "day", "A day"
        WEEK = "week", "A week"

    rota = models.ForeignKey(Rota, on_delete=models.CASCADE, related_name="patterns")
    name = models.CharField(max_length=80)
    role = models.CharField(max_length=20, choices=Role.choices)
    length = models.CharField(max_length=10, choices=Length.choices, default=Length.WEEK)
    # Monday=0; used for weekly patterns only.
    handover_weekday = models.PositiveSmallIntegerField(default=0)
    handover_time = models.TimeField(default=time(8, 0))
    on_at_once = models.PositiveSmallIntegerField(default=1)
    # The first slot starts on this day: the order counts from here.
    starts_on = models.DateField()
    # Negotiator ids in rotation order.
    order = models.JSONField(default=list)
    # Ended by a coordinator: its upcoming shifts were removed and it is no longer offered.
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["role", "name"]

    def __str__(self):
        return self.name


class ShiftQuerySet(models.QuerySet):
    def live(self):
        """Shifts in force now: not replaced by a cover, a swap or a removal."""
        return self.filter(superseded_at__isnull=True)

    def covering(self, at):
        return self.live().filter(start__lte=at, end__gt=at)

    def overlapping(self, start, end):
        return self.live().filter(start__lt=end, end__gt=start)


class Shift(models.Model):
    class Source(models.TextChoices):
        MANUAL = "manual", "Added by hand"
        ROTATION = "rotation", "Generated from a rotation"
        COVER = "cover", "Cover"
        SWAP = "swap", "Swap"

    rota = models.ForeignKey(Rota, on_delete=models.CASCADE, related_name="shifts")
    negotiator = models.ForeignKey(Negotiator, on_delete=models.PROTECT, related_name="shifts")
    role = models.CharField(max_length=20, choices=Role.choices)
    start = models.DateTimeField()
    end = models.DateTimeField()
    # A shift that is covered, swapped or removed stays as history.
    superseded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.MANUAL)
    pattern = models.ForeignKey(
        RotationPattern, null=True, blank=True, on_delete=models.SET_NULL, related_name="shifts"
    )
    # The shift this one was cut from (a cover, a swap, a move).
    replaces = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replaced_by"
    )

    objects = ShiftQuerySet.as_manager()

    class Meta:
        ordering = ["start"]
        indexes = [models.Index(fields=["rota", "start", "end"])]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="shift_ends_after_start")
        ]

    def __str__(self):
        return f"{self.negotiator} {self.role} {self.start:%Y-%m-%d %H:%M}"


class Unavailability(models.Model):
    class Reason(models.TextChoices):
        LEAVE = "leave", "Leave"
        SICKNESS = "sickness", "Sickness"
        TRAINING = "training", "Training"
        OTHER = "other", "Other"

    negotiator = models.ForeignKey(
        Negotiator, on_delete=models.CASCADE, related_name="unavailability"
    )
    start = models.DateTimeField()
    end = models.DateTimeField()
    reason = models.CharField(max_length=20, choices=Reason.choices, default=Reason.OTHER)
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["start"]
        verbose_name_plural = "unavailability"
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gt=F("start")), name="unavailability_ends_after_start"
            )
        ]

    def __str__(self):
        return f"{self.negotiator} unavailable {self.start:%Y-%m-%d %H:%M}"


class RotaChange(models.Model):
    """The audit log: one row per change to the rota, with the shifts before and after."""

    rota = models.ForeignKey(Rota, on_delete=models.CASCADE, related_name="changes")
    at = models.DateTimeField(auto_now_add=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=30)
    summary = models.CharField(max_length=300)
    # Snapshots of the shifts taken out of force and put into force (callsign, role, times).
    before = models.JSONField(default=list)
    after = models.JSONField(default=list)
    superseded_ids = models.JSONField(default=list)
    created_ids = models.JSONField(default=list)
    warnings = models.JSONField(default=list)
    override_reason = models.CharField(max_length=300, blank=True)
    undone_at = models.DateTimeField(null=True, blank=True)
    undoes = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # What undo needs beyond shifts: a rotation's settings before and after, or the
    # unavailability marked or withdrawn.
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.summary}"


class SwapRequest(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for a coordinator"
        APPROVED = "approved", "Approved"
        DECLINED = "declined", "Declined"
        WITHDRAWN = "withdrawn", "Withdrawn"

    shift = models.ForeignKey(Shift, on_delete=models.CASCADE, related_name="swap_requests")
    # The negotiator taking the shift over.
    taker = models.ForeignKey(Negotiator, on_delete=models.CASCADE, related_name="+")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["requested_at"]

    def __str__(self):
        return f"Swap {self.shift} to {self.taker}"


def new_feed_token() -> str:
    return secrets.token_urlsafe(32)


class FeedToken(models.Model):
    """The secret in a person's calendar feed URL; regenerating it revokes the old URL."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="rota_feed"
    )
    token = models.CharField(max_length=64, unique=True, default=new_feed_token)
    created_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"Calendar feed of {self.user}"

    def regenerate(self):
        self.token = new_feed_token()
        self.save(update_fields=["token", "created_at"])


class ReminderQuerySet(models.QuerySet):
    def due(self, now):
        """Waiting to be sent: due, not sent, not cancelled. Callouts delivers these."""
        return self.filter(sent_at__isnull=True, cancelled_at__isnull=True, due_at__lte=now)


class Reminder(models.Model):
    """An outbox of SMS reminders; callouts delivers them through its gateway.

    The dedupe key makes queueing idempotent: computing the same reminder twice
    finds the existing row.
    """

    class Kind(models.TextChoices):
        SHIFT_START = "shift_start", "On call tomorrow"
        GAP = "gap", "Gap in cover"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    negotiator = models.ForeignKey(
        Negotiator, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    body = models.CharField(max_length=320)
    due_at = models.DateTimeField()
    dedupe_key = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    objects = ReminderQuerySet.as_manager()

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [models.Index(fields=["sent_at", "due_at"])]

    def __str__(self):
        return f"{self.kind} {self.due_at:%Y-%m-%d %H:%M}"

    def mobile(self) -> str | None:
        """Where to send it: the negotiator's mobile, or the user's own negotiator record's."""
        if self.negotiator_id:
            return self.negotiator.mobile
        person = negotiator_for(self.user) if self.user_id else None
        return person.mobile if person else None
