"""Reads for reports. Counting and grouping happen in the database: a page's queries are a
fixed number whatever the history's size. What comes back is counts, and for the percentiles
one duration per incident (and per incident and role), from which rules.percentile takes the
median and 90th percentile the same way on SQLite and PostgreSQL.

"Which force?" is asked of cadre.queries only.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import (
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    Max,
    Min,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Window,
)
from django.db.models.functions import RowNumber, TruncMonth

from cadre.models import Force, Negotiator, Role
from cadre.rules import local_tz
from callouts import eventdata
from callouts.deployed import WENT
from callouts.models import (
    AccessRecord,
    Callout,
    Channel,
    Deployment,
    Event,
    Incident,
    IncidentKind,
)
from reports import charts, rules
from reports.models import FollowUp, WorkloadSettings
from roster.models import Shift


def _seconds(later: datetime | None, earlier: datetime) -> float | None:
    return None if later is None else (later - earlier).total_seconds()


# Response figures -------------------------------------------------------------------------


@dataclass
class RoleFigures:
    role: str
    label: str
    first_accept: rules.Spread
    filled: rules.Spread


@dataclass
class MonthFigures:
    month: date
    incidents: int
    first_accept: rules.Spread
    filled: rules.Spread


@dataclass
class AidRow:
    force: str
    neighbour: bool
    given_people: int = 0
    given_incidents: int = 0
    received_people: int = 0
    received_incidents: int = 0


@dataclass
class Figures:
    force: Force
    period: rules.Period
    total: int
    counts: dict
    shares: dict
    kinds: list[tuple[str, str]]
    months: list[MonthFigures]
    grid: list[dict]  # per kind: label, counts per month, total
    first_accept: rules.Spread
    filled: rules.Spread
    roles: list[RoleFigures]
    aid: list[AidRow]
    per_person: list[tuple[str, int]]
    response_chart: charts.Chart = field(repr=False, default=None)
    people_chart: charts.Chart = field(repr=False, default=None)


def figures(force: Force, period: rules.Period) -> Figures:
    tz = local_tz()
    start, end = period.bounds(tz)
    incidents = Incident.objects.filter(force=force, raised_at__gte=start, raised_at__lt=end)

    # How many, of which kind, in which month.
    grid_rows = (
        incidents.annotate(month=TruncMonth("raised_at", tzinfo=tz))
        .values("month", "kind")
        .annotate(n=Count("id"))
        .order_by()
    )
    by_kind_month = {}
    for row in grid_rows:
        month = row["month"]
        month = month.date() if isinstance(month, datetime) else month
        by_kind_month[(row["kind"], month.replace(day=1))] = row["n"]

    # Shares, from the record and the log.
    fired = Event.objects.filter(
        incident=OuterRef("pk"),
        kind=Event.Kind.STEP_FIRED,
        **{eventdata.lookup(Event.Kind.STEP_FIRED, "asked", "gt"): 0},
    )
    voice = fired.filter(channel__in=[Channel.VOICE, Channel.BOTH])
    later_step = fired.filter(
        at__lt=OuterRef("filled_at"),
        **{eventdata.lookup(Event.Kind.STEP_FIRED, "step", "gt"): 1},
    )
    counts = incidents.annotate(has_voice=Exists(voice), has_later=Exists(later_step)).aggregate(
        total=Count("id"),
        filled=Count("id", filter=Q(filled_at__isnull=False)),
        first_step=Count("id", filter=Q(filled_at__isnull=False, has_later=False)),
        exhausted=Count("id", filter=Q(exhausted_at__isnull=False)),
        voice=Count("id", filter=Q(has_voice=True)),
        mutual_aid=Count("id", filter=Q(mutual_aid=True)),
    )
    total = counts["total"]
    shares = {k: rules.share(v, total) for k, v in counts.items() if k != "total"}

    # One row per incident: when raised, what it needed, its first acceptance, when filled.
    first = (
        Deployment.objects.filter(incident=OuterRef("pk"))
        .order_by("accepted_at")
        .values("accepted_at")[:1]
    )
    timing = list(
        incidents.annotate(first=Subquery(first)).values_list(
            "pk", "raised_at", "needs", "first", "filled_at"
        )
    )
    raised = {pk: at for pk, at, _, _, _ in timing}
    needs = {pk: n for pk, _, n, _, _ in timing}
    first_all = [s for _, at, _, f, _ in timing if (s := _seconds(f, at)) is not None]
    filled_all = [s for _, at, _, _, fl in timing if (s := _seconds(fl, at)) is not None]

    months = []
    for month in period.months():
        mine = [t for t in timing if t[1].astimezone(tz).date().replace(day=1) == month]
        months.append(
            MonthFigures(
                month,
                len(mine),
                rules.spread([s for _, at, _, f, _ in mine if (s := _seconds(f, at)) is not None]),
                rules.spread(
                    [s for _, at, _, _, fl in mine if (s := _seconds(fl, at)) is not None]
                ),
            )
        )

    # Per role: first acceptance in the role (withdrawn or not), and when as many went as it
    # needed.
    role_rows = (
        Deployment.objects.filter(incident__in=incidents, late=False)
        .exclude(role="")
        .values("incident_id", "role")
        .annotate(
            first=Min("accepted_at"),
            last=Max("accepted_at", filter=WENT),
            went=Count("id", filter=WENT),
        )
        .order_by()
    )
    first_by_role, filled_by_role = rules.role_timings(
        needs,
        (
            rules.RoleTiming(
                r["incident_id"],
                r["role"],
                _seconds(r["first"], raised[r["incident_id"]]),
                _seconds(r["last"], raised[r["incident_id"]]),
                r["went"],
            )
            for r in role_rows
        ),
    )
    roles = [
        RoleFigures(
            role,
            label,
            rules.spread(first_by_role.get(role, [])),
            rules.spread(filled_by_role.get(role, [])),
        )
        for role, label in Role.choices
        if role in first_by_role or role in filled_by_role
    ]

    # Mutual aid, given to and received from each force (neighbours always listed).
    in_period = Q(incident__raised_at__gte=start, incident__raised_at__lt=end)
    received = (
        Deployment.objects.went()
        .filter(in_period, incident__force=force)
        .exclude(negotiator__force=force)
        .values("negotiator__force__name")
        .annotate(people=Count("id"), incidents=Count("incident_id", distinct=True))
        .order_by()
    )
    given = (
        Deployment.objects.went()
        .filter(in_period, negotiator__force=force)
        .exclude(incident__force=force)
        .values("incident__force__name")
        .annotate(people=Count("id"), incidents=Count("incident_id", distinct=True))
        .order_by()
    )
    aid = {name: AidRow(name, True) for name in force.neighbours.values_list("name", flat=True)}
    for row in received:
        r = aid.setdefault(
            row["negotiator__force__name"], AidRow(row["negotiator__force__name"], False)
        )
        r.received_people, r.received_incidents = row["people"], row["incidents"]
    for row in given:
        r = aid.setdefault(
            row["incident__force__name"], AidRow(row["incident__force__name"], False)
        )
        r.given_people, r.given_incidents = row["people"], row["incidents"]

    per_person = list(
        Deployment.objects.went()
        .filter(in_period, negotiator__force=force)
        .values_list("negotiator__callsign")
        .annotate(n=Count("id"))
        .order_by("-n", "negotiator__callsign")
    )

    kinds = list(IncidentKind.choices)
    grid = []
    for kind, label in kinds:
        cells = [by_kind_month.get((kind, m), 0) for m in period.months()]
        grid.append({"kind": kind, "label": label, "cells": cells, "total": sum(cells)})
    result = Figures(
        force=force,
        period=period,
        total=total,
        counts=counts,
        shares=shares,
        kinds=kinds,
        months=months,
        grid=grid,
        first_accept=rules.spread(first_all),
        filled=rules.spread(filled_all),
        roles=roles,
        aid=sorted(aid.values(), key=lambda a: (not a.neighbour, a.force)),
        per_person=per_person,
    )
    result.response_chart = charts.columns(
        [m.month.strftime("%b %y") for m in months],
        {
            "Median": [m.filled.median for m in months],
            "90th percentile": [m.filled.p90 for m in months],
        },
    )
    result.people_chart = charts.bars([(c, float(n)) for c, n in per_person])
    return result


# Workload -------------------------------------------------------------------------------


def workload_settings(force: Force) -> WorkloadSettings:
    """The force's thresholds (an unsaved row with the defaults when none was set)."""
    return WorkloadSettings.objects.filter(force=force).first() or WorkloadSettings(force=force)


