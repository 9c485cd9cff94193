"""CSV import of a cadre: upload, preview a summary and every problem, then confirm.

The uploaded file is kept on the server (cadre.models.CadreImport) for its uploader, so the
preview is a summary, however large the file, and never carries the file back. Confirming
checks it again against the register as it is then and saves every row in one transaction
or none, and only when saving would do what the preview showed.
"""

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from cadre import access, importing, queries, services
from cadre.access import Can, coordinator_required
from cadre.importing import MAX_ROWS, OPTIONAL_COLUMNS, REQUIRED_COLUMNS, read_cadre_csv
from cadre.rules import local_tz

MAX_BYTES = 5 * 1024 * 1024
PROBLEMS_PAGE = 100  # problems a page of the preview
SAMPLE = 10  # new and changed rows shown from each


class UploadForm(forms.Form):
    file = forms.FileField(label="CSV file")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(
                f"The file is {filesizeformat(upload.size)}: the import takes files up to "
                f"{filesizeformat(MAX_BYTES)} ({MAX_ROWS:,} rows). Split it into smaller files."
            )
        try:
            text = upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise forms.ValidationError(
                "The file is not UTF-8 text. Save it from your spreadsheet as “CSV UTF-8”."
            ) from None
        if problem := importing.file_problem(text):
            raise forms.ValidationError(problem)
        self.filename = upload.name or ""
        return text


class ConfirmForm(forms.Form):
    # What the preview showed would be saved (ImportResult.digest).
    plan = forms.CharField(widget=forms.HiddenInput, max_length=64)


def allowed(request):
    """The forces this login may import people into."""
    return access.force_ids(request.user, Can.EDIT_CADRE)


@coordinator_required
def cadre_import(request):
    upload = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and upload.is_valid():
        kept = services.keep_upload(upload.filename, upload.cleaned_data["file"], by=request.user)
        return redirect("cadre_import_preview", pk=kept.pk)
    return render(
        request,
        "cadre/import.html",
        {
            "upload": upload,
            "required_columns": REQUIRED_COLUMNS,
            "optional_columns": OPTIONAL_COLUMNS,
            "max_bytes": MAX_BYTES,
            "max_rows": MAX_ROWS,
        },
        status=400 if upload.is_bound else 200,
    )


@coordinator_required
def cadre_import_preview(request, pk):
    kept = queries.own_upload(request.user, pk)
    if kept is None:
        raise Http404("No such upload of yours.")
    if kept.imported_at is not None:
        return already_imported(request, kept)
    if request.method == "POST":
        confirm = ConfirmForm(request.POST)
        plan = confirm.cleaned_data["plan"] if confirm.is_valid() else ""
        try:
            saved, result = services.import_cadre(kept, allowed(request), plan, by=request.user)
        except services.AlreadyImported:
            return already_imported(request, kept)
        except services.Taken:
            messages.error(request, "The register changed while importing; nothing was saved.")
            return preview(request, kept, status=409)
        if saved:
            added, changed = len(result.having("new")), len(result.having("changed"))
            messages.success(request, f"Imported: {added} added, {changed} changed.")
            return redirect("cadre_list")
        if result.ok:
            messages.error(
                request,
                "The register changed since you checked this file; nothing was saved. "
                "Look at the summary again, then confirm.",
            )
        return preview(request, kept, result, status=409)
    return preview(request, kept)


def already_imported(request, kept):
    when = timezone.localtime(kept.imported_at, local_tz())
    messages.info(
        request, f"That file was imported on {when:%d %b %Y at %H:%M}; nothing more was saved."
    )
    return redirect("cadre_list")


def preview(request, kept, result=None, status=200):
    """The summary of what confirming would do, every problem (a page at a time) and a
    sample of the rows to be added and changed."""
    if result is None:
        result = read_cadre_csv(kept.text, queries.known_register(allowed(request)))
    added, changed = result.having("new"), result.having("changed")
    problems = Paginator(result.problems, PROBLEMS_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "cadre/import.html",
        {
            "kept": kept,
            "result": result,
            "counts": {
                "new": len(added),
                "changed": len(changed),
                "unchanged": len(result.having("unchanged")),
                "problems": result.problem_rows,
            },
            "page": problems,
            "added": added[:SAMPLE],
            "changed": changed[:SAMPLE],
            "confirm": ConfirmForm(initial={"plan": result.digest()})
            if result.ok and (added or changed)
            else None,
        },
        status=status,
    )
