from django import forms
from django.contrib import admin

from cadre.forms import AccreditationForm, clean_mobile_for
from cadre.models import Accreditation, Force, Membership, Negotiator


@admin.register(Force)
class ForceAdmin(admin.ModelAdmin):
    list_display = ["name", "code"]
    search_fields = ["name", "code"]
    filter_horizontal = ["neighbours"]


class AccreditationInline(admin.TabularInline):
    model = Accreditation
    form = AccreditationForm
    extra = 0


class NegotiatorAdminForm(forms.ModelForm):
    class Meta:
        model = Negotiator
        fields = ["user", "force", "callsign", "full_name", "mobile"]
        fields += ["is_negotiator", "is_coordinator", "is_adviser", "active"]

    def clean_mobile(self):
        # The same normalising and duplicate check as the cadre pages.
        return clean_mobile_for(self.cleaned_data["mobile"], self.instance)


@admin.register(Negotiator)
class NegotiatorAdmin(admin.ModelAdmin):
    form = NegotiatorAdminForm
    list_display = [
        "callsign",
        "full_name",
        "force",
        "is_negotiator",
        "is_coordinator",
        "is_adviser",
        "active",
    ]
    list_filter = ["force", "active", "is_negotiator", "is_coordinator", "is_adviser"]
    search_fields = ["callsign", "full_name", "mobile", "user__username"]
    raw_id_fields = ["user"]
    inlines = [AccreditationInline]


@admin.register(Accreditation)
class AccreditationAdmin(admin.ModelAdmin):
    form = AccreditationForm
    list_display = ["negotiator", "kind", "passed_on", "valid_until"]
    list_filter = ["kind"]
    search_fields = ["negotiator__callsign"]
    date_hierarchy = "valid_until"
    raw_id_fields = ["negotiator"]
    fields = ["negotiator", "kind", "passed_on", "valid_until", "note"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    """Which forces a login belongs to, and its roles there (the admin is superusers' only)."""

    list_display = ["user", "force", "is_coordinator", "is_supervisor", "is_negotiator"]
    list_filter = ["force", "is_coordinator", "is_supervisor", "is_negotiator"]
    search_fields = ["user__username", "force__code"]
    raw_id_fields = ["user"]
