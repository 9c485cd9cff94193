"""Forms for raising incidents and editing escalation policies."""

from django import forms
from django.core.exceptions import ValidationError
from django.forms.formsets import INITIAL_FORM_COUNT, TOTAL_FORM_COUNT, ManagementForm

from cadre import queries as cadre_queries
from cadre.models import Role
from callouts import queries, rules
from callouts.models import (
    TELL_AFTER_MAX_MINUTES,
    Audience,
    Channel,
    EscalationPolicy,
    Incident,
    IncidentKind,
)


def need_field(role) -> str:
    return f"need_{role}"


def add_need_fields(form, initial_needs):
    for role in Role:
        form.fields[need_field(role)] = forms.IntegerField(
            label=f"{role.label}s needed",
            min_value=0,
            max_value=rules.MAX_PER_ROLE,
            initial=(initial_needs or {}).get(role.value, 0),
        )


def needs_from(cleaned) -> dict[str, int]:
    needs = {
        role.value: cleaned[need_field(role)] for role in Role if cleaned.get(need_field(role))
    }
    return needs


class NeedsMixin:
    def need_fields(self):
        return [self[need_field(role)] for role in Role]

    def clean_needs(self, cleaned):
        if all(need_field(r) in cleaned for r in Role) and not needs_from(cleaned):
            raise ValidationError("Ask for at least one person.")


class RaiseIncidentForm(NeedsMixin, forms.Form):
    force = forms.ModelChoiceField(queryset=None, empty_label=None)
    kind = forms.ChoiceField(choices=IncidentKind.choices)
    location = forms.CharField(
        max_length=rules.LOCATION_MAX,
        label="Rough location",
        help_text="Goes into the SMS: an area, no address.",
    )
    rendezvous = forms.CharField(
        max_length=rules.RENDEZVOUS_MAX,
        required=False,
        label="Rendezvous point",
        help_text="Never sent by SMS.",
    )
    brief = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}), required=False, max_length=rules.BRIEF_MAX
    )
    policy = forms.ModelChoiceField(
        queryset=None, required=False, empty_label="The force's default policy"
    )

    def __init__(self, *args, forces, chosen=None, **kwargs):
        """`forces`: where the login may raise (cadre.access); `chosen`: the force it chose
        last, if any. With several forces and no choice, the force must be picked."""
        super().__init__(*args, **kwargs)
        self.fields["force"].queryset = forces
        if len(forces) == 1:
            self.fields["force"].widget = forms.HiddenInput()
            chosen = forces[0]
        else:
            self.fields["force"].empty_label = "Choose the force"
        self.fields["force"].initial = chosen.pk if chosen else None
        self.fields["policy"].queryset = queries.policy_choices(forces)
        default = queries.default_policy(chosen) if chosen else None
        add_need_fields(self, default.default_needs if default else {"negotiator": 2})

    def clean(self):
        cleaned = super().clean()
        self.clean_needs(cleaned)
        policy, force = cleaned.get("policy"), cleaned.get("force")
        if policy and force and policy.force_id != force.pk:
            self.add_error("policy", "That policy belongs to another force.")
        return cleaned

    def service_arguments(self) -> dict:
        c = self.cleaned_data
        return {
            "force": c["force"],
            "kind": c["kind"],
            "location": c["location"],
            "rendezvous": c["rendezvous"],
            "brief": c["brief"],
            "needs": needs_from(c),
            "policy": c["policy"],
        }


class RaiseNeedsForm(forms.Form):
    # On the part of the board that updates itself: what is typed stays (htmx hx-preserve).
    role = forms.ChoiceField(
        choices=Role.choices, widget=forms.Select(attrs={"hx-preserve": "true"})
    )
    count = forms.IntegerField(
        min_value=1,
        max_value=rules.MAX_PER_ROLE,
        initial=1,
        widget=forms.NumberInput(attrs={"hx-preserve": "true"}),
    )


class WebAnswerForm(forms.Form):
    """A negotiator's answer on the web page: the same choices an SMS reply has."""

    answer = forms.ChoiceField(
        choices=[
            ("accept", "Attending"),
            ("decline", "Not attending"),
            ("eta", "New ETA"),
            ("arrived", "Arrived"),
        ]
    )
    eta = forms.IntegerField(label="ETA (minutes)", min_value=0, max_value=600, required=False)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("answer") == "eta" and cleaned.get("eta") is None:
            self.add_error("eta", "Give your ETA in minutes.")
        return cleaned


