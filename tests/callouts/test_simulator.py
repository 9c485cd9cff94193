"""The phone simulator: handsets over Message rows, replies through the signed webhooks."""

import pytest
from django.test import override_settings
from django.urls import reverse

from callouts.engine import clock
from callouts.models import Callout, Message
from tests.factories import make_callout, make_incident, make_message, make_negotiator

pytestmark = pytest.mark.django_db


@pytest.fixture
def send(coordinator_client, django_capture_on_commit_callbacks):
    """Reply from a handset; the queued handling runs as it would after a real commit."""

    def post(negotiator, body, **extra):
        with django_capture_on_commit_callbacks(execute=True):
            response = coordinator_client.post(
                reverse("simulator_reply", args=[negotiator.pk]), {"body": body}, **extra
            )
            clock.tick()  # the escalator clock hands the reply to the queue
        return response

    return post


@pytest.fixture
def called(force):
    incident = make_incident(force, needs={"negotiator": 1})
    kilo = make_negotiator(force, "KILO-1")
    return incident, kilo, make_callout(incident, kilo, status="delivered")


def test_it_shows_each_handset_with_the_messages_it_received(coordinator_client, called):
    incident, kilo, _ = called
    response = coordinator_client.get(reverse("simulator_phones"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "KILO-1" in html and kilo.mobile in html
    assert f"{incident.reference}: reply Y or N" in html
    assert 'hx-trigger="every 2s"' in html


def test_it_is_not_there_without_the_simulator(coordinator_client):
    with override_settings(SMS_GATEWAY="twilio"):
        assert coordinator_client.get(reverse("simulator_phones")).status_code == 404
        assert coordinator_client.post(reverse("simulator_reply", args=[1])).status_code == 404


def test_it_wants_a_login(client):
    response = client.get(reverse("simulator_phones"))
    assert response.status_code == 302
    assert "/login/" in response.url


def test_it_sends_a_reply_through_the_signed_sms_webhook(coordinator_client, called, send):
    incident, kilo, callout = called
    response = send(kilo, "Y 20", HTTP_HX_REQUEST="true")
    assert "Y 20" in response.content.decode()
    callout.refresh_from_db()
    assert callout.state == Callout.State.ACCEPTED
    assert callout.eta_minutes == 20
    inbound = Message.objects.get(direction="in")
    assert inbound.body == "Y 20" and inbound.provider_sid.startswith("SM")
    # The answer comes back to the handset as an SMS of its own, on the next refresh.
    answer = Message.objects.get(purpose="reply")
    assert answer.to_number == kilo.mobile and answer.status == "delivered"
    assert answer.body in coordinator_client.get(reverse("simulator_phones_live")).content.decode()


@override_settings(PUBLIC_BASE_URL="https://standby.example.org")
def test_it_signs_against_the_public_base_url(coordinator_client, called, send):
    _, kilo, callout = called
    send(kilo, "N")
    callout.refresh_from_db()
    assert callout.state == Callout.State.DECLINED


@pytest.fixture
def ringing(called):
    incident, kilo, callout = called
    call = make_message(
        callout,
        channel="voice",
        step=1,
        body=f"Standby callout {incident.reference}. Press 1 to attend or 2 to decline.",
        status="ringing",
        provider_sid="CA" + "1" * 32,
    )
    return call, callout


def test_it_shows_a_ringing_call_with_its_spoken_text_and_a_keypad(coordinator_client, ringing):
    call, _ = ringing
    html = coordinator_client.get(reverse("simulator_phones")).content.decode()
    assert "Incoming call" in html
    assert reverse("simulator_keypress", args=[call.pk]) in html
    assert "Press 1 to attend" in html


def test_it_answers_a_call_with_a_key_and_shows_what_it_said(coordinator_client, ringing):
    call, callout = ringing
    incident = call.incident
    response = coordinator_client.post(
        reverse("simulator_keypress", args=[call.pk]), {"digit": "1"}, HTTP_HX_REQUEST="true"
    )
    callout.refresh_from_db()
    call.refresh_from_db()
    assert callout.state == Callout.State.ACCEPTED
    assert call.status == "completed"
    said = response.content.decode().split('class="sms said voice"')[1]
    assert "you are going" in said and incident.rendezvous in said
    assert (
        "Incoming call" not in coordinator_client.get(reverse("simulator_phones")).content.decode()
    )


def test_it_asks_again_after_a_wrong_key_then_takes_the_answer(coordinator_client, ringing):
    call, callout = ringing
    url = reverse("simulator_keypress", args=[call.pk])
    coordinator_client.post(url, {"digit": "3"})
    call.refresh_from_db()
    callout.refresh_from_db()
    # Still ringing, and the callout as it was before the key: not answered either way.
    assert call.status == "ringing"
    assert callout.state == Callout.State.ASKED
    coordinator_client.post(url, {"digit": "2"})
    callout.refresh_from_db()
    assert callout.state == Callout.State.DECLINED


def test_it_lets_a_call_ring_out(coordinator_client, ringing):
    call, callout = ringing
    coordinator_client.post(reverse("simulator_keypress", args=[call.pk]), {"hangup": "1"})
    call.refresh_from_db()
    callout.refresh_from_db()
    assert call.status == "no-answer"
    assert callout.state == Callout.State.NO_ANSWER


def test_it_shows_coordinators_who_sent_stop_or_help(coordinator_client, called, send):
    incident, kilo, callout = called
    board = reverse("incident_board_live", args=[incident.pk])
    send(kilo, "HELP")
    assert "asked for HELP" in coordinator_client.get(board).content.decode()
    send(kilo, "stop")
    html = coordinator_client.get(board).content.decode()
    assert "texts stopped — voice only" in html and "sent STOP" not in html
    assert "asked for HELP" not in html
    callout.refresh_from_db()
    assert callout.sms_unreachable


def test_it_shows_one_handset_at_a_time_chosen_from_the_list(coordinator_client, called, force):
    incident, kilo, _ = called
    lima = make_negotiator(force, "LIMA-2")
    html = coordinator_client.get(reverse("simulator_phones")).content.decode()
    # At first the handset with the latest message; every handset is in the picker.
    assert html.count('class="card phone"') == 1 and 'data-callsign="KILO-1"' in html
    assert f'<option value="{lima.pk}"' in html
    html = coordinator_client.get(reverse("simulator_phones"), {"phone": lima.pk}).content.decode()
    assert html.count('class="card phone"') == 1 and 'data-callsign="LIMA-2"' in html
    assert f"{incident.reference}: reply Y or N" not in html.split('class="card phone"')[1]
