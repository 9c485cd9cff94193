"""Telling a human when an incident does not fill: texted and called once per reason, the
board and the timeline say who was told, when and how."""

import threading
from datetime import timedelta

import pytest
from django.db import connections, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cadre.models import LoginRole
from callouts.engine import clock, steps, unfilled
from callouts.engine.policy import create_default_policy
from callouts.models import EscalationPolicy, EscalationStep, Event, Incident, Message
from tests.factories import (
    make_force,
    make_incident,
    make_membership,
    make_negotiator,
    make_user,
    post_signed,
    post_sms,
    put_on,
    raise_incident,
)

K = Event.Kind


@pytest.fixture
def slow(force):
    """A policy whose one step waits two hours: only the deadline (30 min) tells a human."""
    policy = EscalationPolicy.objects.create(force=force, name="Slow")
    EscalationStep.objects.create(policy=policy, position=0, audience="on_call", wait_minutes=120)
    return policy


@pytest.fixture
def boss(force):
    """A supervisor of the force with a phone on record."""
    user = make_user("boss", [LoginRole.SUPERVISOR], force=force)
    return make_negotiator(force=force, callsign="BOSS-1", roles=("coordinator",), user=user)


def told(incident):
    return Message.objects.filter(incident=incident, purpose=Message.Purpose.UNFILLED)


def after_deadline(incident, seconds=1):
    incident.refresh_from_db()
    return incident.tell_if_short_at + timedelta(seconds=seconds)


def test_it_texts_and_calls_the_coordinator_on_call_and_the_supervisor_once_at_the_deadline(
    on_call, force, slow, boss, run_tasks, coordinator_client
):
    incident = run_tasks(raise_incident, force, policy="Slow")
    # Before the deadline nobody is told.
    run_tasks(clock.tick, after_deadline(incident, seconds=-5))
    assert not told(incident).exists()

    at = after_deadline(incident)
    run_tasks(clock.tick, at)
    run_tasks(clock.tick, at + timedelta(seconds=1))  # the clock looks again: nothing more
    assert run_tasks(unfilled.check, incident.pk, at + timedelta(minutes=5)) == []

    messages = told(incident)
    assert sorted((m.negotiator.callsign, m.channel) for m in messages) == [
        ("BOSS-1", "sms"),
        ("BOSS-1", "voice"),
        ("C-ONE", "sms"),
        ("C-ONE", "voice"),
    ]
    sms = messages.filter(channel="sms").first().body
    assert sms == (
        f"{incident.reference} still short: 2 negotiators, 1 coordinator. "
        "30 min since raised. Check the board."
    )
    # Callsign-free, and nothing of the brief.
    assert "C-ONE" not in sms and "BOSS" not in sms and "Maidstone" not in sms
    # Saved first, then sent (the simulator took them).
    assert set(messages.values_list("status", flat=True)) <= {"delivered", "ringing"}

    event = Event.objects.get(incident=incident, kind=K.UNFILLED)
    assert event.data == {
        "reasons": ["deadline"],
        "missing": {"negotiator": 2, "coordinator": 1},
        "told": [
            {"callsign": "C-ONE", "as": "on-call coordinator"},
            {"callsign": "BOSS-1", "as": "supervisor"},
        ],
        "channels": ["sms", "voice"],
        "after": 30,
    }
    incident.refresh_from_db()
    assert incident.tell_if_short_at is None

    html = coordinator_client.get(reverse("incident_board", args=[incident.pk])).content.decode()
    assert "Told it is not filling" in html
    assert "Still short after 30 min, 2 negotiators, 1 coordinator missing." in html
    assert (
        "Told <strong>C-ONE</strong> (on-call coordinator) by SMS delivered, call ringing" in html
    )
    assert "<strong>BOSS-1</strong> (supervisor) by SMS delivered, call ringing" in html


