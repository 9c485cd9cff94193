"""Coordinators' rota pages: the week and month grid and every edit made on it, in place."""

import calendar
from datetime import date, timedelta

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from cadre import access
from cadre.access import Can, can_view_cadre
from cadre.models import Role
from cadre.rules import local_date, record_id
from roster import queries, rules, services
from roster.forms import (
    FIRST_YEAR,
    LAST_YEAR,
    CoverForm,
    ShiftForm,
)
from roster.views import grid

rota_reader_required = access.require(Can.READ_ROTA)
rota_editor_required = access.require(Can.EDIT_ROTA)


def current_rota(request, action=Can.EDIT_ROTA):
    """The rota of the force the page is about: the login's only one, or the one it chose
    (?force=CODE, remembered); a login with several forces and no choice gets a picker."""
    return queries.rota_for(access.chosen_force(request, action))


def view_state(params):
    kind = "month" if params.get("view") == "month" else "week"
    anchor = parse_day(params.get("at"))
    if kind == "month":
        first = anchor.replace(day=1)
        last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    else:
        first = anchor - timedelta(days=anchor.weekday())
        last = first + timedelta(days=6)
    return kind, first, last


def found(record):
    """The record a query found, or a 404: not there, or not the login's to see (another
    force's, or another negotiator's)."""
    if record is None:
        raise Http404("Not found.")
    return record


def cadre_of(rota):
    return queries.active_cadre(rota.force_id)


def render_board(request, rota, editor=None, editing=None, done="", params=None):
    """The board; with `editor` (a template) open over it, drawn with `editing` (its context,
    which the board's context takes in)."""
    kind, first, last = view_state(params if params is not None else request.GET)
    data = queries.load(
        rota, rules.local_midnight(first), rules.local_midnight(last + timedelta(days=1))
    )
    board = grid.build(data, first, last)
    last_change, not_undoable = queries.undo_offer(rota, request.user, services.UNDOABLE)
    context = {
        "rota": rota,
        "board": board,
        "kind": kind,
        "first": first,
        "previous": first - timedelta(days=1 if kind == "month" else 7),
        "next": last + timedelta(days=1),
        "can_edit": access.may(request.user, Can.EDIT_ROTA, rota.force_id),
        "force": rota.force,
        "force_choices": access.forces(request.user, Can.READ_ROTA),
        "swaps": pending_swaps(rota),
        "last_change": last_change,
        "not_undoable": not_undoable,
        "editor": editor,
        "done": done,
        "state": state_of({"view": kind, "at": first.isoformat()}),
        "today": local_date(timezone.now()),
    }
    if editor:
        context.update(editing or {})
    template = "roster/_board.html" if request.htmx else "roster/board.html"
    return render(request, template, context)


def pending_swaps(rota):
    """Swaps waiting, each with `problems`: why it cannot be approved (then it can only be
    declined)."""
    swaps = list(queries.pending_swaps(rota))
    for swap in swaps:
        swap.problems = services.swap_problems(swap.shift, swap.taker)
    return swaps


def show_editor(request, rota, template, context):
    """The editing panel alone for htmx; the whole board around it otherwise."""
    context = {"state": state_of(request.GET), **context}
    if request.htmx:
        return render(request, template, context)
    return render_board(request, rota, editor=template, editing=context)


def state_of(params):
    kind, first, _ = view_state(params)
    return {"view": kind, "at": first.isoformat(), "qs": f"view={kind}&at={first}"}


def attempt(request, rota, template, context, action, refused=None):
    """Run a change; on success the board without the editor, else the editor with why.
    `refused`, if given, is called with the refusal before the editor is drawn again."""
    try:
        change = action()
    except services.Refused as e:
        context["errors"] = e.errors
        problem = e
    except services.NeedsOverride as e:
        context["warnings"] = e.warnings
        problem = e
    except services.NeedsConfirmation as e:
        context["confirm_edited"] = e.edited
        problem = e
    else:
        return render_board(request, rota, done=change.summary, params=request.POST)
    if refused:
        refused(problem)
    return render_board(request, rota, editor=template, editing=context, params=request.POST)


