"""Report pages and CSV exports. Thin: forms read the request, queries the data, services
the writes; every export and (in callouts) every timeline view is recorded."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from cadre import access
from cadre import queries as cadre_queries
from cadre.access import Can
from cadre.queries import negotiator_for
from cadre.rules import local_date
from callouts import queries as incident_queries
from callouts import services as callout_services
from callouts.models import AccessRecord
from callouts.web.forms import IncidentFilterForm
from reports import exports, queries, rules, services
from reports.forms import FollowUpForm, PeriodForm, WorkloadSettingsForm

manager_required = access.require(Can.READ_CADRE)
WELFARE_PAGE = 200
RECORDED_PAGE = 50


def forces_for(user):
    """The forces whose figures, workload and welfare this login reads (cadre.access)."""
    return access.forces(user, Can.READ_CADRE)


def _force(request, forces, chosen=None):
    """The force a page is about: the one asked for, else the one chosen for the session
    (a login of several forces is asked to choose; nothing is guessed)."""
    if chosen is not None:
        return chosen
    return access.chosen_force(request, Can.READ_CADRE)


@manager_required
def figures(request):
    forces = forces_for(request.user)
    default = _force(request, forces)
    data = request.GET.copy()
    if data and not data.get("force"):
        data["force"] = default.code  # so the force select shows the force the page is about
    form = PeriodForm(data or None, forces=forces, initial={"force": default})
    period = form.period(local_date(timezone.now()))
    chosen = form.cleaned_data.get("force") if form.is_bound and form.is_valid() else None
    force = chosen or default
    return render(
        request,
        "reports/figures.html",
        {"form": form, "figures": queries.figures(force, period), "force": force},
    )


def _days(request) -> int:
    try:
        days = int(request.GET.get("days", 30))
    except ValueError:
        days = 30
    return days if days in rules.WORKLOAD_WINDOWS else 30


@manager_required
def workload(request):
    forces = forces_for(request.user)
    force = _force(
        request, forces, cadre_queries.force_with_code(forces, request.GET.get("force", ""))
    )
    days = _days(request)
    sort = request.GET.get("sort", "callsign")
    descending = request.GET.get("dir", "desc" if sort != "callsign" else "asc") == "desc"
    rows = rules.sort_rows(queries.workload(force, timezone.now(), days), sort, descending)
    settings_row = queries.workload_settings(force)
    return render(
        request,
        "reports/workload.html",
        {
            "rows": rows,
            "days": days,
            "windows": rules.WORKLOAD_WINDOWS,
            "sort": sort if sort in rules.SORTABLE else "callsign",
            "descending": descending,
            "force": force,
            "forces": forces,
            "with_names": access.is_coordinator(request.user),
            "limits": settings_row,
            "settings_form": WorkloadSettingsForm(instance=settings_row),
            "columns": COLUMNS,
        },
    )


COLUMNS = [
    ("received", "Callouts received"),
    ("answered", "Answered"),
    ("answered_share", "Answered %"),
    ("accepted", "Accepted"),
    ("deployments", "Deployments"),
    ("hours_deployed", "Hours deployed"),
    ("hours_on_call", "Hours on call"),
    ("nights", "Nights on call"),
]


@require_POST
@manager_required
def workload_settings(request):
    forces = forces_for(request.user)
    force = cadre_queries.force_with_code(forces, request.POST.get("force", ""))
    if force is None:
        raise Http404("Not one of your forces.")
    form = WorkloadSettingsForm(request.POST)
    if form.is_valid():
        try:
            services.save_workload_settings(force, **form.cleaned_data, by=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, f"Workload flags for {force.name} saved.")
    else:
        messages.error(request, "Each threshold must be a whole number from 1.")
    return redirect(f"/reports/workload/?force={force.code}")


@login_required
def my_figures(request):
    """A negotiator's own workload over 30, 90 and 365 days."""
    me = negotiator_for(request.user)
    if me is None:
        raise Http404("Your login is not linked to a cadre record.")
    now = timezone.now()
    windows = [
        (days, queries.workload(me.force, now, days, only=me)[0]) for days in rules.WORKLOAD_WINDOWS
    ]
    return render(request, "reports/mine.html", {"me": me, "windows": windows})


