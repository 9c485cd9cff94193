"""Coordinators' planning pages: rotations, generating from them, unavailability, the audit."""

import calendar
from datetime import datetime, timedelta

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from cadre.access import Can
from cadre.rules import record_id
from roster import queries, rules, services
from roster.forms import (
    CoverRulesForm,
    GenerateForm,
    PatternEditForm,
    PatternForm,
    UnavailabilityForm,
)
from roster.models import Shift
from roster.views.board import (
    CONFIRM_FIRST,
    cadre_of,
    current_rota,
    found,
    render_board,
    rota_editor_required,
    rota_reader_required,
    show_editor,
    submit,
    view_state,
)

CHANGES_PER_PAGE = 100


@rota_editor_required
def generate(request):
    rota = current_rota(request)
    patterns = queries.active_patterns(rota)
    template = "roster/_generate_form.html"
    if request.method != "POST":
        kind, first, last = view_state(request.GET)
        form = GenerateForm(
            initial={"first_day": first, "end_day": last + timedelta(days=1)}, patterns=patterns
        )
        return show_editor(request, rota, template, {"form": form})
    form = GenerateForm(request.POST, patterns=patterns)
    return submit(
        request,
        rota,
        template,
        {"form": form},
        form,
        lambda d: services.generate(
            rota,
            d["pattern"],
            d["first_day"],
            d["end_day"],
            d["confirm"],
            d["reason"],
            by=request.user,
        ),
    )


@rota_editor_required
def unavailable_for(request):
    """A coordinator marks someone unavailable (negotiators do it for themselves on 'my shifts')."""
    rota = current_rota(request)
    template = "roster/_unavailable_form.html"
    negotiators = cadre_of(rota)
    absences = queries.absences_ahead(rota, timezone.now())
    if request.method != "POST":
        context = {"form": UnavailabilityForm(), "negotiators": negotiators, "absences": absences}
        return show_editor(request, rota, template, context)
    form = UnavailabilityForm(request.POST)
    context = {"form": form, "negotiators": negotiators, "absences": absences}
    chosen = record_id(request.POST.get("negotiator"))
    who = next((n for n in negotiators if n.pk == chosen), None) if chosen else None
    if who is None:
        context["errors"] = ["Choose who is unavailable."]
    if who is None or not form.is_valid():
        return render_board(request, rota, editor=template, editing=context, params=request.POST)
    d = form.cleaned_data
    try:
        absence = services.mark_unavailable(
            who, d["start"], d["end"], d["reason"], d["note"], by=request.user
        )
    except services.Refused as e:
        context["errors"] = e.errors
        return render_board(request, rota, editor=template, editing=context, params=request.POST)
    done = f"{who.callsign} marked unavailable from {rules.when(absence.start)}."
    return render_board(request, rota, done=done, params=request.POST)


@rota_editor_required
@require_http_methods(["GET", "POST"])
def unavailable_remove(request, pk):
    """A coordinator withdraws someone's unavailability (theirs or the negotiator's own entry),
    after confirming it (GET shows the question). Audited; Undo puts it back."""
    rota = current_rota(request)
    absence = found(queries.force_absence(rota.force_id, pk))
    template = "roster/_unavailable_remove.html"
    if request.method == "GET":
        return show_editor(request, rota, template, {"absence": absence})
    if request.POST.get("confirm") != "yes":
        context = {"absence": absence, "errors": [CONFIRM_FIRST]}
        return render_board(request, rota, editor=template, editing=context, params=request.POST)
    change = services.withdraw_unavailability(absence, by=request.user)
    return render_board(request, rota, done=change.summary + ".", params=request.POST)


@rota_reader_required
def audit(request):
    rota = current_rota(request, Can.READ_ROTA)
    page = Paginator(queries.changes(rota), CHANGES_PER_PAGE).get_page(request.GET.get("page"))
    entries = list(page.object_list)
    for entry in entries:
        # Shifts as they were and became, in TIME_ZONE clock time (stored as UTC ISO text).
        entry.before_lines = [shift_line(s) for s in entry.before or []]
        entry.after_lines = [shift_line(s) for s in entry.after or []]
    return render(request, "roster/audit.html", {"entries": entries, "page": page, "rota": rota})


def shift_line(snapshot) -> dict:
    """One shift of the audit: who ("ALPHA-01 negotiator"), start and end ("Mon 5 Jan 08:00")."""

    def clock(value):
        try:
            return rules.when(datetime.fromisoformat(value))
        except (TypeError, ValueError):
            return str(value or "?")

    return {
        "who": f"{snapshot.get('callsign', '?')} {snapshot.get('role', '')}".strip(),
        "start": clock(snapshot.get("start")),
        "end": clock(snapshot.get("end")),
    }


