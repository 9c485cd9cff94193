"""NUL bytes and lone surrogates are refused at the door (config/input_check.py), the API
answers its errors in JSON, and Twilio's SMS webhook answers without its slash."""

import json

import pytest
from django.test import override_settings

from callouts.models import Message, StatusCallback
from config import input_check
from reports.models import WorkloadSettings
from tests.factories import bearer, post_signed

NUL, LONE = "\x00", "\ud800"


def test_it_finds_nul_and_lone_surrogates_only():
    assert input_check.unsafe_text("a\x00b")
    assert input_check.unsafe_text("a\ud800")
    assert input_check.unsafe_text("\udfff")
    assert not input_check.unsafe_text("Y 20 😀 Ｙ ２０ é", "", None)


def test_it_finds_them_anywhere_in_a_json_body():
    assert input_check.unsafe_json(b'{"a": ["x", {"b": "\\ud800"}]}')
    assert input_check.unsafe_json(b'{"\\u0000": 1}')
    assert not input_check.unsafe_json(b'{"a": "\\ud83d\\ude00", "b": "\\u00e9"}')  # 😀, é
    assert not input_check.unsafe_json(b"not json")
    assert input_check.unsafe_json(b'{"a": "\x00"')
    nested = b'{"a":' * 100_000 + b"1" + b"}" * 100_000
    assert not input_check.unsafe_json(nested)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/reports/export/incidents.csv?since=%00",
        "/reports/export/workload.csv?force=%00",
        "/reports/workload/?force=%00",
        "/incidents/1/timeline/?person=%00",
    ],
)
def test_it_refuses_a_nul_in_a_query_parameter_with_a_short_plain_page(coordinator_client, url):
    response = coordinator_client.get(url)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert "NUL bytes" in response.text and "query parameter" in response.text


def test_it_refuses_a_nul_in_a_token_in_the_path_to_a_stranger(client, db):
    response = client.get("/rota/feed/%00/mine.ics")
    assert response.status_code == 400


def test_it_refuses_a_nul_in_a_form_field(coordinator_client):
    response = coordinator_client.post("/reports/workload/settings/", {"force": NUL})
    assert response.status_code == 400
    assert "form field" in response.text
    assert not WorkloadSettings.objects.exists()


def test_it_refuses_a_nul_in_a_header(coordinator_client):
    response = coordinator_client.get("/", HTTP_HX_CURRENT_URL="http://x/\x00")
    assert response.status_code == 400
    assert "header" in response.text


@pytest.mark.parametrize("field", ["kind", "location", "brief", "force", "policy"])
def test_it_refuses_a_lone_surrogate_or_nul_in_the_api_json_with_json(
    client, coordinator_token, field
):
    for bad in (LONE, NUL):
        body = json.dumps({"kind": "hostage", "location": "Dover", field: f"x{bad}y"})
        response = client.post(
            "/api/incidents/", body, content_type="application/json", **bearer(coordinator_token)
        )
        assert response.status_code == 400
        assert "JSON body" in response.json()["error"]


def test_it_refuses_a_nul_in_an_api_query_parameter_with_json(client, coordinator_token):
    response = client.get("/api/oncall/?force=%00", **bearer(coordinator_token))
    assert response.status_code == 400
    assert "query parameter" in response.json()["error"]


def test_it_checks_twilios_webhooks_too(client, db):
    response = post_signed(
        client, "/twilio/status/?m=%00", {"MessageSid": "SM" + "a" * 32, "MessageStatus": "sent"}
    )
    assert response.status_code == 400
    assert not StatusCallback.objects.exists()  # refused before it was taken in


@override_settings(DEBUG=True)
def test_it_takes_an_sms_posted_without_the_slash(client, cadre):
    params = {"From": cadre["n1"].mobile, "To": "+447700900000", "Body": "Y", "MessageSid": "SM1"}
    response = post_signed(client, "/twilio/sms", params)
    assert response.status_code == 200
    taken = Message.objects.get(direction="in")
    assert (taken.from_number, taken.body) == (cadre["n1"].mobile, "Y")


def test_it_answers_json_for_an_error_inside_the_api(client, coordinator_token, monkeypatch):
    from callouts.web import api

    def broken(*args, **kwargs):
        raise RuntimeError("broken")

    monkeypatch.setattr(api, "on_call", broken)
    client.raise_request_exception = False
    response = client.get("/api/oncall/", **bearer(coordinator_token))
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert "error" in response.json()


def test_it_answers_a_page_for_an_error_elsewhere(coordinator_client, monkeypatch):
    from config import views

    def broken(*args, **kwargs):
        raise RuntimeError("broken")

    monkeypatch.setattr(views, "roster_context", broken)
    coordinator_client.raise_request_exception = False
    response = coordinator_client.get("/")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")
