"""The control-room API through HTTP, with bearer tokens."""

import json
import re
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import URLPattern, get_resolver, reverse
from hypothesis import given
from hypothesis import strategies as st

from cadre.access import COORDINATOR, NEGOTIATOR, SUPERVISOR
from callouts.models import ApiToken, EscalationPolicy, Incident
from callouts.web import api, tokens
from tests.factories import (
    bearer,
    make_callout,
    make_deployed,
    make_force,
    make_incident,
    make_negotiator,
    make_user,
    put_on,
)

pytestmark = pytest.mark.django_db


def post_json(client, url, data, token):
    return client.post(url, json.dumps(data), content_type="application/json", **bearer(token))


def test_it_prints_a_token_once_and_keeps_only_its_hash(force):
    make_user("control", [COORDINATOR], force=force)
    out = StringIO()
    call_command("create_api_token", "control", "--name", "Control room", stdout=out)
    token = out.getvalue().strip()
    record = ApiToken.objects.get()
    assert token.startswith("sby_" + record.prefix)
    assert record.name == "Control room"
    assert token not in (record.key_hash, record.prefix)
    assert len(record.key_hash) == 64
    assert tokens.authenticate(token).username == "control"


def test_it_refuses_a_token_for_nobody():
    with pytest.raises(CommandError):
        call_command("create_api_token", "ghost", stdout=StringIO())


def test_it_refuses_a_revoked_token(client, coordinator_token):
    prefix = ApiToken.objects.get().prefix
    call_command("revoke_api_token", prefix, stdout=StringIO())
    response = client.get(reverse("api_oncall"), **bearer(coordinator_token))
    assert response.status_code == 401
    with pytest.raises(CommandError):
        call_command("revoke_api_token", prefix, stdout=StringIO())


@pytest.mark.parametrize(
    "header", [None, "Bearer", "Bearer sby_nothing_here", "Basic dXNlcjpwdw==", "Token abc"]
)
def test_it_answers_401_json_without_a_valid_token(client, header):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    for url in (reverse("api_oncall"), reverse("api_incidents")):
        response = client.post(url, **extra) if url.endswith("incidents/") else client.get(url)
        assert response.status_code == 401
        assert response["Content-Type"] == "application/json"
        assert response["WWW-Authenticate"].startswith("Bearer")
        assert "error" in response.json()


def test_it_does_not_take_a_browser_session_for_a_token(coordinator_client):
    assert coordinator_client.get(reverse("api_oncall")).status_code == 401


def test_it_raises_an_incident(client, force, coordinator_token):
    response = post_json(
        client,
        reverse("api_incidents"),
        {
            "kind": "person_at_height",
            "location": "Medway bridge",
            "rendezvous": "North car park",
            "needs": {"negotiator": 2, "coordinator": 1},
        },
        coordinator_token,
    )
    assert response.status_code == 201
    incident = Incident.objects.get()
    assert response.json() == {
        "id": incident.pk,
        "reference": incident.reference,
        "status": incident.status,
    }
    assert incident.needs == {"negotiator": 2, "coordinator": 1}
    assert incident.force == force


