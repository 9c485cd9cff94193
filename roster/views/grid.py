"""The coordinators' grid: days down the side, roles across, shifts, gaps and conflicts in cells."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from cadre.models import Role
from cadre.rules import local_date
from roster import queries, rules
from roster.models import Shift


@dataclass
class Chip:
    shift: Shift
    conflicts: list[rules.Conflict]
    starts: datetime | None  # set when the shift starts on this day
    ends: datetime | None  # set when it ends on this day


@dataclass
class Cell:
    role: str
    chips: list[Chip] = field(default_factory=list)
    gaps: list[rules.Gap] = field(default_factory=list)


@dataclass
class Row:
    day: date
    cells: list[Cell]


@dataclass
class Board:
    first: date
    last: date
    rows: list[Row]
    gaps: list[rules.Gap]
    conflicts: int


def days_touched(start: datetime, end: datetime, first: date, last: date):
    day = max(local_date(start), first)
    stop = min(local_date(end - timedelta(microseconds=1)), last)
    while day <= stop:
        yield day
        day += timedelta(days=1)


def build(data: queries.RotaData, first: date, last: date) -> Board:
    """The grid for `first`..`last` (local days, inclusive) from already loaded rota data."""
    roles = list(Role.values)
    cells = {d: {r: Cell(r) for r in roles} for d in days_between(first, last)}
    start, end = rules.local_midnight(first), rules.local_midnight(last + timedelta(days=1))
    by_person = defaultdict(list)
    for s in data.spans:
        by_person[s.negotiator_id].append(s)
    absences = defaultdict(list)
    for a in data.absence_spans:
        absences[a.negotiator_id].append(a)
    conflicted = 0
    for shift, span in zip(data.shifts, data.spans, strict=True):
        if shift.end <= start or shift.start >= end or shift.role not in roles:
            continue
        person = data.people[span.negotiator_id]
        found = rules.conflicts(
            span,
            person,
            by_person[span.negotiator_id],
            absences[span.negotiator_id],
            data.rota.max_consecutive_days,
        )
        conflicted += bool(found)
        for day in days_touched(shift.start, shift.end, first, last):
            starts = shift.start if local_date(shift.start) == day else None
            ends = shift.end if local_date(shift.end) == day else None
            # A conflict's note only on the days it concerns (her absence, not the whole week).
            that_day = (rules.local_midnight(day), rules.local_midnight(day + timedelta(days=1)))
            today = [c for c in found if c.touches(*that_day)]
            cells[day][shift.role].chips.append(Chip(shift, today, starts, ends))
    # A wider window than the grid, so that a gap running past either edge shows its real times.
    context = timedelta(days=7)
    gaps = [
        g
        for g in data.coverage(start - context, end + context).gaps
        if g.start < end and g.end > start
    ]
    for gap in gaps:
        for day in days_touched(gap.start, gap.end, first, last):
            cells[day][gap.role].gaps.append(gap)
    rows = [Row(d, [cells[d][r] for r in roles]) for d in cells]
    return Board(first, last, rows, gaps, conflicted)


def days_between(first: date, last: date):
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]
