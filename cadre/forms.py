"""Forms for the cadre register. Every error names the problem in words a coordinator uses."""

from django import forms
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password

from cadre import access, codes, rules
from cadre.models import Accreditation, Negotiator, Role
from cadre.phones import InvalidMobile, normalise_mobile

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def clean_mobile_for(value: str, negotiator: Negotiator | None, names_of=None) -> str:
    """Normalise a mobile and refuse one that already belongs to someone else, saying who
    only when the holder's force is in `names_of` (force ids; None: every force)."""
    try:
        mobile = normalise_mobile(value)
    except InvalidMobile as error:
        raise forms.ValidationError(str(error)) from None
    others = Negotiator.objects.filter(mobile=mobile)
    if negotiator is not None and negotiator.pk:
        others = others.exclude(pk=negotiator.pk)
    holder = others.select_related("force").first()
    if holder is not None and (names_of is None or holder.force_id in names_of):
        raise forms.ValidationError(
            f"{mobile} is already the mobile of {holder.callsign} ({holder.force.code})."
        )
    if holder is not None:
        raise forms.ValidationError("That number is already registered to someone else.")
    return mobile


class NegotiatorForm(forms.ModelForm):
    roles = forms.MultipleChoiceField(
        choices=Role.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one role."},
    )
    username = forms.CharField(
        label="Login username",
        required=False,
        max_length=150,
        help_text="Optional. Gives this person a login as a negotiator of their force (an "
        "existing login is linked only if it has no other tie and is not an administrator's).",
    )
    password = forms.CharField(
        label="Initial password",
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Needed when a new login is created; they can change it after logging in.",
    )

    class Meta:
        model = Negotiator
        fields = ["force", "callsign", "full_name", "mobile", "active"]
        help_texts = {"mobile": "A UK mobile such as 07700 900123, or +44…"}

    field_order = [
        "force",
        "callsign",
        "full_name",
        "mobile",
        "roles",
        "active",
        "username",
        "password",
    ]

    def __init__(self, *args, forces, **kwargs):
        """`forces`: those the editing login may add people to (cadre.access)."""
        super().__init__(*args, **kwargs)
        self.fields["force"].queryset = forces
        self.names_of = {f.pk for f in forces}
        if self.instance.pk:
            self.initial["roles"] = self.instance.roles
            self.initial["mobile"] = self.instance.mobile_display()
        if self.instance.user_id:
            # Already linked: the login is managed on its own page, not here.
            del self.fields["username"]
            del self.fields["password"]

    def clean_callsign(self):
        callsign = self.cleaned_data["callsign"].strip().upper()
        if problem := rules.callsign_problem(callsign):
            raise forms.ValidationError(problem)
        return callsign

    def clean_full_name(self):
        name = self.cleaned_data["full_name"].strip()
        if problem := rules.name_problem(name):
            raise forms.ValidationError(problem)
        return name

    def clean_mobile(self):
        return clean_mobile_for(self.cleaned_data["mobile"], self.instance, self.names_of)

    def clean_username(self):
        return self.cleaned_data.get("username", "").strip()

    def clean(self):
        cleaned = super().clean()
        roles = cleaned.get("roles")
        if roles:
            # Before the model's own checks run (they need a role set).
            self.instance.roles = roles
        force, callsign = cleaned.get("force"), cleaned.get("callsign")
        if force and callsign:
            taken = Negotiator.objects.filter(force=force, callsign=callsign)
            if self.instance.pk:
                taken = taken.exclude(pk=self.instance.pk)
            if taken.exists():
                self.add_error("callsign", f"{callsign} is already a callsign in {force.name}.")
        username = cleaned.get("username")
        problem = access.link_problem(username, force) if username and force else None
        if problem:
            self.add_error("username", problem)
        elif username and not User.objects.filter(username=username).exists():
            password = cleaned.get("password")
            if not password:
                self.add_error("password", "Give an initial password for the new login.")
            else:
                try:
                    validate_password(password, User(username=username))
                except forms.ValidationError as error:
                    self.add_error("password", error)
        return cleaned

    def validate_unique(self):
        # Duplicate callsign and mobile have their own, clearer messages above.
        pass

    def validate_constraints(self):
        pass


class AccreditationForm(forms.ModelForm):
    class Meta:
        model = Accreditation
        fields = ["kind", "passed_on", "valid_until", "note"]
        widgets = {"passed_on": DATE_INPUT, "valid_until": DATE_INPUT}

    def clean(self):
        cleaned = super().clean()
        passed_on, valid_until = cleaned.get("passed_on"), cleaned.get("valid_until")
        for name, day in (("passed_on", passed_on), ("valid_until", valid_until)):
            if day and (problem := rules.date_problem(day)):
                self.add_error(name, problem)
                return cleaned
        if passed_on and valid_until and valid_until < passed_on:
            self.add_error("valid_until", "Valid until must be on or after the date passed.")
        return cleaned

    def validate_constraints(self):
        # The dates rule is checked above with a readable message.
        pass


AccreditationFormSet = forms.inlineformset_factory(
    Negotiator,
    Accreditation,
    form=AccreditationForm,
    extra=1,
    can_delete=True,
)


class OwnMobileForm(forms.Form):
    mobile = forms.CharField(label="Your mobile number", max_length=30)

    def __init__(self, *args, negotiator, **kwargs):
        super().__init__(*args, **kwargs)
        self.negotiator = negotiator

    def clean_mobile(self):
        return clean_mobile_for(self.cleaned_data["mobile"], self.negotiator, names_of=())


class CadreFilterForm(forms.Form):
    role = forms.ChoiceField(choices=[("", "Any role"), *Role.choices], required=False)
    force = forms.ModelChoiceField(queryset=None, required=False, empty_label="Any force")
    deployable = forms.BooleanField(label="Deployable now", required=False)
    lapsing = forms.BooleanField(label="Lapsing within 60 days", required=False)

    def __init__(self, *args, forces, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["force"].queryset = forces
        if len(forces) < 2:
            del self.fields["force"]


class CodeForm(forms.Form):
    """A code from the authenticator app, or a recovery code (cadre.codes.read)."""

    code = forms.CharField(
        label="Code",
        max_length=codes.MAX_TYPED,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autocapitalize": "off", "spellcheck": "false"}
        ),
        error_messages={"required": "Type the code your authenticator app shows."},
    )
    app_only = False  # the set-up page takes the app's code only

    def clean_code(self):
        typed = codes.read(self.cleaned_data["code"])
        if typed is None or (self.app_only and typed.recovery):
            raise forms.ValidationError(
                "Type the 6 digits your authenticator app shows now."
                if self.app_only
                else "Type the 6 digits your authenticator app shows now, "
                "or one of your recovery codes (8 letters and digits)."
            )
        return typed


class SetupForm(CodeForm):
    """The new authenticator's first code; the password again when it was typed long ago."""

    app_only = True
    password = forms.CharField(
        label="Your password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args, user, ask_password: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["code"].label = "The 6-digit code the app shows"
        self.fields["code"].widget.attrs["inputmode"] = "numeric"
        if not ask_password:
            del self.fields["password"]

    def clean_password(self):
        if not self.user.check_password(self.cleaned_data["password"]):
            raise forms.ValidationError("That is not your password.")
        return self.cleaned_data["password"]
