"""A whole callout in the browser: raise, answer on the simulator's phones, filled, stood down.

Tasks run synchronously in the live server's thread (Q_SYNC), so every SMS is
"sent" by the simulator gateway as soon as the transaction that queued it
commits; the phones page and the board pick it up through htmx polling.
"""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cadre.models import Negotiator
from callouts.engine.policy import create_default_policy
from callouts.models import Incident
from tests.factories import login, make_negotiator, put_on

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def on_call(force):
    create_default_policy(force)
    people = {
        "NEG-ONE": make_negotiator(force, "NEG-ONE"),
        "NEG-TWO": make_negotiator(force, "NEG-TWO"),
        "NEG-THREE": make_negotiator(force, "NEG-THREE"),
        "COORD-ONE": make_negotiator(force, "COORD-ONE", roles=("coordinator",)),
    }
    now = timezone.now()
    for callsign, person in people.items():
        role = "coordinator" if callsign.startswith("COORD") else "negotiator"
        put_on(person, role, start=now - timedelta(hours=1), end=now + timedelta(hours=12))
    return people


def phone(page, callsign):
    """The simulator shows one handset at a time: choose it from the list first."""
    handset = page.locator(f'section.phone[data-callsign="{callsign}"]')
    if not handset.count():
        person = Negotiator.objects.get(callsign=callsign)
        page.get_by_label("Show the phone of").select_option(value=str(person.pk))
        page.get_by_role("button", name="Show").click()
    return handset


def reply(page, callsign, text):
    handset = phone(page, callsign)
    handset.get_by_label("Reply").fill(text)
    handset.get_by_role("button", name="Send").click()
    expect(handset.locator(".sms.in").last).to_contain_text(text)


def test_it_fills_an_incident_from_the_phones_and_stands_the_rest_down(
    page, live_server, coordinator_user, force, on_call, settings
):
    # The simulator signs its webhooks over PUBLIC_BASE_URL: here, the test server.
    settings.PUBLIC_BASE_URL = live_server.url
    login(page, live_server, "coord")
    page.get_by_role("link", name="Raise incident").click()
    page.get_by_label("Kind").select_option(label="Person at height")
    page.get_by_label("Rough location").fill("Medway bridge")
    page.get_by_label("Rendezvous point").fill("North car park")
    page.get_by_label("Brief").fill("Adult male on the parapet")
    expect(page.get_by_label("Negotiators needed")).to_have_value("2")
    expect(page.get_by_label("Coordinators needed")).to_have_value("1")
    page.get_by_role("button", name="Raise and start calling").click()

    expect(page).to_have_url(re.compile(r"/incidents/\d+/$"))
    incident = Incident.objects.get()
    expect(page.get_by_role("heading", name=re.compile(incident.reference))).to_be_visible()
    board = page.locator("#board")
    for callsign in on_call:
        expect(board.locator(f'li[data-callsign="{callsign}"]')).to_be_visible()

    # The board stays open in a second tab: it must fill without a reload.
    board_tab = page.context.new_page()
    board_tab.goto(page.url)

    page.get_by_role("link", name="Phones").click()
    for callsign in on_call:
        expect(phone(page, callsign).locator('.sms[data-purpose="callout"]')).to_contain_text(
            incident.reference
        )
    reply(page, "NEG-ONE", "Y 15")
    reply(page, "NEG-TWO", "yes")
    reply(page, "COORD-ONE", "Y 20")
    expect(phone(page, "NEG-ONE").locator('.sms[data-purpose="reply"]').last).to_contain_text(
        "North car park"
    )
    # NEG-THREE never answered: the stand-down reaches their phone (by polling).
    expect(phone(page, "NEG-THREE").locator('.sms[data-purpose="stand_down"]')).to_have_count(1)

    expect(board_tab.locator('[data-status="filled"]')).to_be_visible()
    for role, filled in (("negotiator", "2 of 2"), ("coordinator", "1 of 1")):
        expect(board_tab.locator(f'[data-role-line="{role}"] .count')).to_contain_text(filled)
    coming = board_tab.locator('[data-role-line="negotiator"] li[data-callsign="NEG-ONE"]')
    expect(coming).to_contain_text("ETA")
    expect(coming).to_contain_text("15 min")
    not_needed = board_tab.locator('[data-group="not_needed"] li[data-callsign="NEG-THREE"]')
    expect(not_needed).to_contain_text("Stood down")
    assert board_tab.url.endswith(f"/incidents/{incident.pk}/")
    assert page.console_errors == []
