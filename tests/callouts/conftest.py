"""Fixtures for callouts: a cadre with people on call, signed Twilio webhooks, sync tasks."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from twilio.request_validator import RequestValidator

from callouts.engine.policy import create_default_policy
from roster.models import Shift
from roster.queries import rota_for
from tests.conftest import make_negotiator


def put_on_call(negotiator, role="negotiator", hours=12):
    now = timezone.now()
    return Shift.objects.create(
        rota=rota_for(negotiator.force),
        negotiator=negotiator,
        role=role,
        start=now - timedelta(hours=1),
        end=now + timedelta(hours=hours),
    )


def sign(url, params):
    return RequestValidator(settings.TWILIO_AUTH_TOKEN).compute_signature(url, params)


def post_signed(client, path, params):
    """POST as Twilio does: form-encoded, signed over PUBLIC_BASE_URL + path."""
    url = settings.PUBLIC_BASE_URL + path
    return client.post(path, params, HTTP_X_TWILIO_SIGNATURE=sign(url, params))


@pytest.fixture
def cadre(db, force):
    """Two negotiators and a coordinator on call, plus three more deployable members."""
    create_default_policy(force)
    people = {
        "n1": make_negotiator(force=force, callsign="N-ONE"),
        "n2": make_negotiator(force=force, callsign="N-TWO"),
        "c1": make_negotiator(force=force, callsign="C-ONE", roles=("coordinator",)),
        "n3": make_negotiator(force=force, callsign="N-THREE"),
        "n4": make_negotiator(force=force, callsign="N-FOUR"),
        "c2": make_negotiator(force=force, callsign="C-TWO", roles=("negotiator", "coordinator")),
    }
    put_on_call(people["n1"])
    put_on_call(people["n2"])
    put_on_call(people["c1"], "coordinator")
    return people


@pytest.fixture
def run_tasks(django_capture_on_commit_callbacks):
    """Run on_commit callbacks (and so the sync queue's tasks) as a real commit would."""

    def run(fn, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)

    return run
