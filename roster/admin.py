"""Admin for the rota. Shifts and the audit are read-only here: edits go through the rota
pages (and roster.services) so that they are checked and recorded."""

from django.contrib import admin

from roster.models import (
    CoverageRule,
    Reminder,
    Rota,
    RotaChange,
    RotationPattern,
    Shift,
    SwapRequest,
    Unavailability,
)


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CoverageRuleInline(admin.TabularInline):
    model = CoverageRule
    extra = 0


@admin.register(Rota)
class RotaAdmin(admin.ModelAdmin):
    list_display = ["force", "max_consecutive_days"]
    inlines = [CoverageRuleInline]


@admin.register(RotationPattern)
class RotationPatternAdmin(admin.ModelAdmin):
    list_display = ["name", "rota", "role", "length", "handover_weekday", "handover_time"]


@admin.register(Shift)
class ShiftAdmin(ReadOnly):
    list_display = ["negotiator", "role", "start", "end", "source", "superseded_at"]
    list_filter = ["role", "source", "rota"]
    search_fields = ["negotiator__callsign"]


@admin.register(Unavailability)
class UnavailabilityAdmin(admin.ModelAdmin):
    list_display = ["negotiator", "start", "end", "reason"]
    search_fields = ["negotiator__callsign"]


@admin.register(RotaChange)
class RotaChangeAdmin(ReadOnly):
    list_display = ["at", "by", "action", "summary", "undone_at"]
    list_filter = ["action"]


@admin.register(SwapRequest)
class SwapRequestAdmin(ReadOnly):
    list_display = ["shift", "taker", "status", "requested_at", "decided_at"]


@admin.register(Reminder)
class ReminderAdmin(ReadOnly):
    list_display = ["kind", "negotiator", "user", "due_at", "sent_at", "cancelled_at"]
    list_filter = ["kind"]
