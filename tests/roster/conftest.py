from datetime import UTC, datetime, timedelta

import pytest

from roster.models import Shift
from roster.queries import rota_for
from tests.conftest import make_negotiator

# A Monday in winter (GMT): local and UTC agree, which keeps expectations readable.
MONDAY = datetime(2026, 1, 5, 8, tzinfo=UTC)


@pytest.fixture
def rota(force):
    return rota_for(force)


@pytest.fixture
def cadre(force):
    """Four negotiators and a coordinator, callsigns N1..N4 and C1."""
    people = {f"N{i}": make_negotiator(force, callsign=f"N{i}") for i in range(1, 5)}
    people["C1"] = make_negotiator(force, callsign="C1", roles=("coordinator",))
    return people


def put_on(rota, negotiator, role="negotiator", start=MONDAY, days=7, **kwargs):
    return Shift.objects.create(
        rota=rota,
        negotiator=negotiator,
        role=role,
        start=start,
        end=start + timedelta(days=days),
        **kwargs,
    )