@manager_required
def welfare(request):
    forces = forces_for(request.user)
    now = timezone.now()
    return render(
        request,
        "reports/welfare.html",
        {
            "owed": queries.follow_ups_owed(forces, now, limit=WELFARE_PAGE),
            "counts": queries.follow_ups_count(forces, now),
            "recorded": Paginator(queries.follow_ups_recorded(forces), RECORDED_PAGE).get_page(
                request.GET.get("page")
            ),
            "can_read_notes": access.is_supervisor(request.user),
            "hours": settings.WELFARE_FOLLOW_UP_HOURS,
        },
    )


@manager_required
def follow_up(request, pk):
    deployment = queries.owed_deployment(forces_for(request.user), pk)
    if deployment is None:
        raise Http404("No such deployment.")
    if hasattr(deployment, "follow_up"):
        messages.error(request, "A follow-up is already recorded for this.")
        return redirect("welfare")
    form = FollowUpForm(request.POST or None, initial={"held_on": local_date(timezone.now())})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.record_follow_up(
                    deployment,
                    outcome=form.cleaned_data["outcome"],
                    held_at=form.held_at(),
                    note=form.cleaned_data["note"],
                    by=request.user,
                )
            except ValidationError as error:
                for field, errors in error.message_dict.items():
                    form.add_error(field if field in form.fields else "held_on", errors)
            else:
                messages.success(
                    request, f"Follow-up of {deployment.negotiator.callsign} recorded."
                )
                return redirect("welfare")
        status = 400
    return render(
        request, "reports/follow_up.html", {"deployment": deployment, "form": form}, status=status
    )


@access.require(Can.READ_AUDIT)
def audit(request):
    """The access audit: all of it to an administrator, a supervisor's forces' to them."""
    what = request.GET.get("what", "")
    chosen = what if what in AccessRecord.What.values else ""
    records = queries.access_records(access.audit_forces(request.user), what=chosen)
    page = Paginator(records, 100).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    who = access.login_labels(request.user, [r.user for r in page.object_list])
    for r in page.object_list:
        r.who = who.get(r.user_id, "—")
    return render(
        request,
        "reports/audit.html",
        {"page": page, "what": what, "choices": AccessRecord.What.choices},
    )


def _csv(text: str, filename: str) -> HttpResponse:
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@manager_required
def export_incidents(request):
    """The incident list as CSV, with the list's own filters (a bad filter: nothing exported)."""
    form = IncidentFilterForm(request.GET or None, forces=forces_for(request.user))
    if form.is_bound and not form.is_valid():
        messages.error(
            request,
            "Fix the filters first: "
            + " ".join(form.non_field_errors() or ["a filter is not valid."]),
        )
        return redirect(f"/incidents/?{request.GET.urlencode()}")
    incidents = incident_queries.newest_first(request.user)
    incidents = incident_queries.filter_incidents(incidents, **form.filters())
    callout_services.record_access(
        AccessRecord.What.EXPORT_INCIDENTS, by=request.user, filters=request.GET.dict()
    )
    text = exports.incidents_csv(incidents, access.people(request.user))
    return _csv(text, f"incidents-{local_date(timezone.now()):%Y%m%d}.csv")


@manager_required
def export_timeline(request, pk):
    incident = get_object_or_404(incident_queries.visible_incidents(request.user), pk=pk)
    record = incident_queries.timeline_for(
        incident, user=request.user, person=request.GET.get("person", "")
    )
    callout_services.record_access(
        by=request.user,
        what=AccessRecord.What.EXPORT_TIMELINE,
        incident=incident,
        filters=request.GET.dict(),
    )
    return _csv(exports.timeline_csv(record), f"{incident.reference}-timeline.csv")


@manager_required
def export_workload(request):
    forces = forces_for(request.user)
    force = _force(
        request, forces, cadre_queries.force_with_code(forces, request.GET.get("force", ""))
    )
    days = _days(request)
    rows = queries.workload(force, timezone.now(), days)
    callout_services.record_access(
        by=request.user,
        what=AccessRecord.What.EXPORT_WORKLOAD,
        filters={"force": force.code, "days": days},
    )
    with_names = access.is_coordinator(request.user)
    return _csv(exports.workload_csv(rows, days, with_names), f"workload-{force.code}-{days}d.csv")
