"""A slow or failing provider: never doubled, never lost, never silent.

A scripted gateway stands in for Twilio: each send takes the next scripted outcome
(or succeeds), and it remembers what it "took", so a lost outcome can be looked up.
"""

import itertools
import logging
from datetime import timedelta
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from callouts import services
from callouts.engine import clock
from callouts.messaging import health, sending
from callouts.messaging.gateways import (
    AmbiguousError,
    Gateway,
    PermanentError,
    RejectedError,
    Sent,
    TemporaryError,
)
from callouts.models import Callout, Message, ProviderHealth
from tests.factories import raise_incident

OUTAGE = TemporaryError("HTTP 503: Service unavailable", "20503")


class ScriptedGateway(Gateway):
    def __init__(self):
        self.script: dict[str, list] = {}  # to number -> outcomes of its next sends
        self.down = None  # every send fails with this while set
        self.taken: list = []  # (to, body, sid)
        self.lookup_error = None
        self._sids = (f"SM{n:032d}" for n in itertools.count(1))

    def fail_next(self, person, *outcomes):
        self.script.setdefault(person.mobile, []).extend(outcomes)

    def send_sms(self, message):
        if self.down:
            raise self.down
        queued = self.script.get(message.to_number)
        outcome = queued.pop(0) if queued else None
        if outcome == "taken-but-timed-out":
            self.taken.append((message.to_number, message.body, next(self._sids)))
            raise AmbiguousError("ReadTimeout: read timed out", "timeout")
        if isinstance(outcome, Exception):
            raise outcome
        sid = next(self._sids)
        self.taken.append((message.to_number, message.body, sid))
        return Sent(sid, "queued")

    place_call = send_sms

    def find_sent(self, message, exclude=frozenset()):
        if self.lookup_error:
            raise self.lookup_error
        for to, body, sid in self.taken:
            if to == message.to_number and body == message.body and sid not in exclude:
                return sid
        return None

    def sent_to(self, number):
        return [t for t in self.taken if t[0] == number]


@pytest.fixture
def gateway():
    scripted = ScriptedGateway()
    with mock.patch("callouts.messaging.sending.get_gateway", return_value=scripted):
        yield scripted


def later(seconds):
    return timezone.now() + timedelta(seconds=seconds)


def tick_at(run_tasks, moment):
    """The clock at `moment`, with the queue running what it hands over."""
    with mock.patch("callouts.messaging.sending.timezone.now", return_value=moment):
        return run_tasks(clock.tick, moment)


def callout_message(person):
    return Message.objects.get(negotiator=person, purpose="callout", channel="sms")


def test_it_never_resends_a_timed_out_message_the_provider_took(on_call, force, gateway, run_tasks):
    gateway.fail_next(on_call["n1"], "taken-but-timed-out")
    run_tasks(raise_incident, force)
    message = callout_message(on_call["n1"])
    assert message.status == "sending"  # not PENDING: nobody knows if Twilio has it

    tick_at(run_tasks, later(40))  # past the lease: the clock asks Twilio

    message.refresh_from_db()
    assert message.status == "sent"
    assert len(gateway.sent_to(on_call["n1"].mobile)) == 1


def test_it_sends_again_once_the_provider_says_it_never_took_it(on_call, force, gateway, run_tasks):
    gateway.fail_next(
        on_call["n1"], AmbiguousError("ConnectionError: connection aborted", "timeout")
    )
    run_tasks(raise_incident, force)
    assert callout_message(on_call["n1"]).status == "sending"

    tick_at(run_tasks, later(40))

    message = callout_message(on_call["n1"])
    assert message.status == "sent"
    assert len(gateway.sent_to(on_call["n1"].mobile)) == 1


def test_an_outage_never_abandons_a_callout_still_needed(on_call, force, gateway, run_tasks):
    gateway.down = OUTAGE
    run_tasks(raise_incident, force)
    for seconds in range(15, 180, 15):  # three minutes of a provider answering 503
        tick_at(run_tasks, later(seconds))
    message = callout_message(on_call["n1"])
    assert message.status == "pending"
    assert message.error_code == "20503"
    assert Callout.objects.get(negotiator=on_call["n1"]).state == "asked"  # not unreachable


def test_after_an_outage_stand_downs_go_first_and_each_once(on_call, force, gateway, run_tasks):
    gateway.down = OUTAGE  # the whole first step fails
    incident = run_tasks(raise_incident, force)
    run_tasks(services.stand_down, incident, by=None)  # stand-downs fail too
    stand_downs = Message.objects.filter(purpose="stand_down")
    assert {m.status for m in stand_downs} == {"pending"}
    assert health.current() is not None

    gateway.down = None
    tick_at(run_tasks, later(30))  # the provider is back

    assert {m.status for m in stand_downs.all()} == {"sent"}
    # The callouts were no longer needed: cancelled, never sent after the stand-down.
    assert set(Message.objects.filter(purpose="callout").values_list("status", flat=True)) == {
        "cancelled"
    }
    for person in (on_call["n1"], on_call["n2"], on_call["c1"]):
        assert [body for _, body, _ in gateway.sent_to(person.mobile)] == [
            stand_downs.get(negotiator=person).body
        ]
    assert health.current() is None


