from django import forms
from django.contrib import admin

from cadre.forms import AccreditationForm, clean_mobile_for
from cadre.models import Accreditation, CadreImport, Force, Membership, Negotiator


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


@admin.register(CadreImport)
class CadreImportAdmin(admin.ModelAdmin):
    """The record of CSV imports: who, when, how many added and changed. Read only; the file's
    text is not shown (it is dropped once imported)."""

    list_display = ["uploaded_at", "by", "filename", "imported_at", "added", "changed"]
    list_filter = ["imported_at"]
    fields = ["by", "filename", "uploaded_at", "imported_at", "added", "changed"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
