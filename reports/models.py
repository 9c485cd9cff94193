"""Welfare follow-ups and the per-force thresholds of the workload flags."""

from django.conf import settings
from django.db import models

from cadre.models import Force
from callouts.models import Deployment


class FollowUp(models.Model):
    """The welfare follow-up of one person who went: done (when, by whom) or declined.

    A follow-up is owed for every deployment of someone who went, from the moment they are
    stood down; it is open until one of these is recorded. The note is confidential: only
    supervisors see it, and it is never exported or sent in a message.
    """

    class Outcome(models.TextChoices):
        DONE = "done", "Done"
        DECLINED = "declined", "Declined"

    deployment = models.OneToOneField(
        Deployment, on_delete=models.CASCADE, related_name="follow_up"
    )
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    # When the follow-up took place (or was declined), as the person recording it says.
    held_at = models.DateTimeField()
    note = models.TextField(blank=True, help_text="Confidential: supervisors only")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-held_at"]

    def __str__(self):
        return f"{self.deployment}: {self.outcome}"


class WorkloadSettings(models.Model):
    """A force's thresholds for the workload flags (defaults apply without a row)."""

    DEFAULT_MAX_DEPLOYMENTS = 4
    DEFAULT_UNANSWERED = 3

    force = models.OneToOneField(Force, on_delete=models.CASCADE, related_name="+")
    max_deployments_30_days = models.PositiveSmallIntegerField(
        default=DEFAULT_MAX_DEPLOYMENTS,
        help_text="Flag anyone deployed more often than this in 30 days",
    )
    unanswered_in_a_row = models.PositiveSmallIntegerField(
        default=DEFAULT_UNANSWERED,
        help_text="Flag anyone who has not answered this many callouts in a row",
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name_plural = "workload settings"

    def __str__(self):
        return f"Workload settings of {self.force}"
