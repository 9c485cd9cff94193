"""Pure arithmetic of reports: percentiles, periods, hours and nights, flags, CSV, charts."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

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
