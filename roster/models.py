from django.conf import settings
from django.db import models
from django.db.models import F, Q

from cadre.models import Force, Negotiator, Role


class Rota(models.Model):
    force = models.OneToOneField(Force, on_delete=models.CASCADE, related_name="rota")
    time_zone = models.CharField(max_length=50, default="Europe/London")

    def __str__(self):
        return f"{self.force} rota"


class ShiftQuerySet(models.QuerySet):
    def live(self):
        """Shifts in force now: not replaced by a cover, a swap or a removal."""
        return self.filter(superseded_at__isnull=True)

    def covering(self, at):
        return self.live().filter(start__lte=at, end__gt=at)

    def overlapping(self, start, end):
        return self.live().filter(start__lt=end, end__gt=start)


class Shift(models.Model):
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