def workload(force: Force, now: datetime, days: int, only: Negotiator | None = None):
    """One row per member of the force over the last `days` days, with their flags."""
    tz = local_tz()
    start = now - timedelta(days=days)
    people = Negotiator.objects.filter(force=force)
    if only is not None:
        people = people.filter(pk=only.pk)
    rows = {
        pk: rules.WorkloadRow(pk, callsign, name)
        for pk, callsign, name in people.order_by("callsign").values_list(
            "pk", "callsign", "full_name"
        )
    }
    mine = Q(negotiator__in=rows.keys()) if only is not None else Q(negotiator__force=force)

    for row in (
        Callout.objects.filter(mine, asked_at__gte=start, asked_at__lt=now)
        .values("negotiator_id")
        .annotate(received=Count("id"), answered=Count("id", filter=Q(answered_at__isnull=False)))
        .order_by()
    ):
        if r := rows.get(row["negotiator_id"]):
            r.received, r.answered = row["received"], row["answered"]

    deployed = ExpressionWrapper(
        F("stood_down_at") - F("accepted_at"), output_field=DurationField()
    )
    for row in (
        Deployment.objects.filter(mine, accepted_at__gte=start, accepted_at__lt=now)
        .values("negotiator_id")
        .annotate(
            accepted=Count("id"),
            deployments=Count("id", filter=WENT),
            deployed=Sum(deployed, filter=WENT & Q(stood_down_at__isnull=False)),
        )
        .order_by()
    ):
        if r := rows.get(row["negotiator_id"]):
            r.accepted, r.deployments = row["accepted"], row["deployments"]
            r.hours_deployed = (row["deployed"] or timedelta()).total_seconds() / 3600

    shifts: dict[int, list] = {}
    for pk, s, e in (
        Shift.objects.live()
        .filter(mine, start__lt=now, end__gt=start)
        .values_list("negotiator_id", "start", "end")
    ):
        shifts.setdefault(pk, []).append((s, e))
    for pk, spans in shifts.items():
        if r := rows.get(pk):
            r.hours_on_call, r.nights = rules.on_call_span(spans, start, now, tz)

    for pk, flags in flags_for(force, now, only=only).items():
        if r := rows.get(pk):
            r.flags = flags
    return list(rows.values())


