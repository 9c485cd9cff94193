"""Incident pages: raise, the live board and its buttons, and the deployment history."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from cadre import access
from cadre.access import Can
from cadre.models import Role
from cadre.queries import negotiator_for
from callouts import board, queries, services
from callouts.models import AccessRecord, Incident
from callouts.web import hands_views
from callouts.web.forms import (
    IncidentFilterForm,
    RaiseIncidentForm,
    RaiseNeedsForm,
    WebAnswerForm,
)

manager_required = access.require(Can.MANAGE_INCIDENTS)
POLL_SECONDS = 2


@manager_required
def incident_raise(request):
    forces = access.forces(request.user, Can.MANAGE_INCIDENTS)
    chosen = access.chosen_force(request, Can.MANAGE_INCIDENTS, required=False)
    form = RaiseIncidentForm(request.POST or None, forces=forces, chosen=chosen)
    if request.method == "POST" and form.is_valid():
        try:
            incident = services.raise_incident(**form.service_arguments(), by=request.user)
        except ValidationError as error:
            attach_service_errors(form, error)
        else:
            messages.success(request, f"{incident.reference} raised: calling now.")
            return redirect("incident_board", pk=incident.pk)
    return render(request, "callouts/raise.html", {"form": form})


def attach_service_errors(form, error):
    """Field errors from services.raise_incident onto the form; the rest on top."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, errors in error.error_dict.items():
        target = field if field in form.fields else None
        for e in errors:
            text = " ".join(e.messages)
            form.add_error(target, text if target else f"{field.capitalize()}: {text}")


def board_context(request, incident):
    """What the board shows: all of it to its force's managers; to a force that lent people
    (mutual aid) their rows; to a negotiator their own callout. Names only of people from
    forces the viewer coordinates."""
    view = queries.view_of(request.user, incident)
    summary = queries.board_for(incident, user=request.user)
    alerts, alerts_total = queries.board_alerts(incident) if view.manage else ([], 0)
    everyone = request.GET.get("everyone") == "1"
    context = {
        "incident": incident,
        "board": summary,
        "groups": board.shown(summary.groups, None if everyone else board.GROUP_SHOWN),
        "everyone": everyone,
        "group_shown": board.GROUP_SHOWN,
        "progress": board.progress(incident.frozen_steps, incident.step_index, incident.status),
        "is_live": incident.status in Incident.LIVE,
        "can_manage": view.manage,
        "sees_rows": view.manage or bool(view.row_forces),
        "show_names": bool(view.names_of),
        "lent": not view.manage and bool(view.row_forces),
        "logins": view.logins,
        "own_row": summary.rows[0] if view.own_only and summary.rows else None,
        "alerts": alerts,
        "alerts_total": alerts_total,
        "unfilled": queries.unfilled_tellings(incident) if view.manage else (),
        "poll_seconds": POLL_SECONDS,
        "can_call_again": view.manage
        and incident.status in services.CALL_AGAIN_FROM
        and not summary.filled,
        **answer_context(request, incident),
    }
    if view.manage:
        # The role picker starts on the role still short (the scarcest first), else negotiator.
        short = [need.role for need in summary.short]
        context["needs_form"] = RaiseNeedsForm(
            initial={"role": short[0] if short else Role.NEGOTIATOR}
        )
    return context


def answer_context(request, incident):
    """Anyone called to it (a coordinator too) can answer on the board instead of by SMS,
    while it is live and they have not been stood down: in the part that updates itself, so
    that "Can you come?" goes once the incident no longer needs them."""
    me = negotiator_for(request.user)
    mine = queries.board_for(incident, only_negotiator=me).rows if me else ()
    if mine and incident.status in Incident.LIVE and mine[0].state != "stood_down":
        return {"my_row": mine[0], "answer_form": WebAnswerForm()}
    return {}


def visible_incident(request, pk):
    return get_object_or_404(queries.visible_incidents(request.user), pk=pk)


@login_required
def incident_board(request, pk):
    incident = visible_incident(request, pk)
    context = board_context(request, incident)
    context.update(hands_views.board_context(request, incident))  # by phone, by hand
    return render(request, "callouts/board.html", context)


@login_required
def incident_board_live(request, pk):
    """The part of the board that htmx swaps in every few seconds."""
    incident = visible_incident(request, pk)
    return render(request, "callouts/board.html#live", board_context(request, incident))


def managed_incident(request, pk):
    return get_object_or_404(queries.managed_incidents(request.user), pk=pk)


@require_POST
@manager_required
def incident_raise_needs(request, pk):
    incident = managed_incident(request, pk)
    form = RaiseNeedsForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a role and how many more (1 or more).")
    elif incident.status not in Incident.LIVE:
        messages.error(request, f"{incident.reference} is no longer live.")
    else:
        role, count = form.cleaned_data["role"], form.cleaned_data["count"]
        try:
            services.raise_needs(incident, role, count, by=request.user)
        except ValidationError as e:
            messages.error(request, " ".join(e.messages))
        else:
            messages.success(request, f"Asking for {count} more ({Role(role).label.lower()}).")
    return redirect("incident_board", pk=pk)


