"""A coordinator's hands on the live board, at phone and desktop size: recording an answer
someone gave by phone, and paging a named person now (callouts.web.hands_views)."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from callouts.engine.policy import create_default_policy
from callouts.models import Callout, Message
from tests.e2e.axe import assert_accessible
from tests.e2e.conftest import looks_right
from tests.factories import login, make_negotiator, put_on, raise_incident

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def incident(force, coordinator_user):
    """Calling: NEG-ONE, NEG-TWO and COORD-ONE (on call) asked; SPARE-ONE not on call."""
    create_default_policy(force)
    now = timezone.now()
    for callsign, role in (("NEG-ONE", "negotiator"), ("NEG-TWO", "negotiator")):
        put_on(make_negotiator(force, callsign), role, start=now - timedelta(hours=1), days=1)
    coordinator = make_negotiator(force, "COORD-ONE", roles=("coordinator",))
    put_on(coordinator, "coordinator", start=now - timedelta(hours=1), days=1)
    make_negotiator(force, "SPARE-ONE")
    from callouts.engine import steps

    incident = raise_incident(force, by=coordinator_user, rendezvous="North car park")
    steps.fire_and_send(incident.pk, 0)
    return incident


def test_it_records_a_phoned_answer_and_pages_someone_from_the_board(sized, live_server, incident):
    page = sized
    login(page, live_server, "coord")
    page.goto(f"{live_server.url}/incidents/{incident.pk}/")
    hands = page.locator("section.hands")
    expect(hands.get_by_role("heading", name="By phone and by hand")).to_be_visible()
    assert_accessible(page, "#hands")
    looks_right(page, "hands-board")

    # An answer without the ETA an acceptance needs: refused, nothing recorded.
    record = hands.locator("form.record-answer")
    neg_one = Callout.objects.get(negotiator__callsign="NEG-ONE")
    record.get_by_label("Who").select_option(value=str(neg_one.negotiator_id))
    record.get_by_label("Accepted", exact=True).check()
    record.get_by_role("button", name="Record answer").click()
    expect(page.locator(".messages")).to_contain_text("Give their ETA in minutes")
    assert Callout.objects.get(pk=neg_one.pk).state != "accepted"

    # NEG-ONE rang: coming, 20 minutes.
    record = page.locator("form.record-answer")
    record.get_by_label("Who").select_option(value=str(neg_one.negotiator_id))
    record.get_by_label("Accepted", exact=True).check()
    record.get_by_label("ETA in minutes").fill("20")
    record.get_by_role("button", name="Record answer").click()
    expect(page.locator(".messages")).to_contain_text(
        "NEG-ONE recorded as accepted, ETA 20 min; texted to confirm with the rendezvous."
    )
    coming = page.locator('[data-role-line="negotiator"]')
    expect(coming.locator('li[data-callsign="NEG-ONE"]')).to_contain_text("20 min")
    expect(coming).to_contain_text("1 of 2")
    confirmation = Message.objects.get(purpose="reply", negotiator__callsign="NEG-ONE")
    assert "North car park" in confirmation.body and "NEG-ONE" not in confirmation.body

    # SPARE-ONE is not on call: paged now, by voice.
    pager = page.locator("form.page-person")
    option = pager.get_by_label("Who").locator("option", has_text="SPARE-ONE")
    expect(option).to_contain_text("not on call")
    pager.get_by_label("Who").select_option(value=option.get_attribute("value"))
    pager.get_by_label("Voice call").check()
    pager.get_by_role("button", name="Page now").click()
    expect(page.locator(".messages")).to_contain_text("Paging SPARE-ONE by voice call.")
    expect(page.locator('#board li[data-callsign="SPARE-ONE"]')).to_be_visible()
    assert Message.objects.filter(negotiator__callsign="SPARE-ONE", channel="voice").exists()
    assert_accessible(page, "#hands")
    assert_accessible(page, ".messages")
    looks_right(page, "hands-after")

    page.goto(f"{live_server.url}/incidents/{incident.pk}/timeline/")
    lines = page.locator("table.timeline")
    expect(lines).to_contain_text("Accepted, ETA 20 min: recorded by coord (by phone)")
    expect(lines).to_contain_text("Paged by coord by call")
    assert re.search(r"/timeline/$", page.url)