def test_it_raises_with_a_named_policy(client, force, coordinator_token):
    day = EscalationPolicy.objects.create(force=force, name="Day", is_default=True)
    day.steps.create(position=1, audience="on_call", channel="sms", wait_minutes=5)
    night = EscalationPolicy.objects.create(force=force, name="Night")
    night.steps.create(position=1, audience="force", channel="voice", wait_minutes=9)
    response = post_json(
        client,
        reverse("api_incidents"),
        {"kind": "hostage", "location": "Dover", "policy": "Night"},
        coordinator_token,
    )
    assert response.status_code == 201
    incident = Incident.objects.get(pk=response.json()["id"])
    assert incident.policy_name == "Night"
    # The night policy's steps were frozen onto the incident, not the default's.
    assert [(s.audience, s.channel, s.wait_minutes) for s in incident.frozen_steps] == [
        ("force", "voice", 9)
    ]


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"kind", "location"}),
        ({"kind": "picnic", "location": "Dover"}, {"kind"}),
        ({"kind": "hostage", "location": "  "}, {"location"}),
        ({"kind": "hostage", "location": "x" * 81}, {"location"}),
        ({"kind": "hostage", "location": 7}, {"location"}),
        ({"kind": "hostage", "location": "Dover", "needs": {"negotiator": "two"}}, {"needs"}),
        ({"kind": "hostage", "location": "Dover", "needs": {"chef": 1}}, {"needs"}),
        ({"kind": "hostage", "location": "Dover", "needs": {"negotiator": 0}}, {"needs"}),
        ({"kind": "hostage", "location": "Dover", "needs": [2, 1]}, {"needs"}),
        ({"kind": "hostage", "location": "Dover", "policy": "Nope"}, {"policy"}),
        ({"kind": "hostage", "location": "Dover", "force": "ZZZ"}, {"force"}),
        # Measured as typed, as the form and the document measure it.
        ({"kind": "hostage", "location": "Dover   " * 12}, {"location"}),
        # Found by the schema fuzzer: each of these was taken, as if the field were absent.
        ({"kind": "hostage", "location": "Dover", "force": {}}, {"force"}),
        ({"kind": "hostage", "location": "Dover", "neds": {"negotiator": 5}}, {"neds"}),
    ],
)
def test_it_answers_400_with_a_message_per_field(client, force, coordinator_token, body, fields):
    response = post_json(client, reverse("api_incidents"), body, coordinator_token)
    assert response.status_code == 400
    assert set(response.json()["errors"]) == fields
    assert not Incident.objects.exists()


def test_it_takes_what_its_document_allows_that_it_used_to_refuse(client, force, coordinator_token):
    # Found by the schema fuzzer: an empty policy name (the default, as an empty force code
    # is the only force) and a count written 2.0 (an integer in JSON Schema).
    body = {"kind": "hostage", "location": "Dover", "policy": "", "needs": {"negotiator": 2.0}}
    response = post_json(client, reverse("api_incidents"), body, coordinator_token)
    assert response.status_code == 201
    assert Incident.objects.get().needs == {"negotiator": 2}


@pytest.mark.parametrize("query", [{"at": ""}, {"time": "2026-03-29T01:30Z"}, {"": "null"}])
def test_it_refuses_a_query_it_does_not_understand(client, force, coordinator_token, query):
    # Found by the schema fuzzer: each answered for now, as if nothing had been asked.
    response = client.get(reverse("api_oncall"), query, **bearer(coordinator_token))
    assert response.status_code == 400
    assert set(response.json()["errors"]) == set(query)


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]", b"\xff"])
def test_it_answers_400_to_a_body_that_is_not_a_json_object(client, coordinator_token, raw):
    response = client.post(
        reverse("api_incidents"), raw, content_type="application/json", **bearer(coordinator_token)
    )
    assert response.status_code == 400
    assert "body" in response.json()["errors"]
    assert not Incident.objects.exists()


def test_it_lets_only_coordinators_and_supervisors_raise(client, force):
    negotiator = make_user("n1", [NEGOTIATOR], force=force)
    token = tokens.create(negotiator)[1]
    body = {"kind": "hostage", "location": "Dover"}
    response = post_json(client, reverse("api_incidents"), body, token)
    assert response.status_code == 403
    assert not Incident.objects.exists()
    supervisor = make_user("s1", [SUPERVISOR], force=force)
    make_negotiator(force, "SUP-1", user=supervisor)
    response = post_json(client, reverse("api_incidents"), body, tokens.create(supervisor)[1])
    assert response.status_code == 201
    assert Incident.objects.get().raised_by == supervisor


