"""Who went: the one rule (callouts.deployed) and its queryset twin agree, row for row."""

import itertools
from datetime import UTC, datetime

import pytest
from django.utils import timezone

from callouts import deployed
from callouts.models import Deployment
from tests.factories import make_callout, make_incident, make_negotiator

T0 = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
# Every combination of what decides it: the place filled, late, withdrawn.
TABLE = list(itertools.product(["", "negotiator", "coordinator"], [False, True], [None, T0]))


@pytest.mark.parametrize(
    "role, late, withdrawn_at, expected",
    [
        ("negotiator", False, None, True),
        ("coordinator", False, None, True),
        ("", False, None, False),  # accepted with no place
        ("negotiator", True, None, False),  # too late for a place
        ("negotiator", False, T0, False),  # withdrew
        ("negotiator", True, T0, False),
    ],
)
def test_it_says_who_went(role, late, withdrawn_at, expected):
    assert deployed.went(role, late, withdrawn_at) is expected


@pytest.mark.django_db
def test_it_finds_the_same_people_by_rule_and_by_query(force):
    incident = make_incident(force)
    for role, late, withdrawn_at in TABLE:
        person = make_negotiator(force=force)
        Deployment.objects.create(
            incident=incident,
            callout=make_callout(incident, person),
            negotiator=person,
            role=role,
            late=late,
            withdrawn_at=withdrawn_at,
            accepted_at=timezone.now(),
        )
    rows = list(Deployment.objects.filter(incident=incident))
    by_rule = {d.pk for d in rows if deployed.went(d.role, d.late, d.withdrawn_at)}
    assert by_rule == {d.pk for d in rows if d.went}
    assert set(Deployment.objects.went().values_list("pk", flat=True)) == by_rule
    assert set(Deployment.objects.filter(deployed.WENT).values_list("pk", flat=True)) == by_rule
    assert len(by_rule) == 2  # negotiator and coordinator, neither late nor withdrawn
