"""Inbound SMS are taken in by the webhook and handled in the queue, once and in order."""

from datetime import timedelta

from django.utils import timezone

from callouts import clock, services, tasks
from callouts.models import Callout, Message, Response
from tests.callouts.conftest import post_signed


def raise_barricade(force, run_tasks):
    return run_tasks(services.raise_incident, force=force, kind="barricade", location="Maidstone")


def take_in(client, person, body, sid):
    """The webhook only; its queued handling is lost (the on-commit hook never runs)."""
    params = {"From": person.mobile, "To": "+447700900000", "Body": body, "MessageSid": sid}
    response = post_signed(client, "/twilio/sms/", params)
    assert response.status_code == 200
    return Message.objects.get(provider_sid=sid)


def answers_to(person):
    return list(
        Message.objects.filter(purpose="reply", to_number=person.mobile)
        .order_by("pk")
        .values_list("body", flat=True)
    )


def test_it_answers_twilio_before_handling_the_reply(client, cadre, force, run_tasks):
    raise_barricade(force, run_tasks)
    inbound = take_in(client, cadre["n1"], "Y 20", "SMfirst")
    assert inbound.status == "received"
    assert Callout.objects.get(negotiator=cadre["n1"]).state != "accepted"
    assert answers_to(cadre["n1"]) == []


def test_it_handles_replies_from_one_phone_in_the_order_they_were_sent(
    client, cadre, force, run_tasks
):
    raise_barricade(force, run_tasks)
    earlier = take_in(client, cadre["n1"], "Y", "SMa")
    later = take_in(client, cadre["n1"], "ETA 10", "SMb")
    # The worker for the later message happens to run first.
    run_tasks(tasks.handle_inbound, later.pk)
    callout = Callout.objects.get(negotiator=cadre["n1"])
    assert (callout.state, callout.eta_minutes) == ("accepted", 10)
    kinds = list(Response.objects.filter(callout=callout).values_list("kind", flat=True))
    assert kinds == ["accept", "eta"]
    first, second = answers_to(cadre["n1"])
    assert "you are going" in first and "ETA 10 min noted" in second
    # The earlier message's own task finds nothing left to do.
    assert run_tasks(tasks.handle_inbound, earlier.pk) == 0
    assert len(answers_to(cadre["n1"])) == 2


def test_a_handled_message_is_not_handled_again(client, cadre, force, run_tasks):
    raise_barricade(force, run_tasks)
    inbound = take_in(client, cadre["n1"], "N", "SMonce")
    assert run_tasks(tasks.handle_inbound, inbound.pk) == 1
    assert run_tasks(tasks.handle_inbound, inbound.pk) == 0
    assert Response.objects.filter(kind="decline").count() == 1
    assert len(answers_to(cadre["n1"])) == 1
    assert Message.objects.get(pk=inbound.pk).status == "handled"


def test_the_clock_handles_a_reply_whose_task_was_lost(client, cadre, force, run_tasks):
    raise_barricade(force, run_tasks)
    take_in(client, cadre["n1"], "Y 15", "SMlost")
    # Not yet: the queue may still be about to run it.
    run_tasks(clock.tick, timezone.now())
    assert Callout.objects.get(negotiator=cadre["n1"]).state != "accepted"
    run_tasks(clock.tick, timezone.now() + timedelta(minutes=1))
    callout = Callout.objects.get(negotiator=cadre["n1"])
    assert (callout.state, callout.eta_minutes) == ("accepted", 15)
    [answer] = answers_to(cadre["n1"])
    assert "you are going" in answer
