"""Who may be deployed, decided in one place.

A negotiator is deployable at a moment when they are active and hold an
accreditation whose dates (inclusive, in local time) cover that moment. Roster
and callouts both ask here; the one other form of it is its queryset twin for lists,
Negotiator.objects.deployable, which tests/cadre/test_deployable.py holds to the same answer.

Local time is settings.TIME_ZONE, the one time zone of the whole app: every day,
wall-clock time, feed and message is in it; the database keeps UTC.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from django.utils import timezone

LAPSING_WINDOW_DAYS = 60
# What a register entry may hold, for the form and the CSV import alike.
CALLSIGN = re.compile(r"[A-Z0-9]+(?:-[A-Z0-9]+)*")
CALLSIGN_MAX = 30
NAME_MAX = 150
# Accreditation dates a person could really have: not year 1, not 9999.
EARLIEST_YEAR, LATEST_YEAR = 1970, 2100
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


RECORD_ID = re.compile(r"[0-9]{1,18}")  # ASCII digits, well inside a 64-bit key


def record_id(text) -> int | None:
    """The record id a form or query names ("12"), or None for anything else: a word, a
    negative number, one too big for any key, other scripts' digits."""
    text = str(text or "").strip()
    return int(text) if RECORD_ID.fullmatch(text) else None


def callsign_problem(callsign: str) -> str | None:
    """Why this (upper-cased) callsign cannot be used, or None."""
    if len(callsign) > CALLSIGN_MAX:
        return f"A callsign has at most {CALLSIGN_MAX} characters."
    if not CALLSIGN.fullmatch(callsign):
        return "A callsign is letters and digits, in parts joined by hyphens, e.g. ALPHA-01."
    return None


def name_problem(name: str) -> str | None:
    if len(name) > NAME_MAX:
        return f"A name has at most {NAME_MAX} characters."
    if CONTROL.search(name):
        return "A name cannot hold line breaks or control characters."
    return None


def date_problem(day: date) -> str | None:
    if not EARLIEST_YEAR <= day.year <= LATEST_YEAR:
        return f"{day.isoformat()} is not a date an accreditation could have."
    return None


def local_tz() -> tzinfo:
    """settings.TIME_ZONE, looked up on each call (so override_settings reaches it)."""
    return timezone.get_default_timezone()


@dataclass(frozen=True)
class Period:
    """An accreditation's validity: passed_on to valid_until, both days included."""

    passed_on: date
    valid_until: date


def local_date(at: datetime) -> date:
    return at.astimezone(local_tz()).date()


def accredited_on(periods: Iterable[Period], day: date) -> bool:
    return any(p.passed_on <= day <= p.valid_until for p in periods)


def accredited_until(periods: Iterable[Period], day: date) -> date | None:
    """The last day of unbroken accreditation from `day` on, or None if not accredited on `day`.

    Back-to-back or overlapping records (a refresher passed before the last one
    ran out) join into one run.
    """
    ordered = sorted(periods, key=lambda p: p.passed_on)
    end = None
    for p in ordered:
        if end is None:
            if p.passed_on <= day <= p.valid_until:
                end = p.valid_until
        elif p.passed_on <= end + timedelta(days=1):
            end = max(end, p.valid_until)
    return end


def is_deployable(active: bool, periods: Iterable[Period], at: datetime) -> bool:
    return active and accredited_on(periods, local_date(at))


def deployable_throughout(active: bool, periods: Iterable[Period], start: datetime, end: datetime):
    """Whether accreditation covers every local day from start to end (end exclusive)."""
    if not active:
        return False
    last_day = local_date(end - timedelta(microseconds=1)) if end > start else local_date(start)
    until = accredited_until(list(periods), local_date(start))
    return until is not None and until >= last_day


def lapses_within(periods: Iterable[Period], today: date, days: int = LAPSING_WINDOW_DAYS):
    """The day accreditation runs out if that is within `days` of today, else None."""
    until = accredited_until(list(periods), today)
    if until is None:
        return None
    if until <= today + timedelta(days=days):
        return until
    return None