def test_it_tells_someone_both_on_call_coordinator_and_supervisor_once(
    on_call, force, slow, run_tasks
):
    c1 = on_call["c1"]
    c1.user = make_user("c1")
    c1.save()
    make_membership(c1.user, force, LoginRole.SUPERVISOR)
    incident = run_tasks(raise_incident, force, policy="Slow")
    run_tasks(clock.tick, after_deadline(incident))
    assert sorted(told(incident).values_list("negotiator__callsign", "channel")) == [
        ("C-ONE", "sms"),
        ("C-ONE", "voice"),
    ]
    event = Event.objects.get(incident=incident, kind=K.UNFILLED)
    assert event.data["told"] == [{"callsign": "C-ONE", "as": "on-call coordinator, supervisor"}]


def test_it_tells_once_when_the_policy_runs_out_though_the_step_runs_twice(
    on_call, force, boss, run_tasks, coordinator_user
):
    policy = EscalationPolicy.objects.create(force=force, name="Short")
    EscalationStep.objects.create(policy=policy, position=0, audience="on_call", wait_minutes=1)
    incident = run_tasks(raise_incident, force, policy="Short", by=coordinator_user)
    incident.refresh_from_db()
    due = incident.next_step_at + timedelta(seconds=1)
    run_tasks(steps.fire, incident.pk, now=due)
    incident.refresh_from_db()
    assert incident.status == "exhausted"
    # The task and the clock both try; the clock ticks on.
    assert run_tasks(steps.fire, incident.pk, now=due) is None
    run_tasks(clock.tick, due + timedelta(seconds=1))
    assert told(incident).count() == 4  # C-ONE and BOSS-1, an SMS and a call each
    assert (
        told(incident)
        .filter(channel="sms")
        .first()
        .body.endswith("Policy exhausted. Check the board.")
    )
    event = Event.objects.get(incident=incident, kind=K.UNFILLED)
    assert event.data["reasons"] == ["exhausted"]

    # Still short at the deadline: told again, once, for that reason.
    at = after_deadline(incident)
    run_tasks(clock.tick, at)
    run_tasks(clock.tick, at + timedelta(seconds=1))
    reasons = [e.data["reasons"] for e in Event.objects.filter(incident=incident, kind=K.UNFILLED)]
    assert reasons == [["exhausted"], ["deadline"]]
    assert told(incident).count() == 8


def test_it_tells_both_reasons_in_one_message_when_they_come_together(
    on_call, force, boss, run_tasks
):
    policy = EscalationPolicy.objects.create(force=force, name="Short")
    EscalationStep.objects.create(policy=policy, position=0, audience="on_call", wait_minutes=1)
    incident = run_tasks(raise_incident, force, policy="Short")
    incident.refresh_from_db()
    # The clock was stopped: when it ticks again the policy has run out and the deadline passed.
    Incident.objects.filter(pk=incident.pk).update(tell_if_short_at=incident.next_step_at)
    run_tasks(clock.tick, incident.next_step_at + timedelta(minutes=30))
    incident.refresh_from_db()
    assert incident.status == "exhausted"
    assert told(incident).filter(channel="sms").count() == 2
    assert "Policy exhausted; 1 min since raised." in told(incident).first().body
    event = Event.objects.get(incident=incident, kind=K.UNFILLED)
    assert event.data["reasons"] == ["exhausted", "deadline"]


def test_a_check_killed_halfway_tells_once_when_it_runs_again(
    on_call, force, slow, boss, run_tasks
):
    incident = run_tasks(raise_incident, force, policy="Slow")
    at = after_deadline(incident)

    class Killed(Exception):
        pass

    with pytest.raises(Killed), transaction.atomic():
        unfilled.check(incident.pk, at)
        raise Killed  # the worker dies before the transaction commits
    assert not told(incident).exists()
    assert not Event.objects.filter(incident=incident, kind=K.UNFILLED).exists()
    run_tasks(unfilled.check, incident.pk, at)
    run_tasks(unfilled.check, incident.pk, at)
    assert told(incident).count() == 4
    assert Event.objects.filter(incident=incident, kind=K.UNFILLED).count() == 1