def test_recovery_releases_every_message_waiting_out_a_backoff(on_call, force, gateway, run_tasks):
    gateway.down = OUTAGE
    run_tasks(raise_incident, force)
    assert Message.objects.filter(next_attempt_at__gt=timezone.now()).count() == 3

    health.record(1, [])  # something went through: the provider is back

    assert Message.objects.filter(next_attempt_at__gt=timezone.now()).count() == 0


def test_it_claims_waiting_stand_downs_first(on_call, force, gateway, run_tasks):
    gateway.down = OUTAGE
    incident = run_tasks(raise_incident, force)
    services.stand_down(incident, by=None)
    Message.objects.filter(purpose="callout").update(status="pending")
    Message.objects.update(next_attempt_at=later(-5))
    with mock.patch("callouts.tasks.send_now") as send_now:
        clock.tick(timezone.now())
    claimed = Message.objects.in_bulk(send_now.call_args.args[0])
    purposes = [claimed[pk].purpose for pk in send_now.call_args.args[0]]
    assert purposes[:3] == ["stand_down"] * 3


def test_a_request_the_provider_refuses_is_not_retried_nor_blamed_on_the_person(
    on_call, force, gateway, run_tasks
):
    gateway.fail_next(
        on_call["n1"], RejectedError("HTTP 400: A 'To' phone number is required", "21604")
    )
    run_tasks(raise_incident, force)
    message = callout_message(on_call["n1"])
    assert (message.status, message.attempts, message.next_attempt_at) == ("failed", 1, None)
    callout = Callout.objects.get(negotiator=on_call["n1"])
    assert not callout.sms_unreachable
    assert callout.state == "asked"


def test_a_permanent_error_for_the_number_marks_only_that_person(
    on_call, force, gateway, run_tasks
):
    gateway.fail_next(on_call["n1"], PermanentError("HTTP 400: invalid To", "21211"))
    run_tasks(raise_incident, force)
    callouts = {c.negotiator_id: c for c in Callout.objects.all()}
    assert callouts[on_call["n1"].pk].state == "unreachable"
    assert callouts[on_call["n2"].pk].state == "asked"


def test_a_lost_outcome_that_cannot_be_looked_up_shows_as_not_known(
    client, on_call, force, gateway, run_tasks, coordinator_user
):
    gateway.fail_next(on_call["n1"], AmbiguousError("ReadTimeout", "timeout"))
    incident = run_tasks(raise_incident, force)
    gateway.lookup_error = TemporaryError("HTTP 500: list failed", "20500")
    moment = later(40)
    for _ in range(sending.LOOKUP_LIMIT):
        tick_at(run_tasks, moment)
        moment = callout_message(on_call["n1"]).next_attempt_at + timedelta(seconds=1)
    message = callout_message(on_call["n1"])
    assert message.status == "unknown"
    assert message.next_attempt_at is not None  # still asking

    client.force_login(coordinator_user)
    page = client.get(reverse("incident_board", args=[incident.pk])).content.decode()
    assert "Not known if reached" in page
    assert "phone them" in page
    assert "1 message not known to have been sent" in page

    gateway.lookup_error = None  # Twilio's list works again; it never had the message
    tick_at(run_tasks, message.next_attempt_at + timedelta(seconds=1))
    assert callout_message(on_call["n1"]).status == "sent"
    assert len(gateway.sent_to(on_call["n1"].mobile)) == 1


def test_coordinators_see_an_outage_banner_and_the_board_says_who_is_not_reached(
    client, on_call, force, gateway, run_tasks, coordinator_user
):
    gateway.down = OUTAGE
    incident = run_tasks(raise_incident, force)
    client.force_login(coordinator_user)

    page = client.get(reverse("dashboard")).content.decode()
    assert "SMS provider failing since" in page
    assert "last error 20503" in page
    assert "3 messages waiting" in page
    board = client.get(reverse("incident_board", args=[incident.pk])).content.decode()
    assert board.count('data-state="not_reached"') == 3
    assert "provider failing (20503), retrying" in board


def test_negotiators_do_not_see_the_banner(client, on_call, force, gateway, negotiator_user):
    ProviderHealth.objects.create(failing_since=timezone.now(), last_error_code="20503")
    client.force_login(negotiator_user)
    assert "SMS provider failing" not in client.get(reverse("dashboard")).content.decode()


def test_the_log_says_an_outage_once_not_per_attempt(on_call, force, gateway, run_tasks, caplog):
    gateway.down = OUTAGE
    with caplog.at_level(logging.WARNING, logger="callouts.provider"):
        run_tasks(raise_incident, force)
        ids = list(Message.objects.values_list("pk", flat=True))
        for _ in range(3):
            Message.objects.update(status="pending")
            sending.send_many(ids)
        gateway.down = None
        Message.objects.update(status="pending")
        sending.send_many(ids)  # the provider is back
    said = [r.getMessage() for r in caplog.records]
    assert len(said) == 2
    assert said[0].startswith("provider failing")
    assert said[1].startswith("provider recovered")
