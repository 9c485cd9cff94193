"""The escalation policy editor, for coordinators."""

from datetime import timedelta

import pytest
from django.urls import reverse

from callouts.engine.policy import create_default_policy
from callouts.models import EscalationPolicy, EscalationStep
from tests.factories import make_negotiator, raise_incident

pytestmark = pytest.mark.django_db


def form_data(steps, **policy):
    data = {
        "name": "Night",
        "is_default": "",
        "need_negotiator": "2",
        "need_coordinator": "1",
        "need_adviser": "0",
        "tell_after_minutes": "30",
        "steps-TOTAL_FORMS": str(len(steps)),
        "steps-INITIAL_FORMS": "0",
        "steps-MIN_NUM_FORMS": "0",
        "steps-MAX_NUM_FORMS": "12",
    }
    data.update(policy)
    for i, step in enumerate(steps):
        for key, value in step.items():
            data[f"steps-{i}-{key}"] = value
    return data


def step(audience="on_call", channel="sms", wait="3", order="", named=()):
    values = {"audience": audience, "channel": channel, "wait_minutes": wait, "ORDER": order}
    if named:
        values["named"] = [str(n.pk) for n in named]
    return values


@pytest.fixture
def standard(force):
    return create_default_policy(force)


def test_it_creates_a_policy_with_ordered_steps(coordinator_client, force, standard):
    kilo = make_negotiator(force, "KILO-1")
    data = form_data(
        [
            step("force", "both", "10", order="2"),
            step("named", "voice", "5", order="1", named=[kilo]),
            step("managers", "sms", "0", order="3"),
        ]
    )
    response = coordinator_client.post(reverse("policy_new"), data)
    assert response.status_code == 302
    policy = EscalationPolicy.objects.get(name="Night")
    steps = list(policy.steps.order_by("position"))
    assert [(s.position, s.audience, s.channel, s.wait_minutes) for s in steps] == [
        (1, "named", "voice", 5),
        (2, "force", "both", 10),
        (3, "managers", "sms", 0),
    ]
    assert list(steps[0].named.all()) == [kilo]
    assert policy.default_needs == {"negotiator": 2, "coordinator": 1}
    assert not policy.is_default


def test_it_moves_the_default_to_the_policy_saved_as_default(coordinator_client, force, standard):
    data = form_data([step()], is_default="on")
    coordinator_client.post(reverse("policy_new"), data)
    standard.refresh_from_db()
    assert not standard.is_default
    assert EscalationPolicy.objects.get(name="Night").is_default


def test_it_rewrites_steps_on_edit_without_touching_live_incidents(
    coordinator_client, force, standard
):
    incident = raise_incident(force, kind="barricade", location="Dover")
    frozen = list(incident.steps)
    data = form_data(
        [step("on_call", "voice", "1")], name="Standard", is_default="on", need_negotiator="3"
    )
    response = coordinator_client.post(reverse("policy_edit", args=[standard.pk]), data)
    assert response.status_code == 302
    standard.refresh_from_db()
    assert [(s.audience, s.channel) for s in standard.steps.all()] == [("on_call", "voice")]
    assert standard.default_needs == {"negotiator": 3, "coordinator": 1}
    incident.refresh_from_db()
    assert incident.steps == frozen


@pytest.mark.parametrize(
    ("steps", "policy", "error"),
    [
        ([], {}, "A policy needs at least one step."),
        ([step("named")], {}, "Choose the people this step calls."),
        ([step(wait="-1")], {}, "greater than or equal to 0"),
        ([step(audience="everyone")], {}, "Select a valid choice"),
        ([step()], {"name": "Standard"}, "Another policy of this force has that name."),
        ([step()], {"need_negotiator": "0", "need_coordinator": "0"}, "at least one person"),
        ([step()], {"tell_after_minutes": ""}, "Give the minutes after which a human is told"),
        ([step()], {"tell_after_minutes": "0"}, "At least 1 minute."),
        ([step()], {"tell_after_minutes": "-5"}, "At least 1 minute."),
        ([step()], {"tell_after_minutes": "1441"}, "At most 1440 minutes"),
        ([step()], {"tell_after_minutes": "soon"}, "Give a whole number of minutes"),
        ([step()], {"tell_after_minutes": "99999999999999999999"}, "At most 1440 minutes"),
    ],
)
def test_it_explains_bad_input_and_saves_nothing(
    coordinator_client, force, standard, steps, policy, error
):
    before = EscalationStep.objects.count()
    response = coordinator_client.post(reverse("policy_new"), form_data(steps, **policy))
    assert response.status_code == 200
    assert error in response.content.decode().replace("&#x27;", "'")
    assert EscalationPolicy.objects.count() == 1
    assert EscalationStep.objects.count() == before


