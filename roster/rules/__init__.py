"""The rota's rules, pure: plain data in, decisions out. No database here.

Views, queries and services load rows into these dataclasses, call a rule and
save what it decides. Times are aware datetimes; the rota's wall clock is local
time (settings.TIME_ZONE, cadre.rules.local_tz: Django's settings must be
configured), so rotations are laid out in local time and converted to UTC.
"""

import bisect
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from cadre.rules import Period, accredited_until, deployable_throughout, local_date, local_tz

ROLES = ("negotiator", "coordinator", "adviser")
DEFAULT_MAX_CONSECUTIVE_DAYS = 7
# Shifts closer together than this count as one unbroken run for the welfare limit.
REST_BREAK = timedelta(hours=24)
# The usual handover between on-call periods, local time.
HANDOVER = time(8, 0)

NOBODY = "nobody rostered"
TOO_FEW = "too few rostered"
UNAVAILABLE = "rostered but unavailable"
LAPSED = "accreditation lapsed"
INACTIVE = "rostered but inactive"
# When several rostered people are blocked, the reason shown is the first of these.
BLOCKED_ORDER = (UNAVAILABLE, LAPSED, INACTIVE)


@dataclass(frozen=True)
class Span:
    """A shift: who covers which role from start to end (end excluded)."""

    negotiator_id: int
    role: str
    start: datetime
    end: datetime
    id: int | None = None


@dataclass(frozen=True)
class Absence:
    negotiator_id: int
    start: datetime
    end: datetime
    reason: str = ""


@dataclass(frozen=True)
class Person:
    id: int
    callsign: str
    active: bool
    periods: tuple[Period, ...] = ()
    roles: tuple[str, ...] = ROLES


@dataclass(frozen=True)
class Gap:
    role: str
    start: datetime
    end: datetime
    have: int
    need: int
    reason: str


@dataclass
class Segment:
    start: datetime
    end: datetime
    counts: dict[str, int]


@dataclass
class Coverage:
    segments: list[Segment] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)


@dataclass(frozen=True)
class Conflict:
    kind: str
    message: str
    # Private detail (an unavailability reason) for coordinators' eyes only.
    detail: str = ""
    # When it bites, if only part of the shift (the absence, the overlap, after the lapse);
    # None: the whole shift. The grid shows the note only on the days it concerns.
    start: datetime | None = None
    end: datetime | None = None

    def touches(self, start: datetime, end: datetime) -> bool:
        """Whether it concerns any of start..end."""
        return (self.start is None or self.start < end) and (self.end is None or self.end > start)


# --- accreditation as time spans ---------------------------------------------------------


def local_midnight(day: date, tz: tzinfo | None = None) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz or local_tz()).astimezone(UTC)


def accredited_spans(periods: Sequence[Period], tz: tzinfo | None = None):
    """Unbroken accreditation as UTC [start, end) spans, from local midnight to local midnight."""
    tz = tz or local_tz()
    spans = []
    covered_to = None
    for p in sorted(periods, key=lambda p: p.passed_on):
        if covered_to is not None and p.passed_on <= covered_to:
            continue
        until = accredited_until(periods, p.passed_on)
        spans.append((local_midnight(p.passed_on, tz), local_midnight(until + timedelta(1), tz)))
        covered_to = until
    return spans


class _States:
    """Answers 'why can't this person be counted at this moment?' quickly, for a sweep."""

    def __init__(self, people: dict[int, Person], absences: Iterable[Absence]):
        self.people = people
        self.accredited = {pid: accredited_spans(p.periods) for pid, p in people.items()}
        self.starts = {pid: [s for s, _ in spans] for pid, spans in self.accredited.items()}
        self.absences = defaultdict(list)
        for a in absences:
            self.absences[a.negotiator_id].append(a)

    def blocked(self, negotiator_id: int, at: datetime) -> str | None:
        person = self.people.get(negotiator_id)
        if person is None or not person.active:
            return INACTIVE
        spans = self.accredited[negotiator_id]
        i = bisect.bisect_right(self.starts[negotiator_id], at) - 1
        if i < 0 or spans[i][1] <= at:
            return LAPSED
        if any(a.start <= at < a.end for a in self.absences.get(negotiator_id, ())):
            return UNAVAILABLE
        return None

    def boundaries(self, start: datetime, end: datetime) -> set[datetime]:
        points = set()
        for spans in self.accredited.values():
            for s, e in spans:
                points.update(p for p in (s, e) if start < p < end)
        for items in self.absences.values():
            for a in items:
                points.update(p for p in (a.start, a.end) if start < p < end)
        return points


