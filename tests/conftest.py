"""Shared fixtures for the whole suite; they make things with tests/factories.py."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client

from cadre.access import COORDINATOR, NEGOTIATOR, SUPERVISOR
from callouts.web import tokens
from config import wakeup
from tests.factories import MutualAid, make_cadre, make_force, make_negotiator, make_user


@pytest.fixture(autouse=True, scope="session")
def _no_worker_start_hooks():
    """Tasks run in the test itself (Q_CLUSTER sync), which django-q2 "spawns" anew for each
    task: a queue worker's start-up hooks there would leave a watch thread and 64 sending
    threads behind per task, querying a test database. tests/test_jobs.py runs the hook."""
    from django_q.signals import post_spawn

    from config.jobs import WORKER_START_UID

    post_spawn.disconnect(dispatch_uid=WORKER_START_UID)
    yield


def pytest_runtest_setup(item):
    """`@pytest.mark.postgres("why")`: the test runs on PostgreSQL only, skipped elsewhere
    saying why (row locks, LISTEN/NOTIFY, the connection pool)."""
    marker = item.get_closest_marker("postgres")
    if marker is not None and connection.vendor != "postgresql":
        reason = marker.args[0] if marker.args else "needs PostgreSQL"
        pytest.skip(f"{reason} (PostgreSQL only)")


@pytest.fixture(autouse=True)
def _empty_cache():
    """Login-throttle counters (and anything else cached) never leak between tests."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _no_wake_up_sent_yet():
    """Each test's first reply wakes the clock, whatever the test before it sent."""
    wakeup._last_sent.clear()


@pytest.fixture
def coordinator_token(force):
    """An API token of a coordinator of `force` (with a cadre record, as a control room's)."""
    user = make_user("control", [COORDINATOR], force=force)
    make_negotiator(force, "CTRL-1", roles=("coordinator",), user=user)
    return tokens.create(user, "Control room")[1]


@pytest.fixture
def force(db):
    return make_force("Home Constabulary", "HOME")


@pytest.fixture
def cadre(force):
    """Six members of the home force, keyed n1..n4, c1, c2 (see factories.make_cadre)."""
    return make_cadre(force)


@pytest.fixture
def coordinator_user(db, force):
    """A coordinator of the home force (no cadre record)."""
    return make_user("coord", [COORDINATOR], force=force)


@pytest.fixture
def supervisor_user(db, force):
    """A supervisor of the home force (no cadre record)."""
    return make_user("super", [SUPERVISOR], force=force)


@pytest.fixture
def negotiator_user(db, force):
    """A negotiator of the home force, ALPHA-01."""
    user = make_user("neg", [NEGOTIATOR], force=force)
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


@pytest.fixture
def lent(db):
    """A closed WSX incident that reached AVM's people by mutual aid (factories.MutualAid)."""
    return MutualAid(Client())
