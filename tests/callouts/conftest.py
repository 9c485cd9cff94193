"""Fixtures for callouts: the cadre on call under the default policy, sync tasks."""

from datetime import timedelta

import pytest
from django.utils import timezone

from callouts.engine.policy import create_default_policy
from tests.factories import put_on


@pytest.fixture(autouse=True)
def database_up():
    """A test that took the database down leaves the webhook spooling for
    SPOOL_DIRECT_SECONDS (a process-wide pause): the next test starts with it up."""
    from callouts.engine import intake

    intake._database_down_until = 0.0
    yield
    intake._database_down_until = 0.0


@pytest.fixture
def on_call(cadre, force):
    """The force's default policy, with n1, n2 and c1 of the cadre on call now."""
    create_default_policy(force)
    now = timezone.now()
    for key, role in [("n1", "negotiator"), ("n2", "negotiator"), ("c1", "coordinator")]:
        put_on(cadre[key], role, start=now - timedelta(hours=1), end=now + timedelta(hours=12))
    return cadre


@pytest.fixture
def run_tasks(django_capture_on_commit_callbacks):
    """Run on_commit callbacks (and so the sync queue's tasks) as a real commit would."""

    def run(fn, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)

    return run