# --- who is on call ----------------------------------------------------------------------


def on_call(
    shifts: Iterable[Span], absences: Iterable[Absence], people: Iterable[Person], at: datetime
) -> dict[str, list[int]]:
    """Negotiator ids on call at `at` by role: rostered, active, accredited and not unavailable.

    Every role is a key; within a role, earliest shift first, each person once.
    """
    states = _States({p.id: p for p in people}, absences)
    result: dict[str, list[int]] = {role: [] for role in ROLES}
    live = sorted(
        (s for s in shifts if s.start <= at < s.end), key=lambda s: (s.start, s.negotiator_id)
    )
    for s in live:
        ids = result.setdefault(s.role, [])
        if s.negotiator_id not in ids and states.blocked(s.negotiator_id, at) is None:
            ids.append(s.negotiator_id)
    return result


# --- coverage ----------------------------------------------------------------------------


def coverage(
    shifts: Iterable[Span],
    absences: Iterable[Absence],
    people: Iterable[Person],
    minimums: dict[str, int],
    start: datetime,
    end: datetime,
) -> Coverage:
    """Counts on call per role from start to end, and every gap below the minimum, with why.

    A sweep over the moments anything changes (a shift, an absence, an
    accreditation running out at local midnight), so cost grows with the
    number of changes, not with the length of the range.
    """
    roles = tuple(minimums) or ROLES
    states = _States({p.id: p for p in people}, absences)
    shifts = sorted((s for s in shifts if s.start < end and s.end > start), key=lambda s: s.start)
    points = {start, end} | states.boundaries(start, end)
    for s in shifts:
        points.update(p for p in (s.start, s.end) if start < p < end)
    moments = sorted(points)

    result = Coverage()
    active: list[Span] = []
    nxt = 0
    open_gaps: dict[str, Gap] = {}
    for a, b in zip(moments, moments[1:], strict=False):
        while nxt < len(shifts) and shifts[nxt].start <= a:
            active.append(shifts[nxt])
            nxt += 1
        active = [s for s in active if s.end > a]
        counts = {}
        for role in roles:
            rostered = {s.negotiator_id for s in active if s.role == role}
            blocked = [r for r in (states.blocked(n, a) for n in rostered) if r]
            have = len(rostered) - len(blocked)
            counts[role] = have
            need = minimums.get(role, 0)
            gap = open_gaps.get(role)
            if have >= need:
                if gap:
                    result.gaps.append(open_gaps.pop(role))
                continue
            reason = _gap_reason(rostered, blocked)
            if gap and (gap.reason, gap.have) == (reason, have):
                open_gaps[role] = Gap(role, gap.start, b, have, need, reason)
                continue
            if gap:
                result.gaps.append(gap)
            open_gaps[role] = Gap(role, a, b, have, need, reason)
        last = result.segments[-1] if result.segments else None
        if last and last.counts == counts:
            last.end = b
        else:
            result.segments.append(Segment(a, b, counts))
    result.gaps.extend(open_gaps.values())
    result.gaps.sort(key=lambda g: (g.start, roles.index(g.role) if g.role in roles else 0))
    return result


def _gap_reason(rostered: set[int], blocked: list[str]) -> str:
    for reason in BLOCKED_ORDER:
        if reason in blocked:
            return reason
    return TOO_FEW if rostered else NOBODY


# --- conflicts and bad input -------------------------------------------------------------


def problems(
    span: Span, person: Person, same_person_shifts: Iterable[Span], replacing: Iterable[int] = ()
) -> list[str]:
    """Errors that stop a shift being saved at all (no override)."""
    errors = []
    if span.end < span.start:
        errors.append("The shift ends before it starts.")
    elif span.end == span.start:
        errors.append("The shift has no length: start and end are the same.")
    if not person.active:
        errors.append(f"{person.callsign} is inactive and cannot be rostered.")
    if span.role not in person.roles:
        errors.append(f"{person.callsign} does not hold the {span.role} role.")
    skip = set(replacing)
    for other in same_person_shifts:
        if other.id in skip or other is span or other.role != span.role:
            continue
        if other.start < span.end and other.end > span.start:
            errors.append(
                f"{person.callsign} is already on the rota as {span.role} "
                f"{when(other.start)}–{when(other.end)}: that would be a duplicate."
            )
            break
    return errors