def flags_for(force: Force, now: datetime, only: Negotiator | None = None) -> dict[int, list[str]]:
    """The flags a supervisor acts on, per person: too many deployments in 30 days, and
    the last N callouts all unanswered. Not counted: callouts still being called, and those
    asked after the first step (not on call) and stood down unanswered within
    rules.FAIR_CHANCE (filled before they could reasonably answer)."""
    limits = workload_settings(force)
    mine = Q(negotiator=only) if only is not None else Q(negotiator__force=force)
    flags: dict[int, list[str]] = {}
    for pk, n in (
        Deployment.objects.went()
        .filter(mine, accepted_at__gte=now - timedelta(days=30))
        .values_list("negotiator_id")
        .annotate(n=Count("id"))
        .order_by()
    ):
        if rules.heavy_load(n, limits.max_deployments_30_days):
            flags.setdefault(pk, []).append(
                f"{n} deployments in 30 days (more than {limits.max_deployments_30_days})"
            )
    n = limits.unanswered_in_a_row
    latest: dict[int, list[bool]] = {}
    if n:
        recent = (
            Callout.objects.filter(mine, asked_at__gte=now - timedelta(days=365))
            .exclude(incident__status=Incident.Status.CALLING)
            # Stood down unanswered before they had a fair chance: neither answered nor not.
            .exclude(
                answered_at__isnull=True,
                first_step__gt=0,
                stood_down_at__lt=F("asked_at") + rules.FAIR_CHANCE,
            )
            .annotate(
                rank=Window(
                    RowNumber(),
                    partition_by=[F("negotiator_id")],
                    order_by=[F("asked_at").desc(), F("pk").desc()],
                )
            )
            .filter(rank__lte=n)
            .order_by("negotiator_id", "rank")
            .values_list("negotiator_id", "answered_at")
        )
        for pk, answered_at in recent:
            latest.setdefault(pk, []).append(answered_at is not None)
    for pk, answered in latest.items():
        if rules.not_answering(answered, n):
            flags.setdefault(pk, []).append(f"has not answered the last {n} callouts")
    return flags


