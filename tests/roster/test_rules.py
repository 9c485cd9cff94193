from datetime import UTC, date, datetime, time, timedelta

import pytest

from cadre.models import Role
from cadre.rules import Period
from roster import rules
from roster.rules import Absence, Person, Rotation, Span

ALWAYS = (Period(date(2020, 1, 1), date(2030, 12, 31)),)


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def person(pk, active=True, periods=ALWAYS, roles=rules.ROLES):
    return Person(pk, f"C-{pk}", active, periods, roles)


def test_it_names_the_same_roles_as_cadre():
    assert set(rules.ROLES) == set(Role.values)


# --- clock changes ---------------------------------------------------------------------

CLOCK_CHANGES = [
    (date(2025, 3, 30), 23),
    (date(2025, 10, 26), 25),
    (date(2026, 3, 29), 23),
    (date(2026, 10, 25), 25),
]


@pytest.mark.parametrize(("change_day", "hours"), CLOCK_CHANGES)
def test_it_makes_the_daily_shift_over_a_clock_change_23_or_25_hours(change_day, hours):
    rotation = Rotation("negotiator", (1, 2, 3), length="day", handover_time=time(8))
    spans = rotation_spans(rotation, change_day - timedelta(days=3), change_day + timedelta(days=3))
    night = next(
        s for s in spans if s.start.astimezone(rules.local_tz()).date() == change_day - timedelta(1)
    )
    assert night.end - night.start == timedelta(hours=hours)
    assert night.start.astimezone(rules.local_tz()).time() == time(8)
    assert night.end.astimezone(rules.local_tz()).time() == time(8)


@pytest.mark.parametrize(("change_day", "hours"), CLOCK_CHANGES)
def test_it_leaves_no_gap_and_no_overlap_across_a_clock_change(change_day, hours):
    rotation = Rotation("negotiator", (1, 2), length="day", handover_time=time(8))
    first, last = change_day - timedelta(days=2), change_day + timedelta(days=2)
    spans = rotation_spans(rotation, first, last)
    for a, b in zip(spans, spans[1:], strict=False):
        assert a.end == b.start
    result = rules.coverage(
        spans, [], [person(1), person(2)], {"negotiator": 1}, spans[0].start, spans[-1].end
    )
    assert result.gaps == []
    assert [seg.counts for seg in result.segments] == [{"negotiator": 1}]


@pytest.mark.parametrize(("change_day", "hours"), CLOCK_CHANGES)
def test_it_makes_a_week_over_a_clock_change_an_hour_short_or_long(change_day, hours):
    # Clock changes fall on Sundays: the week from the Monday before spans it.
    rotation = Rotation("negotiator", (1, 2), length="week", handover_weekday=0)
    spans = rotation_spans(
        rotation, change_day - timedelta(days=13), change_day + timedelta(days=8)
    )
    spanning = next(s for s in spans if s.start < rules.at_local(change_day, time(12)) < s.end)
    assert spanning.end - spanning.start == timedelta(days=7, hours=hours - 24)


def rotation_spans(rotation, first, last):
    return rules.generate(rotation, first, last)


def test_it_generates_weekly_slots_from_the_handover_and_tiles_consecutive_months():
    rotation = Rotation(
        "negotiator", (1, 2, 3, 4), handover_weekday=0, on_at_once=2, starts_on=date(2025, 6, 2)
    )
    june = rules.generate(rotation, date(2025, 6, 1), date(2025, 7, 1))
    july = rules.generate(rotation, date(2025, 7, 1), date(2025, 8, 1))
    assert june[0].start == utc(2025, 6, 1, 7)  # 08:00 BST
    assert june[-1].end == july[0].start
    # Monday 2 June 08:00 starts slot 0: negotiators 1 and 2; the week after, 3 and 4.
    slot = [s.negotiator_id for s in june if s.start == utc(2025, 6, 2, 7)]
    following = [s.negotiator_id for s in june if s.start == utc(2025, 6, 9, 7)]
    assert (slot, following) == ([1, 2], [3, 4])
    result = rules.coverage(
        june + july,
        [],
        [person(i) for i in range(1, 5)],
        {"negotiator": 2},
        june[0].start,
        july[-1].end,
    )
    assert result.gaps == []


# --- on call -----------------------------------------------------------------------------


def test_it_counts_only_deployable_people_on_call():
    at = utc(2025, 6, 1, 12)
    shifts = [
        Span(1, "negotiator", utc(2025, 6, 1), utc(2025, 6, 2)),
        Span(2, "negotiator", utc(2025, 6, 1), utc(2025, 6, 2)),
        Span(3, "negotiator", utc(2025, 6, 1), utc(2025, 6, 2)),
        Span(4, "coordinator", utc(2025, 6, 1), utc(2025, 6, 2)),
        Span(5, "negotiator", utc(2025, 6, 2), utc(2025, 6, 3)),
    ]
    people = [
        person(1),
        person(2, active=False),
        person(3, periods=(Period(date(2020, 1, 1), date(2025, 5, 31)),)),
        person(4),
        person(5),
    ]
    away = [Absence(4, utc(2025, 6, 1, 10), utc(2025, 6, 1, 14))]
    assert rules.on_call(shifts, away, people, at) == {
        "negotiator": [1],
        "coordinator": [],
        "adviser": [],
    }


# --- coverage ----------------------------------------------------------------------------