def conflicts(
    span: Span,
    person: Person,
    same_person_shifts: Iterable[Span],
    absences: Iterable[Absence],
    max_days: int = DEFAULT_MAX_CONSECUTIVE_DAYS,
    replacing: Iterable[int] = (),
) -> list[Conflict]:
    """Warnings about a shift: saved only if a coordinator overrides them with a reason."""
    found = []
    skip = set(replacing) | ({span.id} if span.id is not None else set())
    others = [s for s in same_person_shifts if s is not span and s.id not in skip]
    if not person.active:
        found.append(Conflict("inactive", f"{person.callsign} is inactive."))
    elif not deployable_throughout(True, person.periods, span.start, span.end):
        until = accredited_until(list(person.periods), local_date(span.start))
        if until is None:
            message = f"{person.callsign} is not accredited when the shift starts."
        else:
            message = f"{person.callsign}'s accreditation lapses after {until:%-d %b %Y}."
        lapsed = local_midnight(until + timedelta(days=1)) if until else None
        found.append(Conflict("accreditation", message, start=lapsed))
    for a in absences:
        if a.negotiator_id == person.id and a.start < span.end and a.end > span.start:
            found.append(
                Conflict(
                    "unavailable",
                    f"{person.callsign} is unavailable {when(a.start)}–{when(a.end)}.",
                    a.reason,
                    start=max(a.start, span.start),
                    end=min(a.end, span.end),
                )
            )
    for other in others:
        if other.role != span.role and other.start < span.end and other.end > span.start:
            found.append(
                Conflict(
                    "double_booked",
                    f"{person.callsign} is also on call as {other.role} "
                    f"{when(other.start)}–{when(other.end)}.",
                    start=max(other.start, span.start),
                    end=min(other.end, span.end),
                )
            )
    days = consecutive_days(span, others)
    if days > max_days:
        found.append(
            Conflict(
                "welfare",
                f"{person.callsign} would be on call {days} days in a row (limit {max_days}).",
            )
        )
    return found


def cannot_take(
    slot: Span,
    person: Person,
    shifts: Iterable[Span],
    exclude: Iterable[int] = (),
    replacing: Iterable[int] = (),
) -> str | None:
    """Why `person` cannot take `slot` (its role, start and end), or None if they can.

    They can if they hold the role, are deployable (active and accredited, cadre.rules) from
    its start to its end, are not in `exclude` (whose shift is being covered or swapped) and
    are not already on call, in any role, at any moment of it (their `shifts`; the ids in
    `replacing`, a shift being moved, do not count). Unavailability and the welfare limit stay
    warnings for a coordinator to weigh, so they do not rule anyone out.
    """
    if person.id in set(exclude):
        return f"{person.callsign} already has this shift."
    if slot.role not in person.roles:
        return f"{person.callsign} does not hold the {slot.role} role."
    if not person.active:
        return f"{person.callsign} is inactive."
    if not deployable_throughout(person.active, person.periods, slot.start, slot.end):
        return (
            f"{person.callsign} is not accredited for all of {when(slot.start)}–{when(slot.end)}."
        )
    skip = set(replacing)
    for s in sorted(shifts, key=lambda s: s.start):
        if (
            s.negotiator_id == person.id
            and s.id not in skip
            and s.start < slot.end
            and s.end > slot.start
        ):
            return (
                f"{person.callsign} is already on the rota as {s.role} "
                f"{when(s.start)}–{when(s.end)}."
            )
    return None


def can_take(
    slot: Span,
    people: Iterable[Person],
    shifts: Iterable[Span],
    exclude: Iterable[int] = (),
    replacing: Iterable[int] = (),
) -> list[Person]:
    """Who a picker offers for `slot`: everyone `cannot_take` finds no reason against, by
    callsign."""
    mine = defaultdict(list)
    for s in shifts:
        mine[s.negotiator_id].append(s)
    return sorted(
        (p for p in people if cannot_take(slot, p, mine[p.id], exclude, replacing) is None),
        key=lambda p: p.callsign,
    )