@rota_editor_required
def patterns(request):
    rota = current_rota(request)
    everyone = queries.everyone_of(rota.force_id)
    # Bound only to a POST: a plain page load shows an empty form, not "This field is required".
    form = PatternForm(request.POST if request.method == "POST" else None, negotiators=everyone)
    if request.method == "POST" and form.is_valid():
        services.add_pattern(rota, form.cleaned_data, by=request.user)
        return redirect("rota_patterns")
    return render_patterns(request, rota, everyone, form, None)


def render_patterns(request, rota, everyone, form, rules_form):
    """The rotations page: the new-rotation form and the cover rules form (as submitted
    when refused)."""
    names = {n.pk: n.callsign for n in everyone}
    rows = [
        (p, [names.get(pk, "?") for pk in p.order], calendar.day_name[p.handover_weekday])
        for p in queries.patterns_of(rota)
    ]
    rules_form = rules_form or CoverRulesForm(
        initial={**rota.minimums(), "max_consecutive_days": rota.max_consecutive_days}
    )
    context = {"form": form, "rows": rows, "rules_form": rules_form, "rota": rota}
    return render(request, "roster/patterns.html", context)


@rota_editor_required
@require_POST
def cover_rules(request):
    rota = current_rota(request)
    form = CoverRulesForm(request.POST)
    if not form.is_valid():
        everyone = queries.everyone_of(rota.force_id)
        return render_patterns(request, rota, everyone, PatternForm(negotiators=everyone), form)
    services.set_cover_rules(rota, form.cleaned_data, by=request.user)
    messages.success(request, "Cover rules saved.")
    return redirect("rota_patterns")


def render_pattern(request, rota, pattern, everyone, form, **extra):
    """A rotation's page: its settings to change (and what that does to the shifts it made)
    and ending it."""
    upcoming = queries.rotation_upcoming(pattern, timezone.now())
    context = {
        "rota": rota,
        "pattern": pattern,
        "form": form,
        "upcoming": upcoming,
        "edited": sum(1 for s in upcoming if s.source != Shift.Source.ROTATION),
        "first_upcoming": min((s.start for s in upcoming), default=None),
        **extra,
    }
    return render(request, "roster/pattern.html", context)


@rota_editor_required
@require_http_methods(["GET", "POST"])
def pattern_edit(request, pk):
    rota = current_rota(request)
    pattern = found(queries.pattern_of(rota, pk))
    everyone = queries.everyone_of(rota.force_id)
    if request.method == "GET":
        form = PatternEditForm(instance=pattern, negotiators=everyone)
        return render_pattern(request, rota, pattern, everyone, form)
    form = PatternEditForm(
        request.POST, instance=queries.pattern_of(rota, pattern.pk), negotiators=everyone
    )
    if not form.is_valid():
        return render_pattern(request, rota, pattern, everyone, form)
    d = form.cleaned_data
    values = {f: d[f] for f in services.ROTATION_FIELDS}
    try:
        change = services.change_rotation(
            pattern, values, by=request.user, confirm=d["confirm"], reason=d["reason"]
        )
    except services.Refused as e:
        return render_pattern(request, rota, pattern, everyone, form, errors=e.errors)
    except services.NeedsOverride as e:
        return render_pattern(request, rota, pattern, everyone, form, warnings=e.warnings)
    except services.NeedsConfirmation as e:
        return render_pattern(request, rota, pattern, everyone, form, confirm_edited=e.edited)
    messages.success(request, f"{change.summary}. Undo on the rota takes it back.")
    return redirect("rota_patterns")


@rota_editor_required
@require_POST
def pattern_end(request, pk):
    rota = current_rota(request)
    pattern = found(queries.pattern_of(rota, pk))
    everyone = queries.everyone_of(rota.force_id)
    form = PatternEditForm(instance=pattern, negotiators=everyone)
    if request.POST.get("confirm") != "yes":
        return render_pattern(request, rota, pattern, everyone, form, end_errors=[CONFIRM_FIRST])
    try:
        change = services.end_rotation(pattern, by=request.user)
    except services.Refused as e:
        return render_pattern(request, rota, pattern, everyone, form, end_errors=e.errors)
    messages.success(request, f"{change.summary}. Undo on the rota takes it back.")
    return redirect("rota_patterns")
