"""STOP remembered on the person, through the SMS webhook as Twilio calls it: between
incidents or during one; callouts then reach them by voice only, the register and the board
say so; START (or UNSTOP, or YES) undoes it; HELP is answered."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from callouts.engine import steps
from callouts.messaging import texts
from callouts.models import Callout, Message
from tests.callouts.test_webhooks import sms, text_of
from tests.factories import raise_incident


def channels_to(person, purpose="callout"):
    """The channels of what was sent to `person` for `purpose`, in order."""
    return list(
        Message.objects.filter(direction="out", negotiator=person, purpose=purpose)
        .order_by("pk")
        .values_list("channel", flat=True)
    )


def board_row(html, callsign):
    """The board's list item of `callsign` (the first)."""
    start = html.index(f'data-callsign="{callsign}"')
    return html[start : html.index("</li>", start)]


def test_it_remembers_stop_sent_between_incidents_and_the_register_shows_it(
    coordinator_client, cadre, run_tasks
):
    n1 = cadre["n1"]
    response = sms(coordinator_client, run_tasks, n1, "STOP")
    assert response.answers == []  # Twilio has blocked the number; nothing is sent back
    n1.refresh_from_db()
    inbound = Message.objects.get(direction="in")
    assert n1.texts_stopped_at == inbound.created_at
    shown = "Texts stopped on " + date_format(timezone.localdate(n1.texts_stopped_at), "j M Y")
    listing = coordinator_client.get(reverse("cadre_list")).content.decode()
    assert listing.count("Texts stopped on") == 1 and shown in listing
    detail = coordinator_client.get(reverse("negotiator_detail", args=[n1.pk])).content.decode()
    assert shown in detail


def test_each_carrier_word_for_stop_is_remembered(client, cadre, run_tasks):
    for i, (key, word) in enumerate(
        [("n1", "unsubscribe"), ("n2", "Cancel"), ("n3", "END."), ("n4", "quit")]
    ):
        sms(client, run_tasks, cadre[key], word, sid=f"SM{i}")
        cadre[key].refresh_from_db()
        assert cadre[key].texts_stopped_at is not None, word


def test_it_calls_a_person_who_stopped_texts_by_voice_only_and_the_board_says_so(
    coordinator_client, cadre, on_call, force, run_tasks
):
    n1, n3 = cadre["n1"], cadre["n3"]
    sms(coordinator_client, run_tasks, n1, "STOP", sid="SM1")
    sms(coordinator_client, run_tasks, n3, "STOP", sid="SM2")
    incident = run_tasks(raise_incident, force)
    # The first step texts those on call: n1 is called instead; the others are texted.
    assert channels_to(n1) == ["voice"]
    assert channels_to(cadre["n2"]) == ["sms"]
    assert Callout.objects.get(incident=incident, negotiator=n1).sms_unreachable
    board = coordinator_client.get(reverse("incident_board", args=[incident.pk]))
    row = board_row(board.content.decode(), "N-ONE")
    assert "texts stopped — voice only" in row and "sms failed" not in row
    assert "texts stopped" not in board_row(board.content.decode(), "N-TWO")
    # Three minutes on: a call to those on call, and SMS to the rest of the force; n3, who
    # stopped texts, is called instead.
    run_tasks(steps.fire, incident.pk, now=timezone.now() + timedelta(minutes=4))
    assert channels_to(n1) == ["voice", "voice"]
    assert channels_to(n3) == ["voice"]
    assert channels_to(cadre["n4"]) == ["sms"]


