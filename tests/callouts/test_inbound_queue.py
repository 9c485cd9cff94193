"""Inbound SMS: taken in by the webhook, handed out by the clock, handled once and in order."""

from datetime import timedelta
from unittest import mock

from django.utils import timezone

from callouts.engine import clock, inbound
from callouts.models import Callout, Message, Response
from tests.factories import post_sms, raise_incident


def take_in(client, person, body, sid):
    """The webhook alone, as Twilio calls it."""
    response = post_sms(client, person, body, sid)
    assert response.status_code == 200
    assert "<Message>" not in response.content.decode()
    return Message.objects.get(provider_sid=sid)


def answers_to(person):
    return list(
        Message.objects.filter(purpose="reply", to_number=person.mobile)
        .order_by("pk")
        .values_list("body", flat=True)
    )


def test_it_answers_twilio_before_handling_the_reply(client, cadre, on_call, force, run_tasks):
    run_tasks(raise_incident, force)
    taken = take_in(client, cadre["n1"], "Y 20", "SMfirst")
    assert taken.status == "received" and taken.next_attempt_at <= timezone.now()
    assert Callout.objects.get(negotiator=cadre["n1"]).state == "delivered"
    assert answers_to(cadre["n1"]) == []
    # The clock's next tick hands it to the queue, which records and answers it.
    assert run_tasks(clock.tick)["replies"] == 1
    assert Callout.objects.get(negotiator=cadre["n1"]).state == "accepted"
    [answer] = answers_to(cadre["n1"])
    assert "you are going" in answer
    assert Message.objects.get(pk=taken.pk).status == "handled"


def test_it_handles_replies_from_one_phone_in_the_order_they_were_sent(
    client, cadre, on_call, force, run_tasks
):
    run_tasks(raise_incident, force)
    earlier = take_in(client, cadre["n1"], "Y", "SMa")
    later = take_in(client, cadre["n1"], "ETA 10", "SMb")
    # The worker given the later message happens to run first.
    assert run_tasks(inbound.handle, later.pk) == 2
    callout = Callout.objects.get(negotiator=cadre["n1"])
    assert (callout.state, callout.eta_minutes) == ("accepted", 10)
    kinds = list(Response.objects.filter(callout=callout).values_list("kind", flat=True))
    assert kinds == ["accept", "eta"]
    first, second = answers_to(cadre["n1"])
    assert "you are going" in first and "ETA 10 min noted" in second
    # The earlier message's own task finds nothing left to do.
    assert run_tasks(inbound.handle, earlier.pk) == 0
    assert len(answers_to(cadre["n1"])) == 2


def test_a_handled_message_is_not_handled_again(client, cadre, on_call, force, run_tasks):
    run_tasks(raise_incident, force)
    taken = take_in(client, cadre["n1"], "N", "SMonce")
    assert run_tasks(inbound.handle, taken.pk) == 1
    assert run_tasks(inbound.handle, taken.pk) == 0
    assert run_tasks(clock.tick, timezone.now() + timedelta(minutes=5))["replies"] == 0
    assert Response.objects.filter(kind="decline").count() == 1
    assert len(answers_to(cadre["n1"])) == 1


def test_a_reply_whose_task_was_lost_is_handed_out_again_after_the_grace(
    client, cadre, on_call, force, run_tasks
):
    run_tasks(raise_incident, force)
    take_in(client, cadre["n1"], "Y 15", "SMlost")
    now = timezone.now()
    with mock.patch("callouts.tasks.async_task"):  # its task is lost: nothing runs it
        assert clock.tick(now)["replies"] == 1
    assert run_tasks(clock.tick, now + timedelta(seconds=1))["replies"] == 0
    assert Callout.objects.get(negotiator=cadre["n1"]).state == "delivered"
    assert run_tasks(clock.tick, now + timedelta(minutes=1))["replies"] == 1
    callout = Callout.objects.get(negotiator=cadre["n1"])
    assert (callout.state, callout.eta_minutes) == ("accepted", 15)
    [answer] = answers_to(cadre["n1"])
    assert "you are going" in answer


def statements_to_handle(message_pk) -> list[str]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert inbound.handle(message_pk) == 1
    return [q["sql"] for q in queries if "SAVEPOINT" not in q["sql"]]


def test_it_handles_a_reply_in_a_few_statements_whatever_it_says(
    client, cadre, on_call, force, run_tasks
):
    """Accepting: the replies locked, the sender with their live callouts, the incident's
    lock, the callout, the places taken; the callout's update, the response, the deployment,
    the reply marked handled, the answer, the events."""
    run_tasks(raise_incident, force)
    accept = take_in(client, cadre["n1"], "Y 20", "SMyes")
    assert len(statements_to_handle(accept.pk)) == 11
    eta = take_in(client, cadre["n1"], "ETA 10", "SMeta")
    assert len(statements_to_handle(eta.pk)) == 10
    unclear = take_in(client, cadre["n2"], "what is this", "SMwhat")
    assert len(statements_to_handle(unclear.pk)) == 5
