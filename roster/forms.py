from django import forms

from cadre.models import Negotiator, Role
from roster.models import RotationPattern, Unavailability

LOCAL_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DAY_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class CallsignChoice(forms.ModelChoiceField):
    """Pick a negotiator by callsign: the only name shown on rota pages."""

    def label_from_instance(self, obj):
        return obj.callsign


# Dates outside these years are typing slips; refusing them keeps date arithmetic safe.
FIRST_YEAR, LAST_YEAR = 2000, 2100


def check_years(*values):
    for value in values:
        if value and not (FIRST_YEAR <= value.year <= LAST_YEAR):
            raise forms.ValidationError(f"Dates must lie between {FIRST_YEAR} and {LAST_YEAR}.")


class TimesMixin:
    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        check_years(start, end)
        if start and end:
            if end < start:
                raise forms.ValidationError("The end is before the start.")
            if end == start:
                raise forms.ValidationError("Start and end are the same: the time has no length.")
        return data


class ShiftForm(TimesMixin, forms.Form):
    negotiator = CallsignChoice(queryset=Negotiator.objects.none())
    role = forms.ChoiceField(choices=Role.choices)
    start = forms.DateTimeField(widget=LOCAL_INPUT)
    end = forms.DateTimeField(widget=LOCAL_INPUT)
    reason = forms.CharField(
        required=False, max_length=300, label="Reason to override the warnings"
    )

    def __init__(self, *args, negotiators, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["negotiator"].queryset = negotiators


class CoverForm(ShiftForm):
    role = None
    negotiator = CallsignChoice(queryset=Negotiator.objects.none(), label="Covered by")


class SwapForm(forms.Form):
    taker = CallsignChoice(queryset=Negotiator.objects.none(), label="Swap with")

    def __init__(self, *args, negotiators, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["taker"].queryset = negotiators


class UnavailabilityForm(TimesMixin, forms.ModelForm):
    class Meta:
        model = Unavailability
        fields = ["start", "end", "reason", "note"]
        widgets = {"start": LOCAL_INPUT, "end": LOCAL_INPUT}
        help_texts = {"reason": "Only coordinators see the reason."}


class PatternForm(forms.ModelForm):
    WEEKDAYS = list(
        enumerate(["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"])
    )
    callsigns = forms.CharField(
        help_text="Callsigns in rotation order, separated by commas or spaces."
    )
    handover_weekday = forms.TypedChoiceField(choices=WEEKDAYS, coerce=int, initial=0)

    class Meta:
        model = RotationPattern
        fields = [
            "name",
            "role",
            "length",
            "handover_weekday",
            "handover_time",
            "on_at_once",
            "starts_on",
        ]
        widgets = {"handover_time": forms.TimeInput(attrs={"type": "time"}), "starts_on": DAY_INPUT}
        labels = {"on_at_once": "How many on call at once"}

    def __init__(self, *args, negotiators, **kwargs):
        super().__init__(*args, **kwargs)
        self.negotiators = negotiators

    def clean(self):
        data = super().clean()
        check_years(data.get("starts_on"))
        wanted = [c.strip() for c in data.get("callsigns", "").replace(",", " ").split()]
        found = {n.callsign.upper(): n for n in self.negotiators}
        unknown = [c for c in wanted if c.upper() not in found]
        if unknown:
            raise forms.ValidationError(f"Unknown callsigns: {', '.join(unknown)}.")
        people = [found[c.upper()] for c in wanted]
        role = data.get("role")
        for n in people:
            if not n.active:
                self.add_error("callsigns", f"{n.callsign} is inactive.")
            elif role and not n.has_role(role):
                self.add_error("callsigns", f"{n.callsign} does not hold the {role} role.")
        if not people:
            self.add_error("callsigns", "Name at least one negotiator.")
        data["order"] = [n.pk for n in people]
        return data

    def save(self, commit=True):
        self.instance.order = self.cleaned_data["order"]
        return super().save(commit)


class PatternEditForm(PatternForm):
    """Changing a rotation: its role stays (end it and set up another for a different role)."""

    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)
    reason = forms.CharField(
        required=False, max_length=300, label="Reason to override the warnings"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].disabled = True
        self.fields["role"].help_text = "To change the role, end this rotation and set up another."
        names = {n.pk: n.callsign for n in self.negotiators}
        self.fields["callsigns"].initial = " ".join(
            names.get(pk, "?") for pk in self.instance.order
        )


class GenerateForm(forms.Form):
    pattern = forms.ModelChoiceField(queryset=RotationPattern.objects.none())
    first_day = forms.DateField(widget=DAY_INPUT, label="From")
    end_day = forms.DateField(widget=DAY_INPUT, label="Up to (not including)")
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)
    reason = forms.CharField(
        required=False, max_length=300, label="Reason to override the warnings"
    )

    def __init__(self, *args, patterns, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["pattern"].queryset = patterns

    def clean(self):
        data = super().clean()
        first, end = data.get("first_day"), data.get("end_day")
        check_years(first, end)
        if first and end and end <= first:
            raise forms.ValidationError("The range must end after it starts.")
        if first and end and (end - first).days > 366:
            raise forms.ValidationError("Generate at most a year at a time.")
        return data


class CoverRulesForm(forms.Form):
    """The minimum on call per role at all times, and the welfare limit, for one rota."""

    negotiator = forms.IntegerField(min_value=0, max_value=20, label="Negotiators on call")
    coordinator = forms.IntegerField(min_value=0, max_value=20, label="Coordinators on call")
    adviser = forms.IntegerField(min_value=0, max_value=20, label="Advisers on call")
    max_consecutive_days = forms.IntegerField(
        min_value=1, max_value=60, label="Most days on call in a row"
    )