def test_it_takes_a_force_by_code_from_a_user_of_several_and_never_guesses(client, force):
    other = make_force("Other", "OTH")
    make_negotiator(force, "HOME-1")
    token = tokens.create(make_user("boss", [COORDINATOR], forces=[force, other]))[1]
    body = {"kind": "hostage", "location": "Dover"}
    response = post_json(client, reverse("api_incidents"), {**body, "force": "oth"}, token)
    assert response.status_code == 201
    assert Incident.objects.get().force == other
    # Without a code: no force is guessed (not the largest, not the first by name).
    response = post_json(client, reverse("api_incidents"), body, token)
    assert response.status_code == 400
    assert "Say which force" in response.json()["errors"]["force"]
    assert Incident.objects.count() == 1


def test_it_refuses_other_methods(client, coordinator_token):
    response = client.get(reverse("api_incidents"), **bearer(coordinator_token))
    assert response.status_code == 405
    assert response["Allow"] == "POST"


def test_it_shows_an_incident_with_everyone_asked(client, force, coordinator_token):
    incident = make_incident(force, needs={"negotiator": 1})
    answered = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    make_deployed(
        incident,
        make_negotiator(force, "KILO-1"),
        status="delivered",
        role="negotiator",
        eta_minutes=20,
        answered_at=answered,
    )
    make_callout(incident, make_negotiator(force, "LIMA-2"), status="delivered")
    response = client.get(reverse("api_incident", args=[incident.pk]), **bearer(coordinator_token))
    data = response.json()
    assert response.status_code == 200
    assert data["status"] == "calling"
    assert data["needs"] == {"negotiator": {"needed": 1, "filled": 1}}
    kilo, lima = data["asked"]
    assert kilo["callsign"] == "KILO-1"
    assert kilo["state"] == "accepted"
    assert kilo["role"] == "negotiator"
    assert kilo["eta_minutes"] == 20
    assert kilo["answered_at"] == "2026-10-25T01:30:00Z"
    assert kilo["eta_at"] == "2026-10-25T01:50:00Z"
    assert lima["state"] == "delivered"
    assert lima["answered_at"] is None
    assert "full_name" not in kilo
    assert "mobile" not in json.dumps(data)


def test_it_answers_404_for_unknown_or_other_forces_incidents(client, force, coordinator_token):
    other = make_incident(make_force("Other", "OTH"))
    for pk in (other.pk, 999999):
        response = client.get(reverse("api_incident", args=[pk]), **bearer(coordinator_token))
        assert response.status_code == 404
        response = client.post(reverse("api_stand_down", args=[pk]), **bearer(coordinator_token))
        assert response.status_code == 404
    other.refresh_from_db()
    assert other.status == "calling"


def test_it_stands_an_incident_down(client, force, coordinator_token):
    incident = make_incident(force)
    response = client.post(
        reverse("api_stand_down", args=[incident.pk]), **bearer(coordinator_token)
    )
    assert response.status_code == 200
    assert response.json()["status"] == "stood_down"
    incident.refresh_from_db()
    assert incident.status == "stood_down"


def test_it_refuses_stand_down_to_a_negotiator(client, force):
    incident = make_incident(force)
    token = tokens.create(make_user("n1", [NEGOTIATOR], force=force))[1]
    assert (
        client.post(reverse("api_stand_down", args=[incident.pk]), **bearer(token)).status_code
        == 403
    )
    assert Incident.objects.get(pk=incident.pk).status == incident.status == "calling"
    response = client.get(reverse("api_incident", args=[incident.pk]), **bearer(token))
    assert response.status_code == 403
    assert incident.reference not in response.text


def test_it_says_who_is_on_call_by_role(client, force, coordinator_token):
    kilo = make_negotiator(force, "KILO-1", roles=("negotiator", "coordinator"))
    start = datetime(2026, 3, 28, 20, 0, tzinfo=UTC)
    put_on(kilo, "coordinator", start=start, end=start + timedelta(hours=12))
    url = reverse("api_oncall")
    response = client.get(url, {"at": "2026-03-29T02:30:00+01:00"}, **bearer(coordinator_token))
    assert response.status_code == 200
    data = response.json()
    assert data["at"] == "2026-03-29T01:30:00Z"
    assert data["on_call"]["coordinator"] == ["KILO-1"]
    assert data["on_call"]["negotiator"] == []
    # No offset: read as London time (BST after the change), so 09:30 BST is 08:30 UTC.
    response = client.get(url, {"at": "2026-03-29T09:30"}, **bearer(coordinator_token))
    assert response.json()["on_call"]["coordinator"] == []
    assert response.json()["at"] == "2026-03-29T08:30:00Z"