def test_a_person_who_stopped_texts_is_recorded_but_never_texted(
    client, cadre, on_call, force, run_tasks
):
    n1 = cadre["n1"]
    sms(client, run_tasks, n1, "STOP", sid="SM1")
    incident = run_tasks(raise_incident, force)
    # "Y" is not the provider's opt-in word: their texts stay stopped, their answer counts.
    assert sms(client, run_tasks, n1, "Y 20", sid="SM2").answers == []
    callout = Callout.objects.get(incident=incident, negotiator=n1)
    assert (callout.state, callout.eta_minutes) == ("accepted", 20)
    sms(client, run_tasks, cadre["n2"], "Y", sid="SM3")
    sms(client, run_tasks, cadre["c1"], "Y", sid="SM4")
    incident.refresh_from_db()
    assert incident.status == "filled"
    assert Message.objects.filter(direction="out", channel="sms", to_number=n1.mobile).count() == 0
    n1.refresh_from_db()
    assert n1.texts_stopped_at is not None


def test_stop_during_a_live_callout_is_remembered_for_the_next_incident(
    client, cadre, on_call, force, run_tasks
):
    n1 = cadre["n1"]
    first = run_tasks(raise_incident, force)
    sms(client, run_tasks, n1, "STOP", sid="SM1")
    assert Callout.objects.get(incident=first, negotiator=n1).keyword == "stop"
    second = run_tasks(raise_incident, force, kind="hostage")
    callout = Callout.objects.get(incident=second, negotiator=n1)
    assert callout.sms_unreachable
    assert list(callout.messages.values_list("channel", flat=True)) == ["voice"]


def test_start_undoes_stop(coordinator_client, cadre, on_call, force, run_tasks):
    n1 = cadre["n1"]
    sms(coordinator_client, run_tasks, n1, "STOP", sid="SM1")
    assert sms(coordinator_client, run_tasks, n1, "START", sid="SM2").answers == []
    n1.refresh_from_db()
    assert n1.texts_stopped_at is None
    listing = coordinator_client.get(reverse("cadre_list")).content.decode()
    assert "Texts stopped" not in listing
    incident = run_tasks(raise_incident, force)
    assert channels_to(n1) == ["sms"]
    board = coordinator_client.get(reverse("incident_board", args=[incident.pk]))
    assert "texts stopped" not in board.content.decode()


def test_unstop_undoes_stop(client, cadre, run_tasks):
    n1 = cadre["n1"]
    sms(client, run_tasks, n1, "QUIT", sid="SM1")
    sms(client, run_tasks, n1, "unstop", sid="SM2")
    n1.refresh_from_db()
    assert n1.texts_stopped_at is None


def test_yes_turns_texts_back_on_and_accepts(client, cadre, on_call, force, run_tasks):
    n1 = cadre["n1"]
    sms(client, run_tasks, n1, "STOP", sid="SM1")
    incident = run_tasks(raise_incident, force)
    answer = text_of(sms(client, run_tasks, n1, "YES", sid="SM2"))
    assert "thank you, you are going" in answer
    n1.refresh_from_db()
    assert n1.texts_stopped_at is None
    callout = Callout.objects.get(incident=incident, negotiator=n1)
    assert callout.state == "accepted" and not callout.sms_unreachable


def test_help_is_answered_with_how_to_reply_between_incidents_too(client, cadre, run_tasks):
    assert text_of(sms(client, run_tasks, cadre["n1"], "help")) == texts.HELP
    cadre["n1"].refresh_from_db()
    assert cadre["n1"].texts_stopped_at is None


def test_help_after_stop_is_not_answered_by_sms(client, cadre, run_tasks):
    sms(client, run_tasks, cadre["n1"], "STOP", sid="SM1")
    # The provider refuses every SMS to the number until START: nothing is tried.
    assert sms(client, run_tasks, cadre["n1"], "HELP", sid="SM2").answers == []


def test_a_new_mobile_is_not_stopped(negotiator_client, negotiator_user, run_tasks):
    person = negotiator_user.negotiator
    sms(negotiator_client, run_tasks, person, "STOP")
    page = negotiator_client.get(reverse("my_profile")).content.decode()
    assert "You sent STOP on" in page
    negotiator_client.post(reverse("my_profile"), {"mobile": "07700 900555"})
    person.refresh_from_db()
    assert person.mobile == "+447700900555" and person.texts_stopped_at is None
