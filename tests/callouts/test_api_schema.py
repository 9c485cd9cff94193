"""Schemathesis against the API's own document (/api/openapi.json), in-process.

Every operation, with requests that match the document and requests that break it (and
chains of them, through the document's links): no 5xx, and every answer (status code, JSON
content type, body) as the document describes it. Seeded, so every run sends the same
requests; API_FUZZ_EXAMPLES=1000 (and API_FUZZ_SEED) for a longer hunt.
"""

import os
from datetime import timedelta

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, Phase, settings

from cadre.access import COORDINATOR
from callouts.engine.policy import create_default_policy
from callouts.models import ApiToken, Incident, Message
from callouts.web import tokens
from callouts.web.openapi import DOCUMENT
from tests.factories import make_cadre, make_force, make_negotiator, make_user, put_on

EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", 30))
SEED = int(os.environ.get("API_FUZZ_SEED", 14))

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        "generation": {"mode": "all", "max-examples": EXAMPLES, "deterministic": True},
        # A document cannot list a database's names: valid requests name the fixture's.
        "dictionaries": {
            "forces": {"values": ["HOME", "home"]},
            "policies": {"values": ["Standard"]},
        },
        "parameters": {
            "body.force": {"dictionary": "forces"},
            "body.policy": {"dictionary": "policies"},
            "query.force": {"dictionary": "forces"},
        },
    }
)
schema = schemathesis.openapi.from_dict(DOCUMENT, config=CONFIG)
# Django's own WSGI handler: the whole middleware stack, errors turned into answers as in
# production (a test client would re-raise them instead).
schema.app = WSGIHandler()
# Cases are built before the database exists, so the token's secret is chosen here; the
# fixture stores it as create_api_token does (a prefix and a hash), checked like any other.
TOKEN = "sby_fuzz0001_" + "f" * 43


@schema.auth()
class Bearer:
    """The fixture's token; left off where a case is about a missing Authorization."""

    def get(self, case, context):
        return TOKEN

    def set(self, case, token, context):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}


@pytest.fixture
def token(transactional_db, settings):
    """A coordinator's real token, in a force with a cadre on call and its default policy.
    Transactional: tasks queued on commit run (sync queue), through the simulator."""
    settings.SMS_GATEWAY = "simulator"
    force = make_force("Home Constabulary", "HOME")
    user = make_user("control", [COORDINATOR], force=force)
    make_negotiator(force, "CTRL-1", roles=("coordinator",), user=user)
    cadre = make_cadre(force)
    create_default_policy(force)
    now = timezone.now()
    for key, role in [("n1", "negotiator"), ("n2", "negotiator"), ("c1", "coordinator")]:
        put_on(cadre[key], role, start=now - timedelta(hours=1), end=now + timedelta(hours=12))
    ApiToken.objects.create(
        user=user, name="Fuzzer", prefix="fuzz0001", key_hash=tokens.digest(TOKEN)
    )
    # Each request's end would otherwise close the test's database connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield TOKEN
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@schema.parametrize()
# The fixture's force, cadre and token are meant to be shared by every example.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_it_answers_every_request_as_its_document_says(case, token):
    response = case.call_and_validate()
    if response.status_code == 201:
        # Raised for real: its first step fired through the sync queue, and every message
        # it made was taken by the simulator (nothing can have gone to a real phone).
        incident = Incident.objects.get(pk=response.json()["id"])
        assert incident.step_index >= 0
        assert not Message.objects.filter(incident=incident, provider_sid=None).exists()


def test_it_serves_the_document_it_is_fuzzed_against(client, token):
    response = client.get("/api/openapi.json", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.json() == DOCUMENT


def test_it_keeps_to_its_document_through_raise_read_and_stand_down(token):
    """Chains of calls along the document's links: an incident raised is read and stood
    down (twice, too) by its id, each answer checked as above."""
    workflow = schema.as_state_machine()
    workflow.run(
        settings=settings(
            max_examples=max(EXAMPLES // 3, 5),
            stateful_step_count=6,
            derandomize=True,
            deadline=None,
            # The database goes on between examples, so a failing chain cannot be replayed
            # to shrink it: report it as found.
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
    )