def consecutive_days(span: Span, others: Iterable[Span], tz: tzinfo | None = None) -> int:
    """Length in calendar days of the unbroken run on call that contains `span`."""
    tz = tz or local_tz()
    runs: list[list[datetime]] = []
    for s in sorted([*others, span], key=lambda s: s.start):
        if runs and s.start - runs[-1][1] < REST_BREAK:
            runs[-1][1] = max(runs[-1][1], s.end)
        else:
            runs.append([s.start, s.end])
    start, end = next(r for r in runs if r[0] <= span.start < r[1])
    wall = end.astimezone(tz).replace(tzinfo=None) - start.astimezone(tz).replace(tzinfo=None)
    return -(-wall // timedelta(days=1))


def when(at: datetime) -> str:
    return at.astimezone(local_tz()).strftime("%a %-d %b %H:%M")


# --- rotations ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Rotation:
    role: str
    order: tuple[int, ...]
    length: str = "week"  # "day" or "week"
    handover_weekday: int = 0  # Monday
    handover_time: time = HANDOVER
    on_at_once: int = 1
    starts_on: date = date(2025, 1, 6)


def at_local(day: date, clock: time, tz: tzinfo | None = None) -> datetime:
    """The UTC instant of a wall-clock time on a local day."""
    return datetime.combine(day, clock, tzinfo=tz or local_tz()).astimezone(UTC)


def generate(
    rotation: Rotation, first_day: date, end_day: date, tz: tzinfo | None = None
) -> list[Span]:
    """Shifts from `first_day` at handover time to `end_day` at handover time.

    Slots are laid out in wall-clock time and only then turned into UTC, so a
    slot that spans a clock change is an hour shorter or longer and the next
    one starts exactly where it ends. Ranges generated one after another tile.
    """
    if not rotation.order or end_day <= first_day:
        return []
    tz = tz or local_tz()
    step = 7 if rotation.length == "week" else 1
    anchor = rotation.starts_on
    if step == 7:
        anchor -= timedelta(days=(anchor.weekday() - rotation.handover_weekday) % 7)
    window_start = at_local(first_day, rotation.handover_time, tz)
    window_end = at_local(end_day, rotation.handover_time, tz)
    k = (first_day - anchor).days // step
    people = len(rotation.order)
    per_slot = min(max(rotation.on_at_once, 1), people)
    spans = []
    while True:
        slot_start = at_local(anchor + timedelta(days=k * step), rotation.handover_time, tz)
        if slot_start >= window_end:
            break
        slot_end = at_local(anchor + timedelta(days=(k + 1) * step), rotation.handover_time, tz)
        start, end = max(slot_start, window_start), min(slot_end, window_end)
        if start < end:
            for i in range(per_slot):
                negotiator_id = rotation.order[(k * per_slot + i) % people]
                spans.append(Span(negotiator_id, rotation.role, start, end))
        k += 1
    return spans


def regenerate(rotation: Rotation, spans: Iterable[Span], tz: tzinfo | None = None) -> list[Span]:
    """The rotation's shifts over exactly the stretches of time `spans` cover (overlapping and
    touching ones merged): a rotation's upcoming shifts laid out again after its settings
    change. The same stretches stay covered, with no gap or overlap at their edges; nothing is
    added outside them (a stretch a coordinator removed stays empty)."""
    tz = tz or local_tz()
    merged: list[list[datetime]] = []
    for s in sorted(spans, key=lambda s: s.start):
        if merged and s.start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], s.end)
        else:
            merged.append([s.start, s.end])
    out = []
    for start, end in merged:
        # A slot is at most a week: a week either side is enough to lay the stretch out.
        first = start.astimezone(tz).date() - timedelta(days=8)
        last = end.astimezone(tz).date() + timedelta(days=8)
        for g in generate(rotation, first, last, tz):
            a, b = max(g.start, start), min(g.end, end)
            if a < b:
                out.append(Span(g.negotiator_id, g.role, a, b))
    return out