@pytest.mark.parametrize("at", ["yesterday", "2026-13-01T00:00", "2026-03-29T25:00Z"])
def test_it_answers_400_to_a_bad_time(client, coordinator_token, at):
    response = client.get(reverse("api_oncall"), {"at": at}, **bearer(coordinator_token))
    assert response.status_code == 400
    assert "at" in response.json()["errors"]


def test_it_describes_every_api_route_in_openapi(client, coordinator_token):
    assert client.get(reverse("api_openapi")).status_code == 401
    response = client.get(reverse("api_openapi"), **bearer(coordinator_token))
    document = response.json()
    assert response.status_code == 200
    assert document["openapi"].startswith("3.1")
    served = {
        "/" + str(p.pattern).replace("<int:pk>", "{id}")
        for p in all_patterns(get_resolver())
        if str(p.pattern).startswith("api/") and p.callback is not api.not_found
    }
    assert served == set(document["paths"])


def all_patterns(resolver):
    for p in resolver.url_patterns:
        if isinstance(p, URLPattern):
            yield p
        else:
            yield from all_patterns(p)


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("get", "/api/incidents/-1/", None, 404),
        ("get", "/api/nothing-here/", None, 404),
        ("post", "/api/incidents/", "[" * 100_000 + "]" * 100_000, 400),
        ("post", "/api/incidents/", '{"kind": "hostage", "location": "Do\\u0000ver"}', 400),
        (
            "post",
            "/api/incidents/",
            '{"kind": "hostage", "location": "Dover", "brief": "a\\u0000"}',
            400,
        ),
        ("get", "/api/oncall/?at=9999-12-31T23:59:59-14:00", None, 400),
        ("get", "/api/oncall/?at=0001-01-01T00:00:00%2B14:00", None, 400),
    ],
)
def test_it_answers_bad_input_in_json_with_a_4xx_and_saves_nothing(
    client, force, coordinator_token, method, path, body, status
):
    send = getattr(client, method)
    extra = {"data": body, "content_type": "application/json"} if body is not None else {}
    response = send(path, **extra, **bearer(coordinator_token))
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert "error" in response.json()
    assert not Incident.objects.exists()


def test_it_answers_a_body_too_large_in_json(client, force, coordinator_token, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = client.post(
        "/api/incidents/",
        data='{"kind": "hostage", "location": "' + "x" * 5000 + '"}',
        content_type="application/json",
        **bearer(coordinator_token),
    )
    assert response.status_code == 413
    assert "error" in response.json()
    assert not Incident.objects.exists()
    assert response.json()["error"] == "The request body is too large"


def test_it_answers_for_a_moment_with_any_offset_iso_allows(client, force, coordinator_token):
    # Found by the schema fuzzer: PostgreSQL keeps offsets to ±15:59, and +21:44 was a 500.
    response = client.get(
        reverse("api_oncall"), {"at": "2126-12-28T21:06+21:44"}, **bearer(coordinator_token)
    )
    assert response.status_code == 200
    assert response.json()["at"] == "2126-12-27T23:22:00Z"


@given(st.from_regex(api.AT_PATTERN, fullmatch=True))
def test_it_reads_every_time_its_document_admits(raw):
    assert api.parse_at(raw) is not None


@given(st.text())
def test_it_reads_no_time_its_document_refuses(raw):
    assert (api.parse_at(raw) is None) == (re.fullmatch(api.AT_PATTERN, raw) is None)


def test_it_says_plainly_when_the_login_belongs_to_no_force(client, db):
    user = make_user("drifter")
    token = tokens.create(user, "Control room")[1]
    response = client.get(reverse("api_oncall"), **bearer(token))
    assert response.status_code == 403
    assert "belongs to no force" in response.json()["error"]
