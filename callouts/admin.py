from django.contrib import admin

from callouts.models import (
    ApiToken,
    Callout,
    Deployment,
    EscalationPolicy,
    EscalationStep,
    Event,
    Incident,
    Message,
    Response,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """A record, not a setting: nobody adds, changes or deletes one here, superusers included."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class EscalationStepInline(admin.TabularInline):
    model = EscalationStep
    extra = 0
    filter_horizontal = ["named"]


@admin.register(EscalationPolicy)
class EscalationPolicyAdmin(admin.ModelAdmin):
    list_display = ["name", "force", "is_default"]
    list_filter = ["force"]
    inlines = [EscalationStepInline]


class CalloutInline(admin.TabularInline):
    model = Callout
    extra = 0
    fields = ["negotiator", "asked_roles", "state", "role", "eta_minutes", "late"]
    readonly_fields = fields
    can_delete = False


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    list_display = ["reference", "force", "kind", "status", "step_index", "raised_at"]
    list_filter = ["status", "kind", "force"]
    search_fields = ["reference", "location"]
    readonly_fields = ["steps", "step_index", "next_step_at", "raised_at"]
    inlines = [CalloutInline]


@admin.register(Callout)
class CalloutAdmin(admin.ModelAdmin):
    list_display = ["incident", "negotiator", "state", "role", "eta_minutes", "late"]
    list_filter = ["state", "late"]
    search_fields = ["incident__reference", "negotiator__callsign"]


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "direction",
        "channel",
        "purpose",
        "to_number",
        "status",
        "attempts",
        "error_code",
    ]
    list_filter = ["direction", "channel", "purpose", "status"]
    search_fields = ["to_number", "from_number", "provider_sid", "incident__reference"]


@admin.register(Response)
class ResponseAdmin(admin.ModelAdmin):
    list_display = ["callout", "kind", "channel", "eta_minutes", "late", "received_at"]
    list_filter = ["kind", "late"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["prefix", "user", "name", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "key_hash", "created_at", "last_used_at"]


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ["at", "incident", "kind", "negotiator", "role", "channel", "actor"]
    list_filter = ["kind"]
    search_fields = ["incident__reference", "negotiator__callsign"]
    list_select_related = ["incident", "negotiator", "actor"]


@admin.register(Deployment)
class DeploymentAdmin(ReadOnlyAdmin):
    list_display = ["incident", "negotiator", "role", "accepted_at", "late", "stood_down_at"]
    list_filter = ["role", "late"]
    search_fields = ["incident__reference", "negotiator__callsign"]
