"""A small history with hand-computed figures (tests/reports/test_figures.py explains it)."""

from datetime import UTC, datetime, timedelta

import pytest

from callouts import events
from callouts.models import Deployment, Incident
from tests.factories import make_callout, make_force, make_incident, make_negotiator


def at(day, minutes=0):
    return datetime(2026, *day, 10, 0, tzinfo=UTC) + timedelta(minutes=minutes)


def incident(force, raised, kind="barricade", **fields):
    made = make_incident(force, kind=kind, **fields)
    Incident.objects.filter(pk=made.pk).update(raised_at=raised)
    made.refresh_from_db()
    return made


def deploy(incident, person, role, minutes, *, went=True, withdrawn=None, late=False, stood=120):
    callout = make_callout(incident, person, state="accepted")
    raised = incident.raised_at
    return Deployment.objects.create(
        incident=incident,
        callout=callout,
        negotiator=person,
        role="" if late else role,
        late=late,
        accepted_at=raised + timedelta(minutes=minutes),
        withdrawn_at=raised + timedelta(minutes=withdrawn) if withdrawn else None,
        stood_down_at=raised + timedelta(minutes=stood) if went else None,
    )


def step(incident, number, minutes, asked, channel="sms"):
    events.log(
        incident,
        events.K.STEP_FIRED,
        at=incident.raised_at + timedelta(minutes=minutes),
        step=number,
        asked=asked,
        channel=channel,
    )


@pytest.fixture
def history(force, cadre):
    """Four incidents of the home force in Q1 2026, one before it, one of another force."""
    n1, n2, n3, n4, c1, c2 = (cadre[k] for k in ("n1", "n2", "n3", "n4", "c1", "c2"))
    neighbour = make_force("Neighbour Police", "NBR")
    force.neighbours.add(neighbour)
    lent = make_negotiator(force=neighbour, callsign="NB-ONE")
    needs = {"negotiator": 2, "coordinator": 1}

    i1 = incident(force, at((1, 10)), needs=needs, filled_at=at((1, 10), 6), status="closed")
    step(i1, 1, 0, 3)
    deploy(i1, n1, "negotiator", 2)
    deploy(i1, c1, "coordinator", 4)
    deploy(i1, n2, "negotiator", 6)

    i2 = incident(
        force, at((1, 20)), kind="person_at_height", needs=needs, filled_at=at((1, 20), 12)
    )
    step(i2, 1, 0, 3)
    step(i2, 2, 3, 3, channel="voice")
    deploy(i2, n1, "negotiator", 5)
    deploy(i2, n2, "negotiator", 10)
    deploy(i2, c1, "coordinator", 12)

    i3 = incident(force, at((2, 5)), needs=needs, exhausted_at=at((2, 5), 20), status="exhausted")
    step(i3, 1, 0, 3)
    step(i3, 2, 3, 2, channel="both")
    deploy(i3, n3, "negotiator", 8, went=False, withdrawn=9)
    deploy(i3, c2, "coordinator", 15)
    deploy(i3, n4, "negotiator", 20)

    i4 = incident(
        force,
        at((3, 1)),
        kind="hostage",
        needs={"negotiator": 2},
        filled_at=at((3, 1), 35),
        mutual_aid=True,
    )
    step(i4, 1, 0, 4)
    step(i4, 4, 12, 1)
    deploy(i4, n1, "negotiator", 30)
    deploy(i4, lent, "negotiator", 35)
    deploy(i4, c1, "coordinator", 40, late=True)

    # Outside: raised the day before the period, and an incident of the neighbour (aid given).
    before = incident(force, datetime(2025, 12, 31, 23, 30, tzinfo=UTC), filled_at=at((1, 1)))
    deploy(before, n1, "negotiator", 1)
    theirs = incident(neighbour, at((2, 10)), needs={"negotiator": 1})
    deploy(theirs, n2, "negotiator", 7)
    return {"i1": i1, "i2": i2, "i3": i3, "i4": i4, "neighbour": neighbour}
