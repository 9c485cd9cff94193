"""Shared fixtures and factories for the whole suite."""

import itertools
from datetime import date, timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.core.cache import cache

from cadre.access import COORDINATOR, NEGOTIATOR, SUPERVISOR
from cadre.models import Accreditation, Force, Negotiator

_seq = itertools.count(1)


def make_force(name=None, code=None):
    n = next(_seq)
    return Force.objects.create(name=name or f"Force {n}", code=code or f"F{n}")


def make_user(username=None, groups=(), password="pw"):
    user = User.objects.create_user(username or f"user{next(_seq)}", password=password)
    for name in groups:
        user.groups.add(Group.objects.get_or_create(name=name)[0])
    return user


def make_negotiator(
    force=None,
    callsign=None,
    roles=("negotiator",),
    accredited=True,
    active=True,
    user=None,
    mobile=None,
    valid_until=None,
):
    n = next(_seq)
    negotiator = Negotiator(
        force=force or Force.objects.first() or make_force(),
        callsign=callsign or f"CALL-{n:03d}",
        full_name=f"Person {n}",
        mobile=mobile or f"+4477009{n:05d}"[:13],
        active=active,
        user=user,
    )
    negotiator.roles = roles
    negotiator.save()
    if accredited:
        Accreditation.objects.create(
            negotiator=negotiator,
            kind=Accreditation.Kind.INITIAL,
            passed_on=date(2020, 1, 1),
            valid_until=valid_until or date.today() + timedelta(days=365 * 3),
        )
    return negotiator


@pytest.fixture(autouse=True)
def _empty_cache():
    """Login-throttle counters (and anything else cached) never leak between tests."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def force(db):
    return make_force("Home Constabulary", "HOME")


@pytest.fixture
def coordinator_user(db):
    return make_user("coord", [COORDINATOR])


@pytest.fixture
def supervisor_user(db):
    return make_user("super", [SUPERVISOR])


@pytest.fixture
def negotiator_user(db, force):
    user = make_user("neg", [NEGOTIATOR])
    make_negotiator(force=force, callsign="ALPHA-01", user=user)
    return user


@pytest.fixture
def coordinator_client(client, coordinator_user):
    client.force_login(coordinator_user)
    return client


@pytest.fixture
def supervisor_client(client, supervisor_user):
    client.force_login(supervisor_user)
    return client


@pytest.fixture
def negotiator_client(client, negotiator_user):
    client.force_login(negotiator_user)
    return client


@pytest.fixture(autouse=True)
def _own_spool(settings, tmp_path):
    """Each test has an inbound spool of its own (callouts.messaging.spool)."""
    settings.SPOOL_DIR = tmp_path / "spool"
    return settings.SPOOL_DIR
