"""CSV import of a cadre: upload, preview every row's problems, then confirm.

The preview carries the CSV text back in a hidden field; confirming reads and
checks it again against the register as it is then, and saves every row in one
transaction or none.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.models import Group, User
from django.db import IntegrityError, transaction
from django.shortcuts import redirect, render

from cadre import access
from cadre.access import coordinator_required
from cadre.importing import OPTIONAL_COLUMNS, REQUIRED_COLUMNS, Known, read_cadre_csv
from cadre.models import Accreditation, Force, Negotiator

MAX_BYTES = 1_000_000


class UploadForm(forms.Form):
    file = forms.FileField(label="CSV file")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError("The file is larger than 1 MB; is it really a cadre?")
        try:
            return upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise forms.ValidationError(
                "The file is not UTF-8 text. Save it from your spreadsheet as “CSV UTF-8”."
            ) from None


class ConfirmForm(forms.Form):
    # A hidden textarea (not an input) keeps the line breaks exactly.
    csv_text = forms.CharField(
        widget=forms.Textarea(attrs={"hidden": True}), max_length=MAX_BYTES, strip=False
    )


def known_register() -> Known:
    return Known(
        force_codes=frozenset(Force.objects.values_list("code", flat=True)),
        callsigns=frozenset(Negotiator.objects.values_list("force__code", "callsign").iterator()),
        mobiles={
            mobile: f"{callsign} ({code})"
            for mobile, callsign, code in Negotiator.objects.values_list(
                "mobile", "callsign", "force__code"
            )
        },
        linked_usernames=frozenset(
            Negotiator.objects.filter(user__isnull=False).values_list("user__username", flat=True)
        ),
    )


def save_rows(rows) -> int:
    forces = {f.code: f for f in Force.objects.all()}
    negotiator_group = Group.objects.get(name=access.NEGOTIATOR)
    for row in rows:
        user = None
        if row.username:
            user, created = User.objects.get_or_create(username=row.username)
            if created:
                user.set_unusable_password()
                user.save(update_fields=["password"])
            user.groups.add(negotiator_group)
        negotiator = Negotiator(
            force=forces[row.force_code],
            callsign=row.callsign,
            full_name=row.full_name,
            mobile=row.mobile,
            user=user,
        )
        negotiator.roles = row.roles
        negotiator.save()
        Accreditation.objects.create(
            negotiator=negotiator,
            kind=row.kind,
            passed_on=row.passed_on,
            valid_until=row.valid_until,
            note="Imported from CSV",
        )
    return len(rows)


def confirm(request, text):
    try:
        with transaction.atomic():
            result = read_cadre_csv(text, known_register())
            if result.ok:
                saved = save_rows(result.rows)
                messages.success(request, f"Imported {saved} negotiator(s).")
                return redirect("cadre_list"), None
    except IntegrityError:
        messages.error(request, "The register changed while importing; nothing was saved.")
        result = read_cadre_csv(text, known_register())
    return None, result


@coordinator_required
def cadre_import(request):
    upload = UploadForm()
    result = None
    text = ""
    if request.method == "POST" and "confirm" in request.POST:
        form = ConfirmForm(request.POST)
        if form.is_valid():
            text = form.cleaned_data["csv_text"]
            response, result = confirm(request, text)
            if response is not None:
                return response
    elif request.method == "POST":
        upload = UploadForm(request.POST, request.FILES)
        if upload.is_valid():
            text = upload.cleaned_data["file"]
            result = read_cadre_csv(text, known_register())
    return render(
        request,
        "cadre/import.html",
        {
            "upload": upload,
            "result": result,
            "confirm": ConfirmForm(initial={"csv_text": text}) if result and result.ok else None,
            "required_columns": REQUIRED_COLUMNS,
            "optional_columns": OPTIONAL_COLUMNS,
        },
    )
