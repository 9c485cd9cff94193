"""Standing down while Twilio's status callbacks for the same incident pour in (PostgreSQL).

The stand-down (from the API and from the page) and the callbacks lock the same rows: they
must take them in one order, so that neither waits for the other in a circle, and a
conflict the database still reports is retried, never answered with a 500.
"""

import functools
import threading
from datetime import timedelta
from unittest import mock

import psycopg
import pytest
from django.db import OperationalError, connections
from django.test import Client
from django.utils import timezone

from cadre.access import COORDINATOR
from callouts import locking, services
from callouts.engine import clock, steps
from callouts.messaging import status
from callouts.models import Callout, Incident, Message, StatusCallback
from callouts.web import tokens
from tests.factories import (
    make_force,
    make_incident,
    make_negotiator,
    make_user,
    post_signed,
    raise_incident,
)

PEOPLE = 24  # SMS and voice each: 48 callout messages
ROUNDS = 20
CALLBACK_THREADS = 6
WHOLE_FORCE_BY_SMS_AND_VOICE = [
    {"audience": "force", "channel": "both", "wait_minutes": 5, "named": []}
]


def calling_the_whole_force(force):
    """A live incident whose one step asked everyone by SMS and voice, every message sent."""
    incident = make_incident(
        force,
        steps=WHOLE_FORCE_BY_SMS_AND_VOICE,
        needs={"negotiator": PEOPLE},
        next_step_at=timezone.now() - timedelta(seconds=1),
    )
    steps.fire(incident.pk)
    messages = list(Message.objects.filter(incident=incident, purpose="callout").order_by("pk"))
    assert len(messages) == 2 * PEOPLE
    for message in messages:
        prefix = "CA" if message.channel == "voice" else "SM"
        message.provider_sid = f"{prefix}{message.pk:032d}"
        message.status = Message.Status.SENT
        message.next_attempt_at = None
    Message.objects.bulk_update(messages, ["provider_sid", "status", "next_attempt_at"])
    return incident, messages


def callback(message):
    """What Twilio posts next for this message: delivered (SMS) or ringing (voice)."""
    if message.channel == "voice":
        return {"CallSid": message.provider_sid, "CallStatus": "ringing"}, Message.Status.RINGING
    return {
        "MessageSid": message.provider_sid,
        "MessageStatus": "delivered",
    }, Message.Status.DELIVERED