class PolicyForm(NeedsMixin, forms.ModelForm):
    class Meta:
        model = EscalationPolicy
        fields = ["name", "is_default", "tell_after_minutes"]
        labels = {
            "is_default": "The force's default policy",
            "tell_after_minutes": "Tell a human if still short after (minutes)",
        }
        help_texts = {
            "tell_after_minutes": (
                "The coordinators on call and the supervisors are texted and called once if "
                "an incident is still short this long after it was raised (and once when the "
                "steps run out). 1 to 1440."
            )
        }
        error_messages = {
            "tell_after_minutes": {
                "required": "Give the minutes after which a human is told (1 to 1440).",
                "invalid": "Give a whole number of minutes, 1 to 1440.",
                "min_value": "At least 1 minute.",
                "max_value": "At most 1440 minutes (a day).",
            }
        }

    def __init__(self, *args, force, **kwargs):
        super().__init__(*args, **kwargs)
        self.force = force
        add_need_fields(self, self.instance.default_needs if self.instance.pk else None)
        self.fields["tell_after_minutes"].widget.attrs.update(
            min=1, max=TELL_AFTER_MAX_MINUTES, inputmode="numeric"
        )

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if queries.policy_name_taken(self.force, name, except_pk=self.instance.pk):
            raise ValidationError("Another policy of this force has that name.")
        return name

    def clean(self):
        cleaned = super().clean()
        self.clean_needs(cleaned)
        others_default = queries.other_default_policy(self.force, except_pk=self.instance.pk)
        if not cleaned.get("is_default") and not others_default:
            self.add_error(
                "is_default",
                "The force needs a default policy: make another one the default instead.",
            )
        return cleaned


class StepForm(forms.Form):
    # A blank first choice: an added row stays visibly empty until filled (and, left empty,
    # is no step at all), rather than looking like a real "On call / SMS / 5" step.
    audience = forms.ChoiceField(choices=[("", "Choose…"), *Audience.choices])
    channel = forms.ChoiceField(choices=[("", "Choose…"), *Channel.choices])
    wait_minutes = forms.IntegerField(min_value=0, max_value=24 * 60, label="Then wait (minutes)")
    named = forms.ModelMultipleChoiceField(queryset=None, required=False, label="Named people")

    def __init__(self, *args, force=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["named"].queryset = cadre_queries.active_negotiators(force)
        self.fields["named"].widget.attrs["size"] = 4

    def clean(self):
        cleaned = super().clean()
        named, audience = cleaned.get("named"), cleaned.get("audience")
        if audience == Audience.NAMED and not named:
            self.add_error("named", "Choose the people this step calls.")
        elif audience and audience != Audience.NAMED and named:
            self.add_error("named", "Named people only go with the audience “Named people”.")
        return cleaned


class BaseStepFormSet(forms.BaseFormSet):
    def add_fields(self, form, index):
        super().add_fields(form, index)
        form.fields["ORDER"].label = "Order"

    def clean(self):
        if any(self.errors) or not self.management_form.is_valid():
            return
        if not self.ordered_forms:
            raise ValidationError("A policy needs at least one step.")

    def steps(self) -> list[dict]:
        """The steps to keep, in the order given (blank extra rows and deleted ones left out)."""
        return [f.cleaned_data for f in self.ordered_forms]


StepFormSet = forms.formset_factory(
    StepForm,
    formset=BaseStepFormSet,
    # No blank rows: "Add a step" adds one when wanted (policy_views).
    extra=0,
    can_order=True,
    can_delete=True,
    max_num=12,
    validate_max=True,
    # Never build more rows than this whatever the form claims (Django's default is 1,012).
    absolute_max=50,
)

STEPS_ALTERED = (
    "The step rows were sent incomplete or altered, so nothing was saved. They are shown "
    "again as they were: make your changes again."
)


def step_count(data) -> int | None:
    """How many step rows a posted policy form says it has, or None when that count (the
    formset's management form) is missing, not a whole number or beyond what any page sends:
    a form made by hand, which gets STEPS_ALTERED rather than a guess."""
    counts = ManagementForm(data, prefix="steps")
    if not counts.is_valid():
        return None
    total, initial = counts.cleaned_data[TOTAL_FORM_COUNT], counts.cleaned_data[INITIAL_FORM_COUNT]
    return total if 0 <= initial <= total <= StepFormSet.absolute_max else None


class IncidentFilterForm(forms.Form):
    """The incident list's filters (GET). Bad input is explained; the list then shows all."""

    MUTUAL_AID = [("", "Any"), ("yes", "With mutual aid"), ("no", "Without")]

    since = forms.DateField(label="From", required=False, widget=forms.DateInput({"type": "date"}))
    until = forms.DateField(label="To", required=False, widget=forms.DateInput({"type": "date"}))
    kind = forms.ChoiceField(label="Kind", required=False)
    status = forms.ChoiceField(label="Status", required=False)
    force = forms.ModelChoiceField(label="Force", queryset=None, required=False, empty_label="Any")
    mutual_aid = forms.ChoiceField(label="Mutual aid", choices=MUTUAL_AID, required=False)

    def __init__(self, *args, forces, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", "Any"), *IncidentKind.choices]
        self.fields["status"].choices = [("", "Any"), ("live", "Live"), *Incident.Status.choices]
        self.fields["force"].queryset = forces

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and until < since:
            raise ValidationError("“To” is before “From”.")
        return cleaned

    def filters(self) -> dict:
        """The filters given, for callouts.queries.filter_incidents ({} when invalid)."""
        if not self.is_valid():
            return {}
        return {k: v for k, v in self.cleaned_data.items() if v not in (None, "")}
