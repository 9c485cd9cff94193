"""Replies as people send them, through the SMS webhook: the answer they get back and what
their callout becomes. What cannot be read is asked about, never guessed."""

import pytest

from callouts.models import Callout
from tests.callouts.test_webhooks import sms, text_of
from tests.factories import raise_incident

ACCEPTED = [
    ("Y 1hr", 60),
    ("Yes on my way", None),
    ("Y 20 minutes away", 20),
    ("yes, half an hour", 30),
    ("Y an hour", 60),
    ("Y 90 mins", 90),
    ("y 20 min away", 20),
    ("omw", None),
    ("On my way, 1 hour", 60),
]


@pytest.mark.parametrize(("body", "eta"), ACCEPTED)
def test_it_accepts_as_people_say_it(client, cadre, on_call, force, run_tasks, body, eta):
    incident = run_tasks(raise_incident, force)
    answer = text_of(sms(client, run_tasks, cadre["n1"], body))
    assert answer.startswith(f"{incident.reference}: thank you, you are going as negotiator.")
    assert (f"ETA {eta} min noted." in answer) == (eta is not None)
    callout = Callout.objects.get(negotiator=cadre["n1"])
    assert (callout.state, callout.eta_minutes) == ("accepted", eta)


@pytest.mark.parametrize(
    "body", ["No sorry", "N - at hospital", "no, sorry - on leave", "Sorry, can't make it"]
)
def test_it_declines_as_people_say_it(client, cadre, on_call, force, run_tasks, body):
    incident = run_tasks(raise_incident, force)
    answer = text_of(sms(client, run_tasks, cadre["n1"], body))
    assert answer == f"{incident.reference}: declined, thank you."
    assert Callout.objects.get(negotiator=cadre["n1"]).state == "declined"


@pytest.mark.parametrize("body", ["maybe", "Y or N", "not sure", "No problem, on my way", "Y ten"])
def test_it_asks_about_what_it_cannot_read_and_changes_nothing(
    client, cadre, on_call, force, run_tasks, body
):
    incident = run_tasks(raise_incident, force)
    answer = text_of(sms(client, run_tasks, cadre["n1"], body))
    assert answer == (
        f"{incident.reference}: not understood. Are you coming? Reply Y or N (Y 20 = ETA 20 min)."
    )
    assert "YES" not in answer
    assert Callout.objects.get(negotiator=cadre["n1"]).state == "delivered"


def test_after_accepting_the_question_names_the_words_that_work_then(
    client, cadre, on_call, force, run_tasks
):
    incident = run_tasks(raise_incident, force)
    sms(client, run_tasks, cadre["n1"], "Y 1hr", sid="SM1")
    answer = text_of(sms(client, run_tasks, cadre["n1"], "maybe later", sid="SM2"))
    assert answer.startswith(f"{incident.reference}: not understood. You are down as coming")
    assert "ETA 15" in answer and "ARRIVED" in answer and "N if you cannot come" in answer
    answer = text_of(sms(client, run_tasks, cadre["n1"], "ETA half an hour", sid="SM3"))
    assert answer == f"{incident.reference}: ETA 30 min noted."
    assert Callout.objects.get(negotiator=cadre["n1"]).eta_minutes == 30


def test_with_two_callouts_a_reference_in_the_reply_still_chooses(
    client, cadre, on_call, force, run_tasks
):
    first = run_tasks(raise_incident, force)
    second = run_tasks(raise_incident, force, kind="hostage", location="Dover")
    answer = text_of(sms(client, run_tasks, cadre["n1"], "maybe", sid="SM1"))
    assert "more than one callout" in answer
    assert first.reference in answer and second.reference in answer
    word_number = second.reference.split("-", 1)[1]
    answer = text_of(sms(client, run_tasks, cadre["n1"], f"No sorry {word_number}", sid="SM2"))
    assert answer == f"{second.reference}: declined, thank you."
    answer = text_of(sms(client, run_tasks, cadre["n1"], f"Y 1hr {first.reference}", sid="SM3"))
    assert "ETA 60 min noted" in answer
    mine = Callout.objects.filter(negotiator=cadre["n1"])
    states = dict(mine.values_list("incident_id", "state"))
    assert states == {first.pk: "accepted", second.pk: "declined"}
    answer = text_of(sms(client, run_tasks, cadre["n1"], f"not sure {word_number}", sid="SM4"))
    assert answer.startswith(f"{second.reference}: not understood. Are you coming?")


def test_without_a_callout_a_reply_not_understood_still_names_the_words(client, cadre, run_tasks):
    answer = text_of(sms(client, run_tasks, cadre["n1"], "maybe"))
    assert answer == "Not understood: are you coming? Reply Y or N (Y 20 = ETA 20 min)."
