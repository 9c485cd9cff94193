"""A coordinator sees on the board who was told that an incident is not filling, and sets in
the policy editor when a human is told."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from cadre.models import LoginRole
from callouts.engine import unfilled
from callouts.engine.policy import create_default_policy
from callouts.models import EscalationPolicy, Incident
from tests.e2e.conftest import looks_right
from tests.factories import login, make_negotiator, make_user, put_on, raise_incident

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def short(force):
    """An incident still short at its deadline: the on-call coordinator and a supervisor told."""
    create_default_policy(force)
    now = timezone.now()
    coordinator = make_negotiator(force, "COORD-ONE", roles=("coordinator",))
    put_on(coordinator, "coordinator", start=now - timedelta(hours=1), end=now + timedelta(hours=9))
    boss = make_user("boss", [LoginRole.SUPERVISOR], force=force)
    make_negotiator(force, "SUPER-ONE", roles=("coordinator",), user=boss)
    incident = raise_incident(force)
    Incident.objects.filter(pk=incident.pk).update(
        raised_at=now - timedelta(minutes=30), tell_if_short_at=now - timedelta(seconds=1)
    )
    unfilled.check(incident.pk)
    return incident


def test_it_shows_who_was_told_that_it_is_not_filling(sized, live_server, coordinator_user, short):
    page = sized
    login(page, live_server, "coord")
    page.goto(f"{live_server.url}{reverse('incident_board', args=[short.pk])}")
    told = page.get_by_role("region", name="Told it is not filling")
    expect(told).to_contain_text("Still short after 30 min")
    expect(told).to_contain_text("COORD-ONE (on-call coordinator) by SMS")
    expect(told).to_contain_text("SUPER-ONE (supervisor) by SMS")
    looks_right(page, "board-told-not-filling")


def test_it_sets_when_a_human_is_told_in_the_policy_editor(
    sized, live_server, coordinator_user, force
):
    policy = create_default_policy(force)
    page = sized
    login(page, live_server, "coord")
    page.goto(f"{live_server.url}{reverse('policy_edit', args=[policy.pk])}")
    field = page.get_by_label("Tell a human if still short after (minutes)")
    expect(field).to_have_value("30")
    field.fill("0")
    page.get_by_role("button", name="Save policy").click()
    expect(page.get_by_text("At least 1 minute.")).to_be_visible()
    looks_right(page, "policy-tell-after-refused")
    policy.refresh_from_db()
    assert policy.tell_after_minutes == 30
    page.get_by_label("Tell a human if still short after (minutes)").fill("45")
    page.get_by_role("button", name="Save policy").click()
    expect(page.get_by_text("Still short after 45 min")).to_be_visible()
    assert EscalationPolicy.objects.get(pk=policy.pk).tell_after_minutes == 45
