"""The real Twilio SDK path, against the local stand-in (bench/twilio_standin.py)."""

import http.client
import socket
import time

import pytest
import requests
import urllib3
from django.test import override_settings
from twilio.base.exceptions import TwilioRestException

from bench.twilio_standin import StandIn
from callouts.messaging import sending
from callouts.messaging.gateways import get_gateway
from callouts.models import Callout, Message
from tests.factories import make_message, post_sms, raise_incident


@pytest.fixture
def standin():
    with (
        StandIn(delay=0) as server,
        override_settings(
            SMS_GATEWAY="twilio",
            TWILIO_ACCOUNT_SID="AC" + "0" * 32,
            TWILIO_AUTH_TOKEN="test-token",
            TWILIO_FROM_NUMBER="+447700900000",
            TWILIO_API_BASE=server.base_url,
        ),
    ):
        yield server


def test_it_sends_through_the_sdk_with_a_status_callback(cadre, on_call, force, standin, run_tasks):
    run_tasks(raise_incident, force, kind="hostage", location="Dover")
    sms = standin.sent_to(cadre["n1"].mobile)
    assert len(sms) == 1
    message = Message.objects.get(negotiator=cadre["n1"], purpose="callout")
    assert message.status == "sent"
    assert message.provider_sid == sms[0]["sid"]
    assert sms[0]["status_callback"].endswith(f"/twilio/status/?m={message.pk}")
    assert sms[0]["body"] == message.body


def test_it_retries_a_temporary_failure_later(cadre, on_call, force, standin, run_tasks):
    standin.fail(cadre["n1"].mobile, 503, 20500, times=1)
    run_tasks(raise_incident, force, kind="hostage", location="Dover")
    message = Message.objects.get(negotiator=cadre["n1"], purpose="callout")
    assert message.status == "pending"
    assert message.attempts == 1
    assert message.next_attempt_at is not None
    # The escalator clock picks it up once the backoff is over.
    Message.objects.filter(pk=message.pk).update(next_attempt_at=message.created_at)
    assert sending.send(message.pk)
    message.refresh_from_db()
    assert message.status == "sent"
    assert message.attempts == 2
    assert len(standin.sent_to(cadre["n1"].mobile)) == 1


@pytest.mark.parametrize("code", [21211, 21610, 21614])
def test_it_marks_a_permanent_failure_unreachable_and_goes_on(
    cadre, on_call, force, standin, run_tasks, code
):
    standin.fail(cadre["n1"].mobile, 400, code)
    run_tasks(raise_incident, force, kind="hostage", location="Dover")
    message = Message.objects.get(negotiator=cadre["n1"], purpose="callout")
    assert message.status == "failed"
    assert message.error_code == str(code)
    callout = Callout.objects.get(negotiator=cadre["n1"])
    assert callout.sms_unreachable
    assert callout.state == "unreachable"
    assert len(standin.sent_to(cadre["n2"].mobile)) == 1


def test_it_finds_a_message_the_provider_took_when_the_sid_was_lost(
    cadre, on_call, force, standin, run_tasks
):
    run_tasks(raise_incident, force, kind="hostage", location="Dover")
    message = Message.objects.get(negotiator=cadre["n1"], purpose="callout")
    sid = message.provider_sid
    # As if the worker died after Twilio took it but before saving the sid.
    Message.objects.filter(pk=message.pk).update(
        status="sending", provider_sid=None, next_attempt_at=message.created_at
    )
    assert get_gateway().find_sent(Message.objects.get(pk=message.pk)) == sid
    sending.reconcile(message.pk)
    message.refresh_from_db()
    assert (message.status, message.provider_sid) == ("sent", sid)
    assert len(standin.sent_to(cadre["n1"].mobile)) == 1


def test_it_places_calls_whose_twiml_and_callbacks_come_back_to_us(
    cadre, on_call, force, standin, run_tasks
):
    from datetime import timedelta

    from callouts.engine import clock

    incident = run_tasks(raise_incident, force, kind="hostage", location="Dover")
    incident.refresh_from_db()
    run_tasks(clock.tick, incident.next_step_at + timedelta(seconds=1))
    call = Message.objects.get(negotiator=cadre["n1"], channel="voice")
    placed = [c for c in standin.calls if c["to"] == cadre["n1"].mobile]
    assert len(placed) == 1
    assert placed[0]["url"] == f"http://127.0.0.1:8000/twilio/voice/{call.pk}/"
    assert placed[0]["status_callback"].endswith(f"/twilio/status/?m={call.pk}")
    assert (call.provider_sid, call.status) == (placed[0]["sid"], "sent")
    assert get_gateway().find_sent(call) == call.provider_sid


def test_when_nobody_in_a_step_can_be_reached_the_next_step_is_due_at_once(
    cadre, on_call, force, standin, run_tasks
):
    from django.utils import timezone

    for key in ("n1", "n2", "c1"):
        standin.fail(cadre[key].mobile, 400, 21211)
    incident = run_tasks(raise_incident, force, kind="hostage", location="Dover")
    incident.refresh_from_db()
    assert incident.step_index == 0
    assert incident.next_step_at <= timezone.now()


def test_one_reachable_person_keeps_the_step_waiting(cadre, on_call, force, standin, run_tasks):
    from django.utils import timezone

    for key in ("n1", "n2"):
        standin.fail(cadre[key].mobile, 400, 21211)
    incident = run_tasks(raise_incident, force, kind="hostage", location="Dover")
    incident.refresh_from_db()
    assert incident.next_step_at > timezone.now()