def submit(request, rota, template, context, form, change, refused=None):
    """Check the form, then make the change it describes (`change` takes its cleaned data)."""
    if not form.is_valid():
        if refused:
            refused(None)
        return render_board(request, rota, editor=template, editing=context, params=request.POST)
    return attempt(request, rota, template, context, lambda: change(form.cleaned_data), refused)


def offer_again(form, field, force_id, role, default, **rule):
    """After a refusal, the form's picker offers who can take the slot the form now names
    (its start and end when they make sense, else `default`), as it did before; the person
    chosen stays offered when only a warning came back, so it can be overridden. The form was
    checked against the whole cadre: the service explains what is wrong with anyone else."""

    def narrow(problem):
        data = getattr(form, "cleaned_data", {}) or {}
        start, end = data.get("start"), data.get("end")
        if not (start and end and start < end):
            start, end = default
        keep = data.get(field) if isinstance(problem, services.NeedsOverride) else None
        form.fields[field].queryset = queries.picker(force_id, role, start, end, keep=keep, **rule)

    return narrow


@rota_reader_required
def rota_board(request):
    return render_board(request, current_rota(request, Can.READ_ROTA))


@rota_editor_required
def shift_new(request):
    rota = current_rota(request)
    negotiators = cadre_of(rota)
    template = "roster/_shift_form.html"
    if request.method == "POST":
        form = ShiftForm(request.POST, negotiators=negotiators)
        role = request.POST.get("role")
        role = role if role in Role.values else Role.NEGOTIATOR
        today = parse_day(None)
        default = (
            rules.at_local(today, rules.HANDOVER),
            rules.at_local(today + timedelta(days=1), rules.HANDOVER),
        )
        return submit(
            request,
            rota,
            template,
            {"form": form},
            form,
            lambda d: services.add(
                rota,
                d["negotiator"],
                d["role"],
                d["start"],
                d["end"],
                d["reason"],
                by=request.user,
            ),
            offer_again(form, "negotiator", rota.force_id, role, default),
        )
    day = parse_day(request.GET.get("day"))
    start = rules.at_local(day, rules.HANDOVER)
    end = rules.at_local(day + timedelta(days=1), rules.HANDOVER)
    role = request.GET.get("role", "negotiator")
    role = role if role in Role.values else Role.NEGOTIATOR
    # The picker offers only who can take that slot in this role (the cell's column).
    negotiators = queries.picker(rota.force_id, role, start, end)
    initial = {"role": role, "start": timezone.localtime(start), "end": timezone.localtime(end)}
    form = ShiftForm(initial=initial, negotiators=negotiators)
    return show_editor(request, rota, template, {"form": form})


def parse_day(raw):
    """A day from the query string; today for anything unusable or absurdly far off."""
    try:
        day = date.fromisoformat(raw or "")
    except ValueError:
        day = None
    if day is None or not (FIRST_YEAR <= day.year <= LAST_YEAR):
        return local_date(timezone.now())
    return day


def live_shift(rota, pk):
    shift = queries.live_shift(rota, pk)
    if shift is None:
        raise Http404("No such shift on this rota.")
    return shift


@rota_editor_required
def shift_detail(request, pk):
    rota = current_rota(request)
    shift = live_shift(rota, pk)
    return show_editor(request, rota, "roster/_shift_detail.html", shift_context(rota, shift))


def shift_context(rota, shift, move=None, cover=None):
    data = queries.load(rota, shift.start, shift.end)
    initial = {
        "negotiator": shift.negotiator,
        "start": timezone.localtime(shift.start),
        "end": timezone.localtime(shift.end),
    }
    return {
        "shift": shift,
        "conflicts": data.conflicts(shift),
        "move_form": move
        or ShiftForm(
            initial={**initial, "role": shift.role},
            negotiators=queries.picker(rota.force_id, *slot(shift), **picking(shift, "move")),
            prefix="move",
        ),
        "cover_form": cover
        or CoverForm(
            initial={**initial, "negotiator": None},
            negotiators=queries.picker(rota.force_id, *slot(shift), **picking(shift, "cover")),
            prefix="cover",
        ),
    }


