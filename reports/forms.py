from datetime import datetime, time

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from cadre.rules import local_tz
from reports import rules
from reports.models import FollowUp, WorkloadSettings


class PeriodForm(forms.Form):
    """The figures' period: a preset, or any from–to (whole days, inclusive), and the force."""

    preset = forms.ChoiceField(
        label="Period", choices=[*rules.PRESETS.items(), ("custom", "From–to")], required=False
    )
    since = forms.DateField(
        label="From", required=False, widget=forms.DateInput({"type": "date"}, format="%Y-%m-%d")
    )
    until = forms.DateField(
        label="To", required=False, widget=forms.DateInput({"type": "date"}, format="%Y-%m-%d")
    )
    force = forms.ModelChoiceField(
        label="Force", queryset=None, required=False, empty_label=None, to_field_name="code"
    )

    def __init__(self, *args, forces, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["force"].queryset = forces

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since or until or cleaned.get("preset") == "custom":
            if not (since and until):
                raise ValidationError("Give both “From” and “To”, or choose a preset.")
            if until < since:
                raise ValidationError("“To” is before “From”.")
            if (until - since).days > 366 * 10:
                raise ValidationError("Choose at most ten years.")
        return cleaned

    def period(self, today) -> rules.Period:
        """The period asked for; the default (last 12 months) when the form is not valid."""
        if not self.is_bound or not self.is_valid():
            return rules.preset_period(rules.DEFAULT_PRESET, today)
        since, until = self.cleaned_data.get("since"), self.cleaned_data.get("until")
        if since and until:
            return rules.Period(since, until, f"{since:%-d %b %Y} to {until:%-d %b %Y}")
        return rules.preset_period(self.cleaned_data.get("preset") or rules.DEFAULT_PRESET, today)


class FollowUpForm(forms.Form):
    outcome = forms.ChoiceField(
        label="Outcome", choices=FollowUp.Outcome.choices, widget=forms.RadioSelect
    )
    held_on = forms.DateField(
        label="On", widget=forms.DateInput({"type": "date"}, format="%Y-%m-%d")
    )
    held_time = forms.TimeField(
        label="At", required=False, widget=forms.TimeInput({"type": "time"}, format="%H:%M")
    )
    note = forms.CharField(
        label="Confidential note (supervisors only; never exported or sent)",
        widget=forms.Textarea({"rows": 3}),
        required=False,
        max_length=5000,
    )

    def held_at(self) -> datetime:
        """The day and time given; without a time, now if it is today, else midday."""
        day, at = self.cleaned_data["held_on"], self.cleaned_data.get("held_time")
        now = timezone.localtime(timezone.now(), local_tz())
        if at is None:
            at = now.time().replace(second=0, microsecond=0) if day == now.date() else time(12)
        return datetime.combine(day, at, local_tz())


class WorkloadSettingsForm(forms.ModelForm):
    class Meta:
        model = WorkloadSettings
        fields = ["max_deployments_30_days", "unanswered_in_a_row"]
        labels = {
            "max_deployments_30_days": "Flag more than this many deployments in 30 days",
            "unanswered_in_a_row": "Flag this many unanswered callouts in a row",
        }
