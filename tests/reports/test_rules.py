"""Pure arithmetic of reports: percentiles, periods, hours and nights, flags, CSV, charts."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reports import charts, rules

LONDON = ZoneInfo("Europe/London")


def test_it_interpolates_percentiles_like_percentile_cont():
    assert rules.percentile([], 0.5) is None
    assert rules.percentile([7], 0.9) == 7
    assert rules.percentile([1, 2, 3, 4], 0.5) == 2.5
    assert rules.percentile([10, 20, 30, 40, 50, 60, 70, 80, 90, 100], 0.9) == pytest.approx(91)
    assert rules.percentile([30, 2, 8, 5], 0.9) == pytest.approx(23.4)


def span(period):
    return (period.since, period.until)


def test_it_makes_the_preset_periods():
    today = date(2026, 5, 14)
    assert span(rules.preset_period("quarter", today)) == (date(2026, 1, 1), date(2026, 3, 31))
    assert span(rules.preset_period("quarter", date(2026, 1, 3))) == (
        date(2025, 10, 1),
        date(2025, 12, 31),
    )
    assert span(rules.preset_period("year", today)) == (date(2025, 1, 1), date(2025, 12, 31))
    assert span(rules.preset_period("30d", today)) == (date(2026, 4, 15), today)
    twelve = rules.preset_period("12m", today)
    assert (twelve.since, len(twelve.months())) == (date(2025, 6, 1), 12)
    assert rules.preset_period("12m", date(2026, 12, 1)).since == date(2026, 1, 1)


def test_it_counts_hours_and_nights_on_call_once_for_overlaps():
    start = datetime(2026, 1, 5, 8, tzinfo=UTC)
    shifts = [
        (start, start + timedelta(days=2)),
        (start + timedelta(days=1), start + timedelta(days=3)),
    ]
    hours, nights = rules.on_call_span(
        shifts, start - timedelta(days=10), start + timedelta(days=10), LONDON
    )
    assert (hours, nights) == (72, 3)
    # Clipped to the window: the last 12 hours, 20:00 to 08:00, one night.
    hours, nights = rules.on_call_span(
        shifts, start + timedelta(days=2, hours=12), start + timedelta(days=10), LONDON
    )
    assert (hours, nights) == (12, 1)


def test_it_flags_by_the_thresholds():
    assert rules.heavy_load(5, 4) and not rules.heavy_load(4, 4)
    assert rules.not_answering([False, False, False, True], 3)
    assert not rules.not_answering([False, True, False], 3)
    assert not rules.not_answering([False, False], 3)


def test_it_says_a_follow_up_is_open_then_overdue():
    down = datetime(2026, 1, 5, 8, tzinfo=UTC)
    assert rules.follow_up_state(down, 72, down + timedelta(hours=71)) == "open"
    assert rules.follow_up_state(down, 72, down + timedelta(hours=72)) == "overdue"


def test_it_keeps_phone_numbers_and_formulas_out_of_csv_cells():
    assert rules.csv_cell("ring 07700 900123 or +447700900123") == "ring [number] or [number]"
    assert rules.csv_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert rules.csv_cell("Flat 12, Mill Lane") == "Flat 12, Mill Lane"


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+2", "'=1+2"),
        ("+SUM(A1)", "'+SUM(A1)"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("-5", "'-5"),  # text that happens to be a number is still text
        ("+44 7700 900123 rang", "[number] rang"),  # nothing left for a formula
        ("+447700900123", "[number]"),
        (-5, "-5"),  # a number is a number, not a formula
        (-0.5, "-0.5"),
        (7.25, "7.2"),
        (True, "yes"),
        (None, ""),
        (datetime(2026, 3, 29, 0, 30, tzinfo=UTC), "2026-03-29T00:30:00+00:00"),
        (datetime(2026, 3, 29, 1, 30, tzinfo=UTC), "2026-03-29T02:30:00+01:00"),
        (datetime(2026, 7, 1, 13, 2, 5, 999_999, tzinfo=UTC), "2026-07-01T14:02:05+01:00"),
        (datetime(2026, 10, 25, 0, 30, tzinfo=UTC), "2026-10-25T01:30:00+01:00"),
        (datetime(2026, 10, 25, 1, 30, tzinfo=UTC), "2026-10-25T01:30:00+00:00"),
    ],
)
def test_it_guards_text_against_formulas_but_writes_times_and_numbers_as_they_are(value, cell):
    assert rules.csv_cell(value, LONDON) == cell


@given(
    at=st.datetimes(
        min_value=datetime(1970, 1, 1), max_value=datetime(2100, 12, 31), timezones=st.just(UTC)
    )
)
def test_a_time_cell_reads_back_as_the_same_moment_in_london(at):
    cell = rules.csv_cell(at, LONDON)
    back = datetime.fromisoformat(cell)
    assert back == at.replace(microsecond=0)
    assert back.utcoffset() == at.astimezone(LONDON).utcoffset()
    assert cell[:1].isdigit()  # no formula guard in the way


@given(seconds=st.floats(-86_400, 10**8, allow_nan=False))
def test_a_duration_cell_reads_back_as_its_minutes(seconds):
    cell = rules.csv_cell(rules.minutes(seconds / 60))
    assert float(cell) == pytest.approx(seconds / 60, abs=0.05 + 1e-9)


def test_it_sorts_blanks_last():
    a, b, c = (rules.WorkloadRow(i, s, "") for i, s in enumerate(["A", "B", "C"]))
    a.received, a.answered, b.received, b.answered = 2, 1, 4, 4
    assert [r.callsign for r in rules.sort_rows([a, b, c], "answered_share", True)] == [
        "B",
        "A",
        "C",
    ]


def test_it_scales_charts_to_a_round_maximum():
    assert [charts.nice_max(v) for v in (0, 3, 7, 12, 26, 80)] == [1, 5, 10, 20, 50, 100]
    chart = charts.columns(["Jan", "Feb"], {"Median": [10, None], "P90": [20, 5]})
    assert len(chart.rects) == 3 and chart.ticks[-1].label == "20"
    tallest = max(chart.rects, key=lambda r: r.height)
    assert tallest.y == chart.plot[1]  # 20 of 20 reaches the top
    bars = charts.bars([("A-1", 4.0), ("B-2", 2.0)])
    assert bars.rects[1].width == pytest.approx(bars.rects[0].width / 2)
    assert charts.bars([]).empty