def test_it_records_on_the_board_when_there_is_nobody_to_tell(
    cadre, force, slow, run_tasks, coordinator_client
):
    now = timezone.now()
    put_on(cadre["n1"], "negotiator", start=now - timedelta(hours=1), end=now + timedelta(hours=9))
    incident = run_tasks(raise_incident, force, policy="Slow")
    at = after_deadline(incident)
    run_tasks(clock.tick, at)
    run_tasks(clock.tick, at + timedelta(seconds=5))
    assert not told(incident).exists()
    event = Event.objects.get(incident=incident, kind=K.UNFILLED)
    assert event.data["gaps"] == "no coordinator on call; no supervisor in the force"
    html = coordinator_client.get(reverse("incident_board", args=[incident.pk])).content.decode()
    assert "nobody to tell: no coordinator on call; no supervisor in the force" in html


def test_it_tells_nobody_about_an_incident_filled_stood_down_or_closed(
    on_call, force, boss, run_tasks
):
    past = timezone.now() - timedelta(minutes=1)
    for status in ("filled", "stood_down", "closed"):
        make_incident(force, status=status, tell_if_short_at=past)
    run_tasks(clock.tick, timezone.now())
    assert not Message.objects.filter(purpose=Message.Purpose.UNFILLED).exists()
    assert not Event.objects.filter(kind=K.UNFILLED).exists()


def test_it_tells_nobody_while_the_places_are_all_taken(on_call, force, slow, boss, run_tasks):
    incident = run_tasks(raise_incident, force, policy="Slow", needs={"negotiator": 1})
    run_tasks(post_sms, Client(), on_call["n1"], "Y 10")
    run_tasks(clock.tick)  # the clock hands the reply to the queue
    incident.refresh_from_db()
    assert incident.status == "filled"
    run_tasks(clock.tick, after_deadline(incident))
    assert not told(incident).exists()


def test_the_timeline_says_who_was_told_and_how(
    on_call, force, slow, boss, run_tasks, supervisor_client
):
    incident = run_tasks(raise_incident, force, policy="Slow")
    run_tasks(clock.tick, after_deadline(incident))
    html = supervisor_client.get(reverse("incident_timeline", args=[incident.pk])).content.decode()
    assert (
        "Not filling (still short after 30 min): 2 negotiators, 1 coordinator missing; "
        "told C-ONE (on-call coordinator), BOSS-1 (supervisor) by SMS and call"
    ) in html
    assert "Not-filling alert call queued" in html


def test_the_call_says_the_message_twice_and_asks_for_no_key(
    client, on_call, force, slow, boss, run_tasks
):
    incident = run_tasks(raise_incident, force, policy="Slow")
    run_tasks(clock.tick, after_deadline(incident))
    call = told(incident).get(channel="voice", negotiator=boss)
    twiml = post_signed(client, f"/twilio/voice/{call.pk}/", {"CallSid": "CA1"}).content.decode()
    assert "is still short: 2 negotiators, 1 coordinator" in twiml
    assert twiml.count("<Say") == 2 and "<Gather" not in twiml
    key = post_signed(client, f"/twilio/voice/{call.pk}/key/", {"Digits": "1"})
    assert key.status_code == 200 and "Nothing to answer" in key.content.decode()
    assert not Event.objects.filter(incident=incident, kind=K.ACCEPTED).exists()


@pytest.mark.postgres("row locks (select_for_update)")
def test_it_tells_once_when_two_clocks_check_at_the_same_moment(transactional_db):
    force = make_force("Busy Constabulary", "BUSY")
    create_default_policy(force)
    now = timezone.now()
    coordinator = make_negotiator(force=force, callsign="C-01", roles=("coordinator",))
    put_on(coordinator, "coordinator", start=now - timedelta(hours=1), end=now + timedelta(hours=9))
    incident = raise_incident(force, kind="hostage", location="Dover")
    Incident.objects.filter(pk=incident.pk).update(tell_if_short_at=now - timedelta(seconds=1))
    start = threading.Barrier(4)

    def check():
        try:
            start.wait()
            unfilled.check(incident.pk)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=check) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert told(incident).count() == 2
    assert Event.objects.filter(incident=incident, kind=K.UNFILLED).count() == 1
