"""Properties of the rota rules that must hold for any rota: hypothesis tries many.

The rules take the time zone from settings (Europe/London), so the clock changes of
March and October are inside the ranges tried.
"""

from datetime import UTC, date, datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from cadre.rules import Period
from roster import rules

START = datetime(2026, 3, 20, tzinfo=UTC)  # a week before the clocks go forward
HOURS = 24 * 230  # into November, past the clocks going back
ROLES = ("negotiator", "coordinator")


def moment(hour):
    return START + timedelta(hours=hour)


spans = st.lists(
    st.builds(
        lambda who, role, start, length: rules.Span(
            who, role, moment(start), moment(start + length)
        ),
        st.integers(1, 6),
        st.sampled_from(ROLES),
        st.integers(0, HOURS),
        st.integers(1, 24 * 10),
    ),
    max_size=25,
)
absences = st.lists(
    st.builds(
        lambda who, start, length: rules.Absence(who, moment(start), moment(start + length)),
        st.integers(1, 6),
        st.integers(0, HOURS),
        st.integers(1, 24 * 5),
    ),
    max_size=8,
)
people = [
    rules.Person(n, f"P-{n}", active=n != 6, periods=(Period(date(2025, 1, 1), date(2026, 8, n)),))
    for n in range(1, 7)
]


@settings(max_examples=150, deadline=None)
@given(spans, absences, st.integers(0, 3), st.integers(0, 2))
def test_coverage_tiles_the_range_and_its_gaps_are_real(shifts, away, need_n, need_c):
    minimums = {"negotiator": need_n, "coordinator": need_c}
    start, end = moment(0), moment(HOURS)
    found = rules.coverage(shifts, away, people, minimums, start, end)
    # The segments tile the range: no hole, no overlap.
    assert found.segments[0].start == start and found.segments[-1].end == end
    for before, after in zip(found.segments, found.segments[1:], strict=False):
        assert before.end == after.start
    for gap in found.gaps:
        assert start <= gap.start < gap.end <= end
        assert gap.have < gap.need == minimums[gap.role]
        middle = gap.start + (gap.end - gap.start) / 2
        # on_call agrees with coverage at any moment inside a gap.
        assert len(rules.on_call(shifts, away, people, middle)[gap.role]) == gap.have


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from(["day", "week"]),
    st.lists(st.integers(1, 6), min_size=1, max_size=6, unique=True),
    st.integers(0, 6),
    st.integers(0, 23),
    st.integers(1, 3),
    st.integers(0, 200),
    st.integers(1, 60),
)
def test_a_rotation_covers_its_range_without_a_gap_or_an_overlap(
    length, order, weekday, hour, at_once, offset, days
):
    rotation = rules.Rotation(
        "negotiator", tuple(order), length, weekday, time(hour), at_once, date(2026, 1, 5)
    )
    first = date(2026, 1, 1) + timedelta(days=offset)
    shifts = rules.generate(rotation, first, first + timedelta(days=days))
    if not shifts:
        return
    starts = sorted({s.start for s in shifts})
    ends = sorted({s.end for s in shifts})
    assert starts[0] == rules.at_local(first, time(hour))
    assert ends[-1] == rules.at_local(first + timedelta(days=days), time(hour))
    assert starts[1:] == ends[:-1]  # each slot begins where the last one ended
    per_slot = min(at_once, len(order))
    for slot_start in starts:
        assert len([s for s in shifts if s.start == slot_start]) == per_slot