def test_it_reports_gaps_with_their_reasons():
    day = (utc(2025, 6, 2), utc(2025, 6, 3))
    shifts = [
        Span(1, "negotiator", utc(2025, 6, 2), utc(2025, 6, 2, 12)),
        Span(2, "negotiator", utc(2025, 6, 2, 12), utc(2025, 6, 3)),
    ]
    lapsed_on_2nd = (Period(date(2020, 1, 1), date(2025, 6, 2)),)
    people = [person(1), person(2, periods=lapsed_on_2nd)]
    away = [Absence(1, utc(2025, 6, 2, 6), utc(2025, 6, 2, 8))]
    result = rules.coverage(shifts, away, people, {"negotiator": 1, "coordinator": 1}, *day)
    negotiator_gaps = [(g.start, g.end, g.reason) for g in result.gaps if g.role == "negotiator"]
    assert negotiator_gaps == [
        (utc(2025, 6, 2, 6), utc(2025, 6, 2, 8), rules.UNAVAILABLE),
        # Local midnight in summer is 23:00 UTC: the accreditation runs out then.
        (utc(2025, 6, 2, 23), utc(2025, 6, 3), rules.LAPSED),
    ]
    coordinator_gaps = [(g.start, g.end, g.reason) for g in result.gaps if g.role == "coordinator"]
    assert coordinator_gaps == [(*day, rules.NOBODY)]


def test_it_says_too_few_when_some_but_not_enough_are_rostered():
    shifts = [Span(1, "negotiator", utc(2025, 1, 1), utc(2025, 1, 2))]
    result = rules.coverage(
        shifts, [], [person(1)], {"negotiator": 2}, utc(2025, 1, 1), utc(2025, 1, 2)
    )
    assert [(g.have, g.need, g.reason) for g in result.gaps] == [(1, 2, rules.TOO_FEW)]


# --- conflicts and bad input -------------------------------------------------------------


def test_it_flags_every_kind_of_conflict():
    span = Span(1, "negotiator", utc(2025, 6, 10, 7), utc(2025, 6, 11, 7), id=99)
    lapsing = (Period(date(2020, 1, 1), date(2025, 6, 10)),)
    earlier = [
        Span(
            1,
            "negotiator",
            utc(2025, 6, 2, 7) + timedelta(days=i),
            utc(2025, 6, 3, 7) + timedelta(days=i),
            id=i,
        )
        for i in range(8)
    ]
    other_role = Span(1, "coordinator", utc(2025, 6, 10, 12), utc(2025, 6, 10, 18), id=50)
    away = [Absence(1, utc(2025, 6, 10, 9), utc(2025, 6, 10, 10), "Sickness")]
    found = rules.conflicts(span, person(1, periods=lapsing), [*earlier, other_role], away, 7)
    kinds = {c.kind for c in found}
    assert kinds == {"accreditation", "unavailable", "double_booked", "welfare"}
    assert next(c for c in found if c.kind == "unavailable").detail == "Sickness"
    assert "9 days in a row" in next(c for c in found if c.kind == "welfare").message


def test_it_allows_a_seven_day_week_under_the_default_limit():
    week = Span(1, "negotiator", utc(2025, 3, 24, 8), utc(2025, 3, 31, 7))
    assert rules.conflicts(week, person(1), [], []) == []


def test_it_flags_an_inactive_negotiator():
    span = Span(1, "negotiator", utc(2025, 6, 10), utc(2025, 6, 11))
    assert [c.kind for c in rules.conflicts(span, person(1, active=False), [], [])] == ["inactive"]


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (utc(2025, 1, 2), utc(2025, 1, 1), "ends before it starts"),
        (utc(2025, 1, 1), utc(2025, 1, 1), "no length"),
    ],
)
def test_it_refuses_bad_times(start, end, expected):
    errors = rules.problems(Span(1, "negotiator", start, end), person(1), [])
    assert any(expected in e for e in errors)


def test_it_refuses_an_inactive_negotiator_a_missing_role_and_a_duplicate():
    span = Span(1, "coordinator", utc(2025, 1, 1), utc(2025, 1, 2))
    existing = [Span(1, "coordinator", utc(2025, 1, 1, 12), utc(2025, 1, 3), id=7)]
    errors = rules.problems(span, person(1, active=False, roles=("negotiator",)), existing)
    assert len(errors) == 3
    assert rules.problems(span, person(1), existing, replacing=[7]) == []


# --- one time zone, from settings ----------------------------------------------------------


def test_the_rota_wall_clock_follows_the_time_zone_setting(settings):
    settings.TIME_ZONE = "Europe/London"
    assert rules.at_local(date(2026, 1, 12), time(8)) == utc(2026, 1, 12, 8)
    settings.TIME_ZONE = "America/New_York"
    assert rules.at_local(date(2026, 1, 12), time(8)) == utc(2026, 1, 12, 13)
    assert rules.local_midnight(date(2026, 1, 12)) == utc(2026, 1, 12, 5)
    assert rules.when(utc(2026, 1, 12, 13)) == "Mon 12 Jan 08:00"
    weekly = Rotation("negotiator", (1, 2), starts_on=date(2026, 1, 5))
    first = rules.generate(weekly, date(2026, 1, 5), date(2026, 1, 12))[0]
    assert first.start == utc(2026, 1, 5, 13)