def flagged(forces, now: datetime) -> list[tuple[Force, str, list[str]]]:
    """Everyone flagged in these forces, for the dashboard: (force, callsign, flags)."""
    out = []
    for force in forces:
        flags = flags_for(force, now)
        if flags:
            names = dict(Negotiator.objects.filter(pk__in=flags).values_list("pk", "callsign"))
            out += [
                (force, names[pk], f) for pk, f in sorted(flags.items(), key=lambda i: names[i[0]])
            ]
    return out


# Welfare follow-ups ---------------------------------------------------------------------


@dataclass(frozen=True)
class Owed:
    deployment: Deployment
    due_at: datetime
    state: str  # "open" or "overdue"


def _owed(forces):
    return Deployment.objects.went().filter(
        stood_down_at__isnull=False,
        negotiator__force__in=forces,
        follow_up__isnull=True,
    )


def follow_ups_owed(forces, now: datetime, limit: int | None = None) -> list[Owed]:
    """Everyone who went and has no follow-up recorded, oldest stand-down first. A follow-up
    is owed by the person's own force (mutual aid included)."""
    hours = settings.WELFARE_FOLLOW_UP_HOURS
    owed = _owed(forces).select_related("negotiator", "incident").order_by("stood_down_at", "pk")
    if limit:
        owed = owed[:limit]
    return [
        Owed(
            d,
            rules.follow_up_due(d.stood_down_at, hours),
            rules.follow_up_state(d.stood_down_at, hours, now),
        )
        for d in owed
    ]


def follow_ups_count(forces, now: datetime) -> dict:
    """How many follow-ups are owed, and how many of them are overdue (one query)."""
    overdue_before = now - timedelta(hours=settings.WELFARE_FOLLOW_UP_HOURS)
    return _owed(forces).aggregate(
        owed=Count("pk"), overdue=Count("pk", filter=Q(stood_down_at__lte=overdue_before))
    )


def follow_ups_recorded(forces):
    """Follow-ups recorded, newest first (the welfare page shows them a page at a time)."""
    return (
        FollowUp.objects.filter(deployment__negotiator__force__in=forces)
        .select_related("deployment__negotiator", "deployment__incident", "recorded_by")
        .order_by("-held_at", "-pk")
    )


def owed_deployment(forces, pk) -> Deployment | None:
    return (
        Deployment.objects.went()
        .filter(pk=pk, negotiator__force__in=forces, stood_down_at__isnull=False)
        .select_related("negotiator", "incident")
        .first()
    )


# The access audit ----------------------------------------------------------------------


def access_records(forces=None, what=""):
    """The access audit; of `forces` (ids; None: all of it): what was looked at there and
    what their people looked at (cadre.access.audit_forces says which); only `what` (an
    AccessRecord.What) when given."""
    records = AccessRecord.objects.select_related("user", "incident")
    if what:
        records = records.filter(what=what)
    if forces is None:
        return records
    return records.filter(
        Q(incident__force__in=forces) | Q(user__memberships__force__in=forces)
    ).distinct()