def slot(shift):
    return shift.role, shift.start, shift.end


def picking(shift, acting):
    """Who a shift's pickers leave out: a cover never offers the person being covered; a
    move does not count the shift being moved against its own negotiator."""
    if acting == "cover":
        return {"exclude": [shift.negotiator_id]}
    return {"replacing": [shift.pk]}


def edit_shift(request, pk, acting, form_class, change):
    """Move or cover: both take a callsign and times from a prefixed form in the shift panel."""
    rota = current_rota(request)
    shift = live_shift(rota, pk)
    form = form_class(request.POST, negotiators=cadre_of(rota), prefix=acting)
    context = shift_context(rota, shift, **{acting: form})
    context["acting"] = acting
    return submit(
        request,
        rota,
        "roster/_shift_detail.html",
        context,
        form,
        lambda d: change(
            shift, d["negotiator"], d["start"], d["end"], d["reason"], by=request.user
        ),
        offer_again(
            form,
            "negotiator",
            rota.force_id,
            shift.role,
            (shift.start, shift.end),
            **picking(shift, acting),
        ),
    )


@rota_editor_required
@require_POST
def shift_move(request, pk):
    return edit_shift(request, pk, "move", ShiftForm, services.move)


@rota_editor_required
@require_POST
def shift_cover(request, pk):
    return edit_shift(request, pk, "cover", CoverForm, services.cover)


CONFIRM_FIRST = "Tick the box to confirm first."


@rota_editor_required
@require_POST
def shift_remove(request, pk):
    rota = current_rota(request)
    shift = live_shift(rota, pk)
    if request.POST.get("confirm") != "yes":
        context = {**shift_context(rota, shift), "errors": [CONFIRM_FIRST]}
        return render_board(
            request, rota, editor="roster/_shift_detail.html", editing=context, params=request.POST
        )
    return attempt(
        request,
        rota,
        "roster/_shift_detail.html",
        shift_context(rota, shift),
        lambda: services.remove(shift, by=request.user),
    )


@rota_editor_required
@require_POST
def undo(request):
    rota = current_rota(request)
    # The change the button named: if another came in since, nothing is undone and the
    # refusal says which change is now the latest.
    change_id = record_id(request.POST.get("change"))
    return attempt(
        request,
        rota,
        "roster/_message.html",
        {},
        lambda: services.undo_change(rota, change_id, by=request.user),
    )


@rota_editor_required
@require_http_methods(["GET", "POST"])
def swap_decide(request, pk):
    """Approve in one step; decline only after confirming it (GET shows the question)."""
    rota = current_rota(request)
    swap = queries.pending_swap(rota, pk)
    if swap is None:
        raise Http404("No such swap request waiting.")
    decline = "roster/_swap_decline.html"
    if request.method == "GET":
        return show_editor(request, rota, decline, {"swap": swap})
    if request.POST.get("decision") == "decline":
        if request.POST.get("confirm") != "yes":
            context = {"swap": swap, "errors": [CONFIRM_FIRST]}
            return render_board(request, rota, editor=decline, editing=context, params=request.POST)
        services.decline_swap(swap, by=request.user)
        return render_board(request, rota, done="Swap declined.", params=request.POST)
    context = {"swap": swap}
    return attempt(
        request,
        rota,
        "roster/_swap_approve.html",
        context,
        lambda: services.approve_swap(swap, request.POST.get("reason", ""), by=request.user),
    )


@login_required
def home(request):
    if can_view_cadre(request.user):
        return redirect(reverse("rota_board"))
    return redirect(reverse("my_shifts"))
