from django.contrib import admin

from reports.models import FollowUp, WorkloadSettings


@admin.register(WorkloadSettings)
class WorkloadSettingsAdmin(admin.ModelAdmin):
    list_display = ["force", "max_deployments_30_days", "unanswered_in_a_row", "updated_at"]


@admin.register(FollowUp)
class FollowUpAdmin(admin.ModelAdmin):
    list_display = ["deployment", "outcome", "held_at", "recorded_by", "recorded_at"]
    readonly_fields = ["deployment", "recorded_by", "recorded_at"]
