"""CSV exports: the incident list (with its filters), a timeline, the workload table.

Phone numbers never appear (no mobile column, and every cell goes through rules.csv_cell);
only the people the login sees, full names only where it may (cadre.scope.People, as on
the pages: mutual aid shows a lending force its own people only, and the force that asked
them their callsigns only). Each export is recorded by the view that makes it.
Times are ISO 8601 with the force's offset (2026-07-01T14:02:05+01:00), durations plain
numbers in the unit their header names, so a spreadsheet or a script reads them back.
"""

import csv
import io
from collections.abc import Iterable

from django.db.models import Count, OuterRef, Subquery

from cadre.rules import local_tz
from callouts.models import Callout, Deployment
from callouts.queries import seen
from reports import rules


def to_csv(header: list[str], rows: Iterable[Iterable]) -> str:
    tz = local_tz()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([rules.csv_cell(cell, tz) for cell in row])
    return out.getvalue()


def _count(queryset):
    return Subquery(queryset.order_by().values("incident").annotate(n=Count("pk")).values("n")[:1])


def incidents_csv(incidents, people) -> str:
    """One row per incident (the list's filters already applied), in a fixed number of queries;
    of its people only those `people` (cadre.scope.People) sees, named only where it may."""
    shown = seen(people)
    first = (
        Deployment.objects.filter(shown, incident=OuterRef("pk"))
        .order_by("accepted_at")
        .values("accepted_at")[:1]
    )
    asked = Callout.objects.filter(shown, incident=OuterRef("pk"))
    incidents = incidents.select_related("force").annotate(
        asked=_count(asked),
        answered=_count(asked.filter(answered_at__isnull=False)),
        first_accept=Subquery(first),
    )
    rows = list(incidents)
    went: dict[int, list[str]] = {}
    for incident_id, callsign, force_id, name, role in (
        Deployment.objects.went()
        .filter(shown, incident__in=[i.pk for i in rows])
        .order_by("accepted_at", "pk")
        .values_list(
            "incident_id",
            "negotiator__callsign",
            "negotiator__force_id",
            "negotiator__full_name",
            "role",
        )
    ):
        who = f"{callsign} ({role})" + (f" {name}" if people.named(force_id) else "")
        went.setdefault(incident_id, []).append(who)
    header = [
        "reference",
        "force",
        "kind",
        "area",
        "status",
        "raised",
        "needs",
        "asked",
        "answered",
        "went",
        "minutes to first acceptance",
        "minutes to filled",
        "mutual aid",
    ]

    def minutes(later, earlier):
        return rules.minutes((later - earlier).total_seconds() / 60 if later else None)

    return to_csv(
        header,
        (
            [
                i.reference,
                i.force.code,
                i.get_kind_display(),
                i.location,
                i.get_status_display(),
                i.raised_at,
                "; ".join(f"{role} {n}" for role, n in (i.needs or {}).items()),
                i.asked or 0,
                i.answered or 0,
                "; ".join(went.get(i.pk, [])),
                minutes(i.first_accept, i.raised_at),
                minutes(i.filled_at, i.raised_at),
                "yes" if i.mutual_aid else "no",
            ]
            for i in rows
        ),
    )


def timeline_csv(record) -> str:
    """An incident's timeline lines (callsigns only, as on the page)."""
    return to_csv(
        ["time", "minutes since raised", "who", "what"],
        (
            [
                line.at,
                rules.minutes(line.since.total_seconds() / 60),
                line.callsign or line.actor,
                line.text,
            ]
            for line in record.lines
        ),
    )


def workload_csv(rows, days: int, with_names: bool) -> str:
    header = ["callsign", *(["name"] if with_names else [])]
    header += [
        f"callouts received ({days} days)",
        "answered",
        "answered %",
        "accepted",
        "deployments",
        "minutes deployed",
        "minutes on call",
        "nights on call",
        "flags",
    ]
    return to_csv(
        header,
        (
            [
                r.callsign,
                *([r.full_name] if with_names else []),
                r.received,
                r.answered,
                "" if r.answered_share is None else f"{r.answered_share:.0f}",
                r.accepted,
                r.deployments,
                rules.minutes(r.hours_deployed * 60),
                rules.minutes(r.hours_on_call * 60),
                r.nights,
                "; ".join(r.flags),
            ]
            for r in rows
        ),
    )