@require_http_methods(["GET", "POST"])
@manager_required
def incident_call_again(request, pk):
    """Exhausted or stood down too soon: call again for what is missing, needs unchanged.
    Asks first, as ending does: it texts people."""
    incident = managed_incident(request, pk)
    if incident.status not in services.CALL_AGAIN_FROM:
        messages.error(request, "Only an exhausted or stood-down incident can be called again.")
        return redirect("incident_board", pk=pk)
    return end_incident(request, pk, "call_again")


# What ending an incident does, said on the page that asks to confirm it.
ENDINGS = {
    "stand_down": {
        "action": services.stand_down,
        "verb": "Stand down",
        "done": "stood down: everyone asked is told.",
        "explain": "Everyone who accepted, or was asked and has not answered, is told by SMS "
        "that they are not needed. Escalation stops.",
    },
    "close": {
        "action": services.close,
        "verb": "Close",
        "done": "closed.",
        "explain": "The incident is over. Anyone still out is stood down by SMS first.",
    },
    "call_again": {
        "action": services.call_again,
        "verb": "Call again",
        "done": "is being called again for the places open.",
        "explain": "The escalation starts again from its first step for the places still "
        "open; the need stays as it is. People stood down who did not decline are asked "
        "again when a step reaches them: until then the board lists them as not asked again "
        "yet.",
    },
}


def end_incident(request, pk, ending):
    """Ask first (a page of its own, no JavaScript needed), then act on a confirmed POST."""
    incident = managed_incident(request, pk)
    what = ENDINGS[ending]
    if request.method == "POST" and request.POST.get("confirm") == "yes":
        try:
            what["action"](incident, by=request.user)
        except ValidationError as e:
            messages.error(request, " ".join(e.messages))
        else:
            messages.success(request, f"{incident.reference} {what['done']}")
        return redirect("incident_board", pk=pk)
    return render(
        request,
        "callouts/confirm_end.html",
        {
            "incident": incident,
            "what": what,
            "ending": ending,
            "board": queries.board_for(incident),
            "is_live": incident.status in Incident.LIVE,
        },
    )


@require_http_methods(["GET", "POST"])
@manager_required
def incident_stand_down(request, pk):
    return end_incident(request, pk, "stand_down")


@require_http_methods(["GET", "POST"])
@manager_required
def incident_close(request, pk):
    return end_incident(request, pk, "close")


@require_POST
@login_required
def incident_answer(request, pk):
    """A negotiator answers their own callout on the board: recorded as an SMS reply is."""
    incident = visible_incident(request, pk)
    negotiator = negotiator_for(request.user)
    if negotiator is None or not queries.was_called(incident, negotiator):
        raise Http404("You were not called to this incident.")
    form = WebAnswerForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect("incident_board", pk=pk)
    try:
        outcome = services.answer_from_web(
            incident,
            negotiator,
            form.cleaned_data["answer"],
            form.cleaned_data["eta"],
            by=request.user,
        )
    except ValidationError as e:
        messages.error(request, " ".join(e.messages))
    else:
        messages.success(request, outcome.text)
    return redirect("incident_board", pk=pk)


@login_required
def incident_timeline(request, pk):
    """The incident's log in order and who went per role: the debrief document (prints).
    Only the lines of the people the login sees (cadre.scope.People): all to the incident's
    force, its own people's to a force that lent them, their own to a negotiator."""
    incident = visible_incident(request, pk)
    view = queries.view_of(request.user, incident)
    sees_rows = view.manage or bool(view.row_forces)
    person = request.GET.get("person", "").strip()
    record, page = queries.timeline_page(
        incident, request.GET.get("page"), user=request.user, person=person
    )
    if person and person not in record.people:
        messages.error(request, f"Nobody called {person} appears in this incident.")
    services.record_access(
        AccessRecord.What.TIMELINE, by=request.user, incident=incident, filters={"person": person}
    )
    return render(
        request,
        "callouts/timeline.html",
        {
            "incident": incident,
            "timeline": record,
            "page": page,
            "person": person,
            "can_manage": view.manage,
            "sees_rows": sees_rows,
            "lent": not view.manage and bool(view.row_forces),
            "logins": view.logins,
            "time_zone": settings.TIME_ZONE,
            "debrief": queries.debrief_of(incident) if view.logins else None,
            "can_debrief": view.manage and incident.status == Incident.Status.CLOSED,
        },
    )


@login_required
def incident_list(request):
    """Live incidents and the history: who was asked, who answered, who went, how fast."""
    manager = queries.can_manage(request.user)
    incidents = queries.newest_first(request.user)
    filters = IncidentFilterForm(
        request.GET or None, forces=access.forces(request.user, Can.MANAGE_INCIDENTS)
    )
    incidents = queries.filter_incidents(incidents, **filters.filters())
    page = Paginator(incidents, 50).get_page(request.GET.get("page"))
    own = None if manager else negotiator_for(request.user)
    if own is None:
        boards = queries.boards_for(page.object_list, user=request.user)
    else:
        boards = {i.pk: queries.board_for(i, only_negotiator=own) for i in page.object_list}
    rows = []
    for incident in page.object_list:
        summary = boards[incident.pk]
        rows.append(
            {
                "incident": incident,
                "board": summary,
                "timing": board.timing(incident.raised_at, incident.filled_at, summary),
            }
        )
    return render(
        request,
        "callouts/list.html",
        {"rows": rows, "page": page, "can_manage": manager, "filters": filters},
    )