def test_it_refuses_named_people_on_another_audience(coordinator_client, force, standard):
    kilo = make_negotiator(force, "KILO-1")
    response = coordinator_client.post(
        reverse("policy_new"), form_data([step("force", named=[kilo])])
    )
    assert "Named people only go with" in response.content.decode()
    assert list(EscalationPolicy.objects.all()) == [standard]


def test_it_keeps_one_default_policy(coordinator_client, force, standard):
    data = form_data([step()], name="Standard", is_default="")
    response = coordinator_client.post(reverse("policy_edit", args=[standard.pk]), data)
    assert "The force needs a default policy" in response.content.decode()
    standard.refresh_from_db()
    assert standard.is_default


def test_it_is_for_coordinators_only(supervisor_client, standard):
    assert supervisor_client.get(reverse("policy_list")).status_code == 403
    assert supervisor_client.get(reverse("policy_edit", args=[standard.pk])).status_code == 403
    steps = list(standard.steps.values_list("position", "audience", "channel", "wait_minutes"))
    data = form_data([step("force", "sms", "1")], name="Renamed", is_default="on")
    response = supervisor_client.post(reverse("policy_edit", args=[standard.pk]), data)
    assert response.status_code == 403
    standard.refresh_from_db()
    assert standard.name != "Renamed"
    assert (
        list(standard.steps.values_list("position", "audience", "channel", "wait_minutes")) == steps
    )


def test_it_lists_policies_with_their_steps(coordinator_client, standard):
    html = coordinator_client.get(reverse("policy_list")).content.decode()
    assert "Standard" in html and "default" in html
    assert "Voice call to on call for the missing roles" in html


def test_it_shows_a_policy_for_editing_with_its_steps_in_order(coordinator_client, standard):
    response = coordinator_client.get(reverse("policy_edit", args=[standard.pk]))
    steps = response.context["steps"]
    assert response.status_code == 200
    assert [f["audience"].value() for f in steps.forms[:2]] == ["on_call", "on_call"]
    assert [f["channel"].value() for f in steps.forms[:2]] == ["sms", "voice"]
    assert len(steps.forms) == standard.steps.count()  # no blank rows: "Add a step" adds one


def test_it_starts_a_new_policy_from_the_default_steps(coordinator_client, standard):
    response = coordinator_client.get(reverse("policy_new"))
    steps = response.context["steps"]
    assert [f["audience"].value() for f in steps.forms] == [
        "on_call",
        "on_call",
        "force",
        "unanswered",
        "mutual_aid",
        "managers",
    ]
    assert "Add a step" in response.content.decode()


def test_it_adds_a_blank_step_row_on_demand_without_errors(coordinator_client, force, standard):
    data = form_data([step(), step("force", "voice", "5")], name="")
    response = coordinator_client.post(reverse("policy_new"), {**data, "add_step": "1"})
    html = response.content.decode()
    assert response.status_code == 200
    assert len(response.context["steps"].forms) == 3
    assert 'name="steps-TOTAL_FORMS" value="3"' in html
    assert "This field is required" not in html
    # The new row is visibly empty, not a pre-filled "On call / SMS / 5" step.
    assert '<option value="" selected>Choose…</option>' in html
    assert EscalationPolicy.objects.count() == 1
    # Left empty, the added row is no step at all.
    saved = coordinator_client.post(
        reverse("policy_new"),
        {**form_data([step(), step("force", "voice", "5"), {}], name="Night")},
    )
    assert saved.status_code == 302
    assert EscalationPolicy.objects.get(name="Night").steps.count() == 2


def test_it_sets_when_a_human_is_told_and_freezes_it_onto_incidents(
    coordinator_client, force, standard
):
    response = coordinator_client.get(reverse("policy_edit", args=[standard.pk]))
    assert 'name="tell_after_minutes" value="30"' in response.content.decode()
    data = form_data([step()], name="Standard", is_default="on", tell_after_minutes="45")
    response = coordinator_client.post(reverse("policy_edit", args=[standard.pk]), data)
    assert response.status_code == 302
    standard.refresh_from_db()
    assert standard.tell_after_minutes == 45
    listed = coordinator_client.get(reverse("policy_list")).content.decode()
    assert "Still short after 45 min" in listed
    incident = raise_incident(force)
    assert incident.tell_if_short_at - incident.raised_at == pytest.approx(
        timedelta(minutes=45), abs=timedelta(seconds=5)
    )
    # Editing the policy later changes no live incident.
    EscalationPolicy.objects.filter(pk=standard.pk).update(tell_after_minutes=5)
    incident.refresh_from_db()
    assert incident.tell_if_short_at - incident.raised_at > timedelta(minutes=44)
