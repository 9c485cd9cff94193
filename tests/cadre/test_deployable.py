"""Deployable has one definition (cadre.rules.is_deployable) and one queryset twin
(Negotiator.objects.deployable); on the same rows and moments they must give the same people."""

from datetime import UTC, date, datetime

import pytest

from cadre.models import Accreditation, Negotiator
from tests.factories import make_negotiator

# Accreditation records per person: (passed_on, valid_until), days included, local dates.
RECORDS = {
    "NONE": [],
    "LAPSED": [(date(2025, 1, 1), date(2026, 3, 28))],
    "ENDS-AT-CHANGE": [(date(2025, 1, 1), date(2026, 3, 29))],
    "STARTS-AT-CHANGE": [(date(2026, 3, 29), date(2027, 3, 28))],
    "BACK-TO-BACK": [(date(2025, 1, 1), date(2026, 3, 28)), (date(2026, 3, 29), date(2027, 1, 1))],
    "GAP": [(date(2025, 1, 1), date(2026, 3, 27)), (date(2026, 3, 30), date(2027, 1, 1))],
    "OCTOBER": [(date(2026, 1, 1), date(2026, 10, 25))],
    "FUTURE": [(date(2027, 6, 1), date(2030, 1, 1))],
}

MOMENTS = [
    # Around the spring clock change (29 March 2026, 01:00 UTC): London midnights are 00:00
    # UTC before it and 23:00 UTC the day before after it.
    datetime(2026, 3, 28, 23, 59, tzinfo=UTC),
    datetime(2026, 3, 29, 0, 0, tzinfo=UTC),
    datetime(2026, 3, 29, 22, 59, tzinfo=UTC),
    datetime(2026, 3, 29, 23, 0, tzinfo=UTC),
    datetime(2026, 3, 30, 12, 0, tzinfo=UTC),
    # Around the autumn one (25 October 2026, 01:00 UTC).
    datetime(2026, 10, 25, 22, 59, tzinfo=UTC),
    datetime(2026, 10, 25, 23, 0, tzinfo=UTC),
    datetime(2026, 10, 26, 0, 0, tzinfo=UTC),
    datetime(2027, 7, 1, 12, 0, tzinfo=UTC),
]


@pytest.fixture
def register(db):
    people = {}
    for callsign, records in RECORDS.items():
        for active in (True, False):
            person = make_negotiator(
                callsign=f"{callsign}-{'ON' if active else 'OFF'}", active=active, accredited=False
            )
            for passed_on, valid_until in records:
                Accreditation.objects.create(
                    negotiator=person,
                    kind=Accreditation.Kind.INITIAL,
                    passed_on=passed_on,
                    valid_until=valid_until,
                )
            people[person.callsign] = person
    return people


@pytest.mark.parametrize("at", MOMENTS, ids=lambda at: at.isoformat())
def test_it_finds_the_same_people_deployable_by_rule_and_by_query(register, at):
    by_rule = {
        p.callsign
        for p in Negotiator.objects.prefetch_related("accreditations")
        if p.is_deployable(at)
    }
    by_query = set(Negotiator.objects.deployable(at).values_list("callsign", flat=True))
    assert by_rule == by_query
    # Not an empty agreement: some are deployable at every moment and some never.
    assert "NONE-ON" not in by_rule and "BACK-TO-BACK-OFF" not in by_rule


def test_it_counts_the_last_local_day_of_an_accreditation_across_the_clock_change(register):
    # 23:30 UTC on 29 March is 00:30 BST on the 30th: the record that ended on the 29th has
    # lapsed, although it is still the 29th in UTC.
    late = datetime(2026, 3, 29, 23, 30, tzinfo=UTC)
    deployable = set(Negotiator.objects.deployable(late).values_list("callsign", flat=True))
    assert "ENDS-AT-CHANGE-ON" not in deployable
    assert "BACK-TO-BACK-ON" in deployable
    assert "GAP-ON" in deployable  # its second record began on the 30th
