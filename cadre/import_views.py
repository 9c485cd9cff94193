"""CSV import of a cadre: upload, preview every row's problems, then confirm.

The preview carries the CSV text back in a hidden field; confirming reads and
checks it again against the register as it is then, and saves every row in one
transaction or none.
"""

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render

from cadre import access, queries, services
from cadre.access import Can, coordinator_required
from cadre.importing import OPTIONAL_COLUMNS, REQUIRED_COLUMNS, read_cadre_csv

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


def allowed(request):
    """The forces this login may import people into."""
    return access.force_ids(request.user, Can.EDIT_CADRE)


def confirm(request, text):
    """Save the checked CSV: the list page on success, else what is wrong with it now."""
    try:
        saved, result = services.import_cadre(text, allowed(request))
    except (services.Taken, services.LoginRefused):
        messages.error(request, "The register changed while importing; nothing was saved.")
        return None, read_cadre_csv(text, queries.known_register(allowed(request)))
    if result.ok:
        messages.success(request, f"Imported {saved} negotiator(s).")
        return redirect("cadre_list"), None
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
            result = read_cadre_csv(text, queries.known_register(allowed(request)))
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