def test_filling_cancels_calls_still_ringing(client, cadre, on_call, force, standin, run_tasks):
    from datetime import timedelta

    from callouts.engine import clock

    incident = run_tasks(raise_incident, force, kind="hostage", location="Dover")
    incident.refresh_from_db()
    run_tasks(clock.tick, incident.next_step_at + timedelta(seconds=1))
    ringing = Message.objects.get(negotiator=cadre["n2"], channel="voice")
    assert ringing.status == "sent"
    for person, sid in [(cadre["n1"], "SM1"), (cadre["n2"], "SM2"), (cadre["c1"], "SM3")]:
        run_tasks(post_sms, client, person, "Y", sid)
        run_tasks(clock.tick)
    incident.refresh_from_db()
    assert incident.status == "filled"
    # Every call of the step was still ringing: each is cancelled at Twilio.
    calls = {c["to"]: c["status"] for c in standin.calls}
    assert set(calls.values()) == {"canceled"}
    assert set(Message.objects.filter(channel="voice").values_list("status", flat=True)) == {
        "cancelled"
    }


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (requests.exceptions.ReadTimeout("read timed out"), "AmbiguousError"),
        (
            requests.exceptions.ConnectionError(
                urllib3.exceptions.ProtocolError("Connection aborted.", ConnectionResetError())
            ),
            "AmbiguousError",
        ),
        (
            requests.exceptions.ConnectionError(
                urllib3.exceptions.MaxRetryError(
                    None, "/", urllib3.exceptions.NewConnectionError(None, "refused")
                )
            ),
            "TemporaryError",
        ),
        (requests.exceptions.ConnectTimeout("connect timed out"), "TemporaryError"),
        # As requests raises them: nothing was written before these...
        (
            requests.exceptions.ConnectTimeout(
                urllib3.exceptions.MaxRetryError(
                    None, "/", urllib3.exceptions.ConnectTimeoutError(None, "timed out")
                )
            ),
            "TemporaryError",
        ),
        (
            requests.exceptions.ConnectionError(
                urllib3.exceptions.MaxRetryError(
                    None,
                    "/",
                    urllib3.exceptions.NameResolutionError("api.twilio.com", None, OSError()),
                )
            ),
            "TemporaryError",
        ),
        (requests.exceptions.ConnectionError(ConnectionRefusedError()), "TemporaryError"),
        # ...and the request may have been written before these.
        (
            requests.exceptions.ReadTimeout(
                urllib3.exceptions.ReadTimeoutError(None, "/", "Read timed out.")
            ),
            "AmbiguousError",
        ),
        (
            requests.exceptions.ConnectionError(
                urllib3.exceptions.ProtocolError(
                    "Connection aborted.",
                    http.client.RemoteDisconnected("Remote end closed connection"),
                )
            ),
            "AmbiguousError",
        ),
        (
            requests.exceptions.ChunkedEncodingError(
                urllib3.exceptions.ProtocolError("Response ended prematurely")
            ),
            "AmbiguousError",
        ),
        (requests.exceptions.ConnectionError(BrokenPipeError()), "AmbiguousError"),
        (TwilioRestException(500, "/", "boom"), "TemporaryError"),
        (TwilioRestException(429, "/", "slow down", code=20429), "TemporaryError"),
        (TwilioRestException(401, "/", "bad credentials", code=20003), "TemporaryError"),
        (TwilioRestException(400, "/", "To is required", code=21604), "RejectedError"),
        (TwilioRestException(400, "/", "Body is required", code=21602), "RejectedError"),
        (TwilioRestException(400, "/", "invalid number", code=21211), "PermanentError"),
        (TwilioRestException(400, "/", "opted out", code=21610), "PermanentError"),
    ],
)
def test_it_classifies_failures_by_whether_twilio_can_have_taken_them(error, kind):
    from callouts.messaging.gateways.twilio import classify

    assert type(classify(error)).__name__ == kind


@pytest.mark.parametrize(
    ("code", "person"), [("30003", True), ("30005", True), ("30008", False), ("", False)]
)
def test_only_a_callback_about_the_number_marks_a_person_unreachable(
    cadre, on_call, force, standin, run_tasks, code, person
):
    from callouts.messaging import status

    run_tasks(raise_incident, force)
    message = Message.objects.get(negotiator=cadre["n1"], purpose="callout")
    status.apply(message.provider_sid, "undelivered", error_code=code)
    callout = Callout.objects.get(negotiator=cadre["n1"])
    assert callout.sms_unreachable is person


def test_it_finds_a_lost_message_behind_many_newer_ones_to_that_number(
    cadre, on_call, force, standin, run_tasks
):
    run_tasks(raise_incident, force)
    message = Message.objects.get(negotiator=cadre["n1"], purpose="callout")
    sid = message.provider_sid
    gateway = get_gateway()
    for n in range(30):  # a busy on-call phone: answers and other callouts since
        other = make_message(to_number=cadre["n1"].mobile, body=f"answer {n}")
        gateway.send_sms(other)
    Message.objects.filter(pk=message.pk).update(status="sending", provider_sid=None)
    assert gateway.find_sent(Message.objects.get(pk=message.pk)) == sid


def test_the_stand_in_takes_no_message_from_half_a_request(standin):
    # A worker SIGKILLed while writing its request: the stand-in used to record a message
    # to "" (the To never arrived), so the kill test counted one SMS too many.
    host, port = standin.base_url.removeprefix("http://").split(":")
    body = b"To=%2B447700900123&From=%2B447700900000&Body=CALLOUT"
    with socket.create_connection((host, int(port))) as client:
        client.sendall(
            b"POST /2010-04-01/Accounts/AC0/Messages.json HTTP/1.1\r\nHost: x\r\n"
            + f"Content-Length: {len(body) + 40}\r\n\r\n".encode()
            + body
        )
    time.sleep(0.3)
    assert standin.messages == []
