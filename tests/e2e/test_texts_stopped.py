"""Someone who sent STOP, as a coordinator sees them: the cadre register and the board, at
desktop and phone size."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from callouts.engine.policy import create_default_policy
from callouts.models import Message
from tests.e2e.conftest import looks_right
from tests.factories import login, make_negotiator, put_on, raise_incident

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_coordinator_sees_whose_texts_are_stopped(sized, live_server, coordinator_user, force):
    page = sized
    create_default_policy(force)
    now = timezone.now()
    stopped = make_negotiator(force, "STOPPED-01")
    stopped.texts_stopped_at = now - timedelta(days=2)
    stopped.save()
    for person, role in [
        (stopped, "negotiator"),
        (make_negotiator(force, "TEXTED-02"), "negotiator"),
        (make_negotiator(force, "COORD-03", roles=("coordinator",)), "coordinator"),
    ]:
        put_on(person, role, start=now - timedelta(hours=1), end=now + timedelta(hours=12))
    incident = raise_incident(force)
    sent = Message.objects.filter(negotiator=stopped, purpose="callout")
    assert list(sent.values_list("channel", flat=True)) == ["voice"]

    login(page, live_server, "coord")
    page.goto(f"{live_server.url}/incidents/{incident.pk}/")
    row = page.locator('#board li[data-callsign="STOPPED-01"]')
    expect(row).to_contain_text("texts stopped — voice only")
    expect(page.locator('#board li[data-callsign="TEXTED-02"]')).not_to_contain_text("stopped")
    looks_right(page, "board-texts-stopped")

    page.goto(f"{live_server.url}/cadre/")
    listed = page.locator("table.cadre tr", has_text="STOPPED-01")
    expect(listed).to_contain_text(re.compile(r"Texts stopped on \d{1,2} \w{3} \d{4}"))
    looks_right(page, "cadre-texts-stopped")
