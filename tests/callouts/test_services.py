"""The incident lifecycle through services, and the escalator clock moving it on."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from callouts import services
from callouts.engine import clock
from callouts.models import (
    Callout,
    Deployment,
    EscalationPolicy,
    EscalationStep,
    Incident,
    Message,
)
from tests.factories import (
    make_force,
    make_incident,
    make_message,
    make_negotiator,
    post_sms,
    put_on,
    raise_incident,
)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"kind": "riot"}, "kind"),
        ({"location": "  "}, "location"),
        ({"location": "x" * 81}, "location"),
        ({"needs": {"negotiator": 0}}, "needs"),
        ({"needs": {"negotiator": "2"}}, "needs"),
        ({"needs": {"pilot": 1}}, "needs"),
        ({"needs": {}}, "needs"),
        ({"policy": "No such policy"}, "policy"),
    ],
)
def test_it_refuses_bad_input_with_a_message_per_field_and_saves_nothing(
    cadre, on_call, force, fields, field
):
    args = {"force": force, "kind": "barricade", "location": "Maidstone", **fields}
    with pytest.raises(ValidationError) as error:
        services.raise_incident(**args, by=None)
    assert field in error.value.message_dict
    assert not Incident.objects.exists()


def test_it_freezes_the_policy_so_editing_it_changes_nothing_live(cadre, on_call, force, run_tasks):
    incident = run_tasks(raise_incident, force)
    policy = EscalationPolicy.objects.get(force=force, is_default=True)
    EscalationStep.objects.filter(policy=policy).update(wait_minutes=59)
    incident.refresh_from_db()
    assert incident.policy_name == "Standard"
    assert [s["wait_minutes"] for s in incident.steps] == [3, 0, 5, 4, 8, 0]


def test_it_takes_a_policy_by_name_and_needs_from_it(cadre, on_call, force, run_tasks):
    policy = EscalationPolicy.objects.create(
        force=force, name="Quick", default_needs={"negotiator": 1}
    )
    EscalationStep.objects.create(policy=policy, position=0, audience="force", channel="sms")
    incident = run_tasks(raise_incident, force, policy="Quick")
    assert incident.needs == {"negotiator": 1}
    assert Callout.objects.filter(incident=incident).count() == 5


def test_it_gives_each_incident_a_radio_reference(cadre, on_call, force, run_tasks):
    refs = {run_tasks(raise_incident, force).reference for _ in range(5)}
    assert len(refs) == 5
    for ref in refs:
        code, word, number = ref.split("-")
        assert code == "HOME" and word.isalpha() and number.isdigit()


def due(incident):
    incident.refresh_from_db()
    return incident.next_step_at + timedelta(seconds=1)


def test_a_step_that_times_out_escalates(cadre, on_call, force, run_tasks):
    incident = run_tasks(raise_incident, force)
    assert incident.step_index == -1
    incident.refresh_from_db()
    assert incident.step_index == 0
    # Nobody answers within 3 minutes: the clock fires the voice calls and the
    # SMS to every deployable member together.
    run_tasks(clock.tick, due(incident))
    incident.refresh_from_db()
    assert incident.step_index == 2
    calls = Message.objects.filter(channel="voice", step=1)
    assert {m.negotiator.callsign for m in calls} == {"N-ONE", "N-TWO", "C-ONE"}
    force_sms = Message.objects.filter(channel="sms", step=2)
    assert {m.negotiator.callsign for m in force_sms} == {"N-THREE", "N-FOUR", "C-TWO"}
    # Ticking again before the next step is due does nothing.
    run_tasks(clock.tick, timezone.now())
    assert Message.objects.filter(purpose="callout").count() == 9


def test_it_runs_the_whole_policy_then_is_exhausted(
    cadre, on_call, force, run_tasks, coordinator_user
):
    boss = make_negotiator(
        force=force, callsign="BOSS", user=coordinator_user, roles=("coordinator",)
    )
    incident = run_tasks(raise_incident, force, by=coordinator_user)
    for _ in range(6):
        run_tasks(clock.tick, due(incident))
        incident.refresh_from_db()
        if incident.status != "calling":
            break
    assert incident.status == "exhausted"
    alerts = Message.objects.filter(purpose="alert")
    assert boss.pk in {m.negotiator_id for m in alerts}
    assert all("is SHORT" in m.body for m in alerts)
    # Each person was asked once per step and channel, never more.
    callout_messages = Message.objects.filter(purpose="callout")
    keys = [(m.callout_id, m.step, m.channel) for m in callout_messages]
    assert len(keys) == len(set(keys))


def test_mutual_aid_asks_those_on_call_in_neighbouring_forces(cadre, on_call, force, run_tasks):
    neighbour = make_force("Next Door", "NXT")
    force.neighbours.add(neighbour)
    helper = make_negotiator(force=neighbour, callsign="NXT-1")
    now = timezone.now()
    put_on(helper, start=now - timedelta(hours=1), end=now + timedelta(hours=12))
    incident = run_tasks(raise_incident, force)
    for _ in range(4):
        run_tasks(clock.tick, due(incident))
    assert set(Message.objects.filter(negotiator=helper).values_list("channel", flat=True)) == {
        "sms",
        "voice",
    }


def test_someone_deployed_elsewhere_is_not_asked(client, cadre, on_call, force, run_tasks):
    first = run_tasks(raise_incident, force)
    post_signed_accept(client, run_tasks, cadre["n1"])
    second = run_tasks(raise_incident, force, kind="hostage", location="Dover")
    assert not Callout.objects.filter(incident=second, negotiator=cadre["n1"]).exists()
    run_tasks(services.stand_down, first, by=None)
    third = run_tasks(raise_incident, force, kind="other", location="Deal")
    assert Callout.objects.filter(incident=third, negotiator=cadre["n1"]).exists()


def post_signed_accept(client, run_tasks, person, body="Y", sid="SMacc"):
    response = run_tasks(post_sms, client, person, body, sid)
    run_tasks(clock.tick)  # the escalator clock hands the reply to the queue
    return response


def test_raising_needs_resumes_escalation_for_what_is_missing(
    client, cadre, on_call, force, run_tasks
):
    incident = run_tasks(raise_incident, force, needs={"negotiator": 1})
    post_signed_accept(client, run_tasks, cadre["n1"])
    incident.refresh_from_db()
    assert incident.status == "filled"
    run_tasks(services.raise_needs, incident, "coordinator", 1, by=None)
    incident.refresh_from_db()
    assert incident.status == "calling"
    assert incident.needs == {"negotiator": 1, "coordinator": 1}
    # The coordinator on call, never asked for a negotiator place, is asked at once.
    c1 = Callout.objects.get(incident=incident, negotiator=cadre["c1"])
    assert c1.asked_roles == ["coordinator"] and c1.state == "delivered"
    # Negotiators stood down when it filled are not asked again.
    assert Callout.objects.get(incident=incident, negotiator=cadre["n2"]).state == "stood_down"
    assert not Message.objects.filter(negotiator=cadre["n2"], purpose="callout", step__gt=0)
    # Coordinators not yet reached are asked when the escalation reaches them.
    for _ in range(3):
        run_tasks(clock.tick, due(incident))
    assert Callout.objects.get(incident=incident, negotiator=cadre["c2"]).asked_roles == [
        "coordinator"
    ]


def test_standing_down_messages_everyone_who_accepted(client, cadre, on_call, force, run_tasks):
    incident = run_tasks(raise_incident, force)
    post_signed_accept(client, run_tasks, cadre["n1"])
    run_tasks(services.stand_down, incident, by=None)
    run_tasks(services.stand_down, incident, by=None)
    incident.refresh_from_db()
    assert incident.status == "stood_down"
    stand_downs = Message.objects.filter(purpose="stand_down")
    assert {m.negotiator.callsign for m in stand_downs} == {"N-ONE", "N-TWO", "C-ONE"}
    assert Callout.objects.filter(incident=incident).exclude(state="stood_down").count() == 0
    run_tasks(services.close, incident, by=None)
    incident.refresh_from_db()
    assert incident.status == "closed" and stand_downs.count() == 3
    with pytest.raises(ValidationError):
        services.raise_needs(incident, "negotiator", by=None)


def test_closing_a_calling_incident_stands_people_down_and_cancels_pending(
    cadre, on_call, force, run_tasks
):
    incident = run_tasks(raise_incident, force)
    pending = Message.objects.filter(purpose="callout").first()
    Message.objects.filter(pk=pending.pk).update(status="pending", provider_sid=None)
    run_tasks(services.close, incident, by=None)
    pending.refresh_from_db()
    assert pending.status == "cancelled"
    assert Message.objects.filter(purpose="stand_down").count() == 3


def test_a_withdrawal_after_filling_reopens_the_place(client, cadre, on_call, force, run_tasks):
    incident = run_tasks(raise_incident, force, needs={"negotiator": 1})
    post_signed_accept(client, run_tasks, cadre["n1"])
    post_signed_accept(client, run_tasks, cadre["n1"], body="N", sid="SMno")
    incident.refresh_from_db()
    assert incident.status == "calling"
    assert Callout.objects.get(incident=incident, negotiator=cadre["n1"]).state == "declined"
    assert Deployment.objects.get(negotiator=cadre["n1"]).withdrawn_at is not None

    # They change their mind again: the same deployment, made anew (not a second one).
    post_signed_accept(client, run_tasks, cadre["n1"], body="Y 20", sid="SMyes-again")
    incident.refresh_from_db()
    assert incident.status == "filled"
    deployment = Deployment.objects.get(negotiator=cadre["n1"])
    assert (deployment.withdrawn_at, deployment.eta_minutes, deployment.role) == (
        None,
        20,
        "negotiator",
    )


def test_the_escalator_command_ticks_once(cadre, on_call, force, run_tasks):
    incident = make_incident(
        force,
        reference="HOME-X-01",
        kind="other",
        location="Deal",
        steps=[{"audience": "on_call", "channel": "sms", "wait_minutes": 3, "named": []}],
        next_step_at=timezone.now(),
    )
    run_tasks(call_command, "escalator", "--once")
    incident.refresh_from_db()
    assert incident.step_index == 0
    assert Message.objects.filter(incident=incident, purpose="callout").count() == 3


def test_exhausting_a_policy_without_an_alert_step_tells_whoever_raised_it(
    cadre, on_call, force, run_tasks, coordinator_user
):
    boss = make_negotiator(
        force=force, callsign="BOSS", user=coordinator_user, roles=("coordinator",)
    )
    policy = EscalationPolicy.objects.create(force=force, name="Short")
    EscalationStep.objects.create(policy=policy, position=0, audience="on_call", wait_minutes=1)
    incident = run_tasks(raise_incident, force, policy="Short", by=coordinator_user)
    run_tasks(clock.tick, due(incident))
    incident.refresh_from_db()
    assert incident.status == "exhausted"
    told = Message.objects.filter(purpose="unfilled", negotiator=boss)
    assert sorted(told.values_list("channel", flat=True)) == ["sms", "voice"]
    assert "still short" in told.get(channel="sms").body


def test_raising_needs_asks_again_those_stood_down_when_it_filled(
    client, cadre, on_call, force, run_tasks
):
    incident = run_tasks(raise_incident, force, needs={"negotiator": 1})
    post_signed_accept(client, run_tasks, cadre["n1"])
    n2 = Callout.objects.get(incident=incident, negotiator=cadre["n2"])
    n2.refresh_from_db()
    assert n2.state == "stood_down"
    run_tasks(services.raise_needs, incident, "negotiator", 1, by=None)
    n2.refresh_from_db()
    assert n2.state == "delivered"
    callouts_to_n2 = Message.objects.filter(callout=n2, purpose="callout", channel="sms")
    assert list(callouts_to_n2.values_list("round", "step")) == [(0, 0), (1, 0)]
    post_signed_accept(client, run_tasks, cadre["n2"], body="Y 10", sid="SMagain")
    incident.refresh_from_db()
    n2.refresh_from_db()
    assert incident.status == "filled"
    assert (n2.state, n2.role, n2.eta_minutes) == ("accepted", "negotiator", 10)
    assert (
        "you are going"
        in Message.objects.filter(purpose="reply", negotiator=cadre["n2"]).last().body
    )


def test_raising_needs_does_not_ask_again_those_who_declined(
    client, cadre, on_call, force, run_tasks
):
    incident = run_tasks(raise_incident, force, needs={"negotiator": 1})
    post_signed_accept(client, run_tasks, cadre["n2"], body="N", sid="SMno")
    post_signed_accept(client, run_tasks, cadre["n1"])
    incident.refresh_from_db()
    assert incident.status == "filled"
    run_tasks(services.raise_needs, incident, "negotiator", 1, by=None)
    assert Callout.objects.get(incident=incident, negotiator=cadre["n2"]).state == "declined"
    assert not Message.objects.filter(negotiator=cadre["n2"], purpose="callout", round=1)


def test_a_second_filling_stands_down_again_those_asked_again(
    client, cadre, on_call, force, run_tasks
):
    incident = run_tasks(raise_incident, force, needs={"negotiator": 1})
    post_signed_accept(client, run_tasks, cadre["n1"])
    run_tasks(services.raise_needs, incident, "coordinator", 1, by=None)
    # n2 holds no coordinator role: left stood down, not asked, not messaged again.
    n2 = Callout.objects.get(incident=incident, negotiator=cadre["n2"])
    assert n2.state == "stood_down"
    post_signed_accept(client, run_tasks, cadre["c1"], sid="SMc1")
    incident.refresh_from_db()
    assert incident.status == "filled"
    stand_downs = Message.objects.filter(incident=incident, purpose="stand_down")
    assert list(stand_downs.values_list("negotiator__callsign", "round")) == [("N-TWO", 0)]


def test_someone_asked_again_is_stood_down_again_when_it_fills_again(
    client, cadre, on_call, force, run_tasks
):
    incident = run_tasks(raise_incident, force, needs={"negotiator": 1})
    post_signed_accept(client, run_tasks, cadre["n1"])
    run_tasks(services.raise_needs, incident, "negotiator", 1, by=None)
    # The escalation reaches every deployable member; N-THREE answers first.
    for _ in range(3):
        if Callout.objects.filter(incident=incident, negotiator=cadre["n3"]).exists():
            break
        run_tasks(clock.tick, due(incident))
    post_signed_accept(client, run_tasks, cadre["n3"], sid="SMn3")
    incident.refresh_from_db()
    assert incident.status == "filled"
    n2 = Callout.objects.get(incident=incident, negotiator=cadre["n2"])
    assert n2.state == "stood_down"
    rounds = Message.objects.filter(callout=n2, purpose="stand_down").values_list(
        "round", flat=True
    )
    assert sorted(rounds) == [0, 1]


def test_standing_down_cancels_a_call_still_ringing(client, cadre, on_call, force, run_tasks):
    incident = run_tasks(raise_incident, force)
    ringing = make_message(
        Callout.objects.get(incident=incident, negotiator=cadre["n2"]),
        channel="voice",
        step=1,
        status="ringing",
        provider_sid="CA" + "2" * 32,
    )
    answered = make_message(
        Callout.objects.get(incident=incident, negotiator=cadre["n1"]),
        channel="voice",
        step=1,
        status="in-progress",
        provider_sid="CA" + "1" * 32,
    )
    run_tasks(services.stand_down, incident, by=None)
    ringing.refresh_from_db()
    answered.refresh_from_db()
    assert ringing.status == "cancelled"
    # Someone already listening hears the script say it is no longer needed.
    assert answered.status == "in-progress"
