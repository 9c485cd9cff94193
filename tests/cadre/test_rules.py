from datetime import UTC, date, datetime

from cadre.rules import Period, accredited_until, deployable_throughout, is_deployable


def test_it_joins_back_to_back_accreditations():
    periods = [
        Period(date(2024, 1, 1), date(2024, 12, 31)),
        Period(date(2025, 1, 1), date(2025, 6, 30)),
    ]
    assert accredited_until(periods, date(2024, 3, 1)) == date(2025, 6, 30)


def test_it_is_not_deployable_after_lapse():
    periods = [Period(date(2024, 1, 1), date(2024, 12, 31))]
    assert is_deployable(True, periods, datetime(2025, 1, 1, 0, 30, tzinfo=UTC)) is False
    assert is_deployable(True, periods, datetime(2024, 12, 31, 12, 0, tzinfo=UTC)) is True


def test_it_uses_local_dates_in_summer():
    # 23:30 UTC on 31 May is 00:30 on 1 June in London.
    periods = [Period(date(2024, 1, 1), date(2024, 5, 31))]
    assert is_deployable(True, periods, datetime(2024, 5, 31, 23, 30, tzinfo=UTC)) is False


def test_it_is_not_deployable_when_inactive():
    periods = [Period(date(2024, 1, 1), date(2024, 12, 31))]
    assert is_deployable(False, periods, datetime(2024, 6, 1, tzinfo=UTC)) is False


def test_it_checks_a_whole_shift():
    periods = [Period(date(2024, 1, 1), date(2024, 6, 1))]
    start = datetime(2024, 5, 31, 7, 0, tzinfo=UTC)
    assert deployable_throughout(True, periods, start, datetime(2024, 6, 1, 7, 0, tzinfo=UTC))
    assert not deployable_throughout(True, periods, start, datetime(2024, 6, 2, 7, 0, tzinfo=UTC))


def test_local_days_follow_the_time_zone_setting(settings):
    from cadre.rules import local_date, local_tz

    late_evening_in_new_york = datetime(2026, 1, 13, 3, 0, tzinfo=UTC)
    settings.TIME_ZONE = "Europe/London"
    assert local_date(late_evening_in_new_york) == date(2026, 1, 13)  # Europe/London
    settings.TIME_ZONE = "America/New_York"
    assert str(local_tz()) == "America/New_York"
    assert local_date(late_evening_in_new_york) == date(2026, 1, 12)


def test_it_reads_a_record_id_only_from_plain_digits():
    from cadre.rules import record_id

    assert record_id("12") == 12
    assert record_id(" 7 ") == 7
    for junk in ("", None, "abc", "-1", "1.5", "١٢", "99999999999999999999", "1e3"):
        assert record_id(junk) is None
