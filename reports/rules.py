"""Pure decisions and arithmetic for reports: no database. Plain values in, values out."""

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo

from cadre.phones import scrub

# Time periods -----------------------------------------------------------------------------

PRESETS = {
    "12m": "Last 12 months",
    "30d": "Last 30 days",
    "quarter": "Last quarter",
    "year": "Last year",
}
DEFAULT_PRESET = "12m"
WORKLOAD_WINDOWS = (30, 90, 365)


@dataclass(frozen=True)
class Period:
    since: date  # first day, inclusive
    until: date  # last day, inclusive
    label: str

    def bounds(self, tz: tzinfo) -> tuple[datetime, datetime]:
        """[start, end) as aware datetimes: whole local days."""
        return (
            datetime.combine(self.since, time(), tz),
            datetime.combine(self.until + timedelta(days=1), time(), tz),
        )

    def months(self) -> list[date]:
        """The first day of every month the period touches, in order."""
        out, month = [], self.since.replace(day=1)
        while month <= self.until:
            out.append(month)
            month = (month + timedelta(days=32)).replace(day=1)
        return out


def preset_period(preset: str, today: date) -> Period:
    """A preset: the last 12 months or 30 days (to today), the last whole calendar quarter,
    the last whole calendar year."""
    if preset == "30d":
        return Period(today - timedelta(days=29), today, PRESETS["30d"])
    if preset == "quarter":
        first_this = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
        until = first_this - timedelta(days=1)
        since = date(until.year, 3 * ((until.month - 1) // 3) + 1, 1)
        quarter = (since.month - 1) // 3 + 1
        return Period(since, until, f"{PRESETS['quarter']} (Q{quarter} {since.year})")
    if preset == "year":
        return Period(date(today.year - 1, 1, 1), date(today.year - 1, 12, 31), f"{today.year - 1}")
    # This month so far and the eleven whole months before it.
    months_back = today.year * 12 + today.month - 1 - 11
    since = date(months_back // 12, months_back % 12 + 1, 1)
    return Period(since, today, PRESETS["12m"])


# Percentiles and shares ------------------------------------------------------------------


def percentile(values: Iterable[float], q: float) -> float | None:
    """The q-th quantile (0..1) with linear interpolation between the closest ranks, as
    PostgreSQL's percentile_cont and a spreadsheet's PERCENTILE do; None for no values."""
    xs = sorted(values)
    if not xs:
        return None
    position = (len(xs) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return xs[low] + (xs[high] - xs[low]) * (position - low)


def share(part: int, whole: int) -> float | None:
    """Part of whole as a percentage, None when there is no whole."""
    return None if not whole else 100.0 * part / whole


@dataclass(frozen=True)
class Spread:
    """Median and 90th percentile of a set of durations, in minutes."""

    count: int
    median: float | None
    p90: float | None


def spread(seconds: Sequence[float]) -> Spread:
    minutes = [s / 60 for s in seconds]
    return Spread(len(minutes), percentile(minutes, 0.5), percentile(minutes, 0.9))


@dataclass(frozen=True)
class RoleTiming:
    """Per incident and role: the first acceptance, and the acceptances of those who went."""

    incident_id: int
    role: str
    first_accept: float | None
    last_went: float | None
    went: int


def role_timings(needs_by_incident: dict[int, dict], rows: Iterable[RoleTiming]):
    """Per role: (seconds to its first acceptance, seconds to filled) lists.

    A role is filled on an incident when as many went as it needed; it filled when the last
    of them accepted. Roles an incident did not need are left out.
    """
    first: dict[str, list[float]] = {}
    filled: dict[str, list[float]] = {}
    for row in rows:
        need = int((needs_by_incident.get(row.incident_id) or {}).get(row.role) or 0)
        if need <= 0:
            continue
        if row.first_accept is not None:
            first.setdefault(row.role, []).append(row.first_accept)
        if row.went >= need and row.last_went is not None:
            filled.setdefault(row.role, []).append(row.last_went)
    return first, filled


# Workload -------------------------------------------------------------------------------


def on_call_span(
    shifts: Iterable[tuple[datetime, datetime]], start: datetime, end: datetime, tz: tzinfo
) -> tuple[float, int]:
    """Hours on call inside [start, end) and nights on call: a night counts when they were on
    call at 02:00 local time on it. Overlapping shifts are counted once."""
    spans = sorted((max(s, start), min(e, end)) for s, e in shifts if s < end and e > start)
    merged: list[list[datetime]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    hours = sum((e - s).total_seconds() for s, e in merged) / 3600
    nights = 0
    for s, e in merged:
        day = s.astimezone(tz).date() - timedelta(days=1)
        last = e.astimezone(tz).date()
        while day <= last:
            two = datetime.combine(day, time(2), tz)
            if s <= two < e:
                nights += 1
            day += timedelta(days=1)
    return hours, nights


# A callout stood down sooner than this after asking, unanswered, does not count against
# anyone: the incident filled before they could reasonably answer.
FAIR_CHANCE = timedelta(minutes=15)


def heavy_load(deployments_30_days: int, limit: int) -> bool:
    """More than the force's limit of deployments in 30 days."""
    return deployments_30_days > limit


def not_answering(latest_answered: Sequence[bool], n: int) -> bool:
    """The last n callouts (newest first) all went unanswered."""
    return n > 0 and len(latest_answered) >= n and not any(latest_answered[:n])


SORTABLE = (
    "callsign",
    "received",
    "answered",
    "answered_share",
    "accepted",
    "deployments",
    "hours_deployed",
    "hours_on_call",
    "nights",
)


def sort_rows(rows: list, key: str, descending: bool) -> list:
    """Rows sorted by a column (blanks last), then by callsign."""
    if key not in SORTABLE:
        key = "callsign"
    filled = [r for r in rows if getattr(r, key) is not None]
    blank = [r for r in rows if getattr(r, key) is None]
    filled.sort(key=lambda r: r.callsign)
    filled.sort(key=lambda r: getattr(r, key), reverse=descending)
    return filled + sorted(blank, key=lambda r: r.callsign)


@dataclass
class WorkloadRow:
    negotiator_id: int
    callsign: str
    full_name: str
    received: int = 0
    answered: int = 0
    accepted: int = 0
    deployments: int = 0
    hours_deployed: float = 0.0
    hours_on_call: float = 0.0
    nights: int = 0
    flags: list[str] = field(default_factory=list)

    @property
    def answered_share(self) -> float | None:
        return share(self.answered, self.received)


# Welfare follow-ups ---------------------------------------------------------------------


def follow_up_due(stood_down_at: datetime, hours: int) -> datetime:
    return stood_down_at + timedelta(hours=hours)


def follow_up_state(stood_down_at: datetime, hours: int, now: datetime) -> str:
    """ "open" until it falls due, then "overdue"."""
    return "overdue" if now >= follow_up_due(stood_down_at, hours) else "open"


# Exports --------------------------------------------------------------------------------

# A cell a spreadsheet would run as a formula starts with one of these (text only: a
# number such as -5 is a number, not a formula).
FORMULA_STARTS = ("=", "+", "-", "@")


def csv_cell(value, tz: tzinfo | None = None) -> str:
    """A CSV cell a spreadsheet or a script reads back as it was.

    A time: ISO 8601 to the second with the offset of `tz` (2026-07-01T14:02:05+01:00).
    A number (a count, a duration): as it is, 1 decimal for a fraction. Text: without
    phone numbers (cadre.phones.scrub), and never a formula."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return iso(value, tz)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.1f}"
    text = scrub(str(value))
    if text.startswith(FORMULA_STARTS):
        text = "'" + text
    return text


def iso(at: datetime, tz: tzinfo | None) -> str:
    """An aware time as ISO 8601 in `tz` (its own zone when None), to the second."""
    return (at.astimezone(tz) if tz else at).isoformat(timespec="seconds")


def minutes(value: float | None) -> float | None:
    """A duration in minutes as an export gives it: to a tenth (6 seconds)."""
    return None if value is None else round(value, 1)