def one_round(incident, messages, token, page, ending="stand-down") -> list:
    """The stand-down from the API and the `ending` (stand-down or close) from the page, at
    the moment CALLBACK_THREADS post the callbacks of the incident's messages; (what, HTTP
    status) of every request."""
    start = threading.Barrier(2 + CALLBACK_THREADS)
    answered = []

    def run(work):
        try:
            start.wait(30)
            work()
        except Exception as e:
            answered.append(("exception", repr(e)))
        finally:
            connections.close_all()

    def from_the_api():
        response = Client(raise_request_exception=False).post(
            f"/api/incidents/{incident.pk}/stand-down/", HTTP_AUTHORIZATION=f"Bearer {token}"
        )
        answered.append(("api stand-down", response.status_code))

    def from_the_page():
        response = page.post(f"/incidents/{incident.pk}/{ending}/", {"confirm": "yes"})
        answered.append((f"page {ending}", response.status_code))

    def callbacks(share):
        client = Client(raise_request_exception=False)
        for message in share:
            params, _ = callback(message)
            response = post_signed(client, f"/twilio/status/?m={message.pk}", params)
            answered.append(("status callback", response.status_code))

    work = [from_the_api, from_the_page] + [
        functools.partial(callbacks, messages[i::CALLBACK_THREADS]) for i in range(CALLBACK_THREADS)
    ]
    threads = [threading.Thread(target=run, args=(w,)) for w in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return answered


@pytest.mark.postgres("row locks and deadlock detection")
def test_it_stands_down_and_closes_during_a_storm_of_status_callbacks_and_loses_none(
    transactional_db,
):
    force = make_force("Storm Constabulary", "STRM")
    for i in range(PEOPLE):
        make_negotiator(force=force, callsign=f"S-{i:02d}")
    coordinator = make_user("storm-coord", [COORDINATOR], force=force)
    token = tokens.create(coordinator, "Control room")[1]
    page = Client(raise_request_exception=False)
    page.force_login(coordinator)
    failures = []
    for round_ in range(ROUNDS):
        incident, messages = calling_the_whole_force(force)
        # Every fourth round the page closes it instead (standing everyone down first).
        closing = round_ % 4 == 3
        ending = "close" if closing else "stand-down"
        answered = one_round(incident, messages, token, page, ending)
        ended = Incident.Status.CLOSED if closing else Incident.Status.STOOD_DOWN
        refused = [(what, code) for what, code in answered if code not in (200, 204, 302)]
        incident.refresh_from_db()
        lost = []
        for message in messages:
            message.refresh_from_db()
            _, wanted = callback(message)
            # Applied: the status is the callback's, or one that follows it (a ringing call
            # the stand-down then cancelled at the provider is "cancelled").
            if status.rank(message.status) < status.rank(wanted):
                lost.append((message.pk, message.status, wanted))
        if refused or lost or incident.status != ended:
            failures.append((round_, incident.status, refused[:4], len(refused), len(lost)))
    assert not failures, failures
    assert not StatusCallback.objects.exists(), "every callback taken in was applied"


def conflict(sqlstate_error=psycopg.errors.DeadlockDetected):
    """What Django raises when PostgreSQL chose this transaction to fail a lock conflict."""
    error = OperationalError("deadlock detected")
    error.__cause__ = sqlstate_error("deadlock detected")
    return error


def test_it_keeps_a_callback_it_cannot_apply_and_the_clock_applies_it_later(
    client, cadre, on_call, force, run_tasks
):
    run_tasks(raise_incident, force)
    message = Message.objects.get(negotiator=cadre["n1"], purpose="callout")
    Message.objects.filter(pk=message.pk).update(status="sent")
    params = {"MessageSid": message.provider_sid, "MessageStatus": "delivered"}
    with mock.patch.object(status, "apply", side_effect=conflict()):
        response = run_tasks(post_signed, client, f"/twilio/status/?m={message.pk}", params)
    assert response.status_code == 204
    message.refresh_from_db()
    assert message.status == "sent"
    assert StatusCallback.objects.get().sid == message.provider_sid
    run_tasks(clock.tick)  # within the grace: the webhook's own applying may be under way
    assert StatusCallback.objects.exists()
    run_tasks(clock.tick, timezone.now() + status.CLOCK_GRACE)
    message.refresh_from_db()
    assert message.status == "delivered"
    assert Callout.objects.get(negotiator=cadre["n1"]).state == "delivered"
    assert not StatusCallback.objects.exists()


def test_it_stands_down_again_after_losing_a_deadlock(transactional_db, cadre, on_call, force):
    incident = raise_incident(force)
    coordinator = make_user("coord-deadlock", [COORDINATOR], force=force)
    token = tokens.create(coordinator, "Control room")[1]
    real = services._call_off
    calls = []

    def loses_once(locked):
        calls.append(locked.pk)
        if len(calls) == 1:
            raise conflict()
        return real(locked)

    with mock.patch.object(services, "_call_off", side_effect=loses_once):
        response = Client(raise_request_exception=False).post(
            f"/api/incidents/{incident.pk}/stand-down/", HTTP_AUTHORIZATION=f"Bearer {token}"
        )
    assert response.status_code == 200, response.content
    assert len(calls) == 2
    incident.refresh_from_db()
    assert incident.status == Incident.Status.STOOD_DOWN
    assert not incident.callouts.exclude(state="stood_down").exists()


@pytest.mark.parametrize(
    "error",
    [
        psycopg.errors.DeadlockDetected,
        psycopg.errors.SerializationFailure,
        psycopg.errors.LockNotAvailable,
    ],
)
def test_it_runs_a_transaction_again_after_each_kind_of_lock_conflict(transactional_db, error):
    attempts = []

    def work():
        attempts.append(1)
        if len(attempts) < 3:
            raise conflict(error)
        return "done"

    assert locking.retrying(work) == "done"
    assert len(attempts) == 3


def test_it_gives_up_after_its_attempts_and_raises_the_conflict(transactional_db):
    attempts = []

    def work():
        attempts.append(1)
        raise conflict()

    with pytest.raises(OperationalError):
        locking.retrying(work)
    assert len(attempts) == locking.ATTEMPTS


def test_it_runs_other_errors_once(transactional_db):
    attempts = []

    def work():
        attempts.append(1)
        raise OperationalError("no such table")

    with pytest.raises(OperationalError):
        locking.retrying(work)
    assert len(attempts) == 1


def test_it_runs_once_inside_someone_elses_transaction(db):
    """Only the outermost transaction can be run again: inside one, the conflict is raised."""
    attempts = []

    def work():
        attempts.append(1)
        raise conflict()

    with pytest.raises(OperationalError):
        locking.retrying(work)
    assert len(attempts) == 1
