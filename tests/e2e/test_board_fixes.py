"""The board, the negotiator's page and the simulator at 390 and 1366 px (issue #22): the
incident's actions within reach without scrolling, the live part following the incident,
a negotiator's page that says where they stand, the handset first on the simulator; each
checked with axe-core and kept as a screenshot in var/screenshots/."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from callouts.models import Callout, Incident, Message
from tests.e2e.axe import assert_accessible
from tests.e2e.conftest import SHOTS, looks_right
from tests.factories import (
    login,
    make_callout,
    make_deployed,
    make_incident,
    make_message,
    make_negotiator,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def busy(force, coordinator_user):
    """A live incident that asked 30 people: a board thousands of pixels long on a phone;
    some by call (ringing, not answered), one gone and stood down."""
    # Step 1 texts one named person and waits: the rest are reached by step 2, 5 min later.
    named = make_negotiator(force, "NAMED-1")
    steps = [
        {"audience": "named", "channel": "sms", "wait_minutes": 5, "named": [named.pk]},
        {"audience": "force", "channel": "both", "wait_minutes": 5, "named": []},
    ]
    incident = make_incident(force, needs={"negotiator": 2, "coordinator": 1}, steps=steps)
    for n in range(30):
        person = make_negotiator(force, f"NEG-{n:02d}")
        if n % 5 == 0:
            make_callout(incident, person, "ringing", "voice")
        elif n % 7 == 0:
            callout = make_callout(incident, person, "delivered")
            make_message(callout, channel="voice", status="no-answer", step=1)
        else:
            make_callout(incident, person, "delivered")
    going = make_negotiator(force, "GOING-1")
    make_deployed(incident, going, "delivered", role="negotiator", eta_minutes=20)
    return incident


def test_it_keeps_the_incidents_actions_in_reach_on_a_long_board(sized, live_server, busy):
    page = sized
    login(page, live_server, "coord")
    page.goto(f"{live_server.url}/incidents/{busy.pk}/")
    bar = page.get_by_role("navigation", name="Incident actions")
    stand_down = bar.get_by_role("link", name="Stand down…")
    expect(stand_down).to_be_in_viewport()
    expect(page.locator('li[data-callsign="NEG-00"]')).to_contain_text("call ringing")
    expect(page.locator('li[data-callsign="NEG-07"]')).to_contain_text("call not answered")
    expect(page.locator(".shortfall")).to_have_text("1 negotiator and 1 coordinator still needed")
    looks_right(page, "board-actions")
    assert_accessible(page, "#board")
    # At the bottom of everyone asked, the actions are still there.
    page.locator(".others li").last.scroll_into_view_if_needed()
    expect(stand_down).to_be_in_viewport()
    expect(bar.get_by_role("link", name="Close incident…")).to_be_in_viewport()
    page.screenshot(path=str(SHOTS / f"board-actions-scrolled-{page.size_name}.png"))
    stand_down.click()
    expect(page).to_have_url(re.compile(r"/stand-down/$"))


def test_it_asks_before_calling_again_and_shows_who_went_as_stood_down(sized, live_server, busy):
    page = sized
    from callouts import services

    services.stand_down(busy, by=None)
    login(page, live_server, "coord")
    page.goto(f"{live_server.url}/incidents/{busy.pk}/")
    went = page.locator('section[aria-label="Who is coming"] li[data-callsign="GOING-1"]')
    expect(went).to_contain_text("stood down")
    expect(went).not_to_contain_text("ETA")
    expect(page.locator(".shortfall")).to_have_text("Ended short: 1 negotiator and 1 coordinator")
    looks_right(page, "board-stood-down-went")
    page.get_by_role("link", name="Call again…").click()
    expect(page.get_by_role("heading", name=f"Call again {busy.reference}?")).to_be_visible()
    looks_right(page, "call-again-confirm")
    assert_accessible(page, "main")
    page.get_by_role("button", name=f"Call again {busy.reference}").click()  # not ticked
    assert Incident.objects.get(pk=busy.pk).status == "stood_down"
    page.get_by_label(f"Yes, call again {busy.reference}").check()
    page.get_by_role("button", name=f"Call again {busy.reference}").click()
    expect(page.locator('[data-status="calling"]')).to_be_visible()
    # Step 1 asks NAMED-1 only: the people stood down are not asked again yet, and it says so.
    expect(page.locator('[data-group="waiting"] li[data-callsign="NAMED-1"]')).to_be_visible()
    again = page.locator('[data-group="again"]')
    expect(again).to_contain_text("Stood down, to be asked again")
    expect(again.locator('li[data-callsign="NEG-01"]')).to_contain_text("Not asked again yet")
    looks_right(page, "board-called-again")
    assert_accessible(page, "#board")


def test_it_tells_a_negotiator_where_they_stand(sized, live_server, negotiator_user, force):
    page = sized
    me = negotiator_user.negotiator
    asked = make_incident(force, location="Riverside flats")
    make_callout(asked, me, "delivered")
    coming = make_incident(force, location="Medway bridge")
    make_deployed(coming, me, "delivered", role="negotiator", eta_minutes=20)
    login(page, live_server, "neg")

    page.goto(f"{live_server.url}/incidents/{asked.pk}/")
    expect(page.get_by_text("Your answer: Not answered yet")).to_be_visible()
    expect(page.get_by_role("heading", name="Can you come?")).to_be_visible()
    # The answer is in the part of the page that updates itself: what is typed stays.
    page.get_by_label("ETA in minutes (optional)").fill("25")
    page.evaluate(
        "new Promise(done => document.body.addEventListener('htmx:afterSwap', done, {once: true}))"
    )
    expect(page.get_by_label("ETA in minutes (optional)")).to_have_value("25")
    looks_right(page, "negotiator-asked")
    assert_accessible(page, "main")

    page.goto(f"{live_server.url}/incidents/{coming.pk}/")
    expect(page.get_by_role("heading", name="You are coming")).to_be_visible()
    confirm = page.get_by_role("button", name="Yes, I can no longer come")
    expect(confirm).to_be_hidden()  # one tap opens the question, it does not withdraw
    page.get_by_text("I can no longer come…").click()
    expect(confirm).to_be_visible()
    looks_right(page, "negotiator-coming")
    assert_accessible(page, "main")
    assert Callout.objects.get(incident=coming).state == "accepted"

    page.get_by_role("button", name="I have arrived").click()
    expect(page.get_by_role("heading", name="You are on scene")).to_be_visible()
    expect(page.get_by_role("button", name="Update ETA")).to_have_count(0)
    expect(page.get_by_text("I can no longer come…")).to_have_count(0)
    looks_right(page, "negotiator-on-scene")
    assert_accessible(page, "main")


def test_it_stops_asking_on_the_live_board_once_filled(page, live_server, negotiator_user, force):
    incident = make_incident(force, needs={"negotiator": 1})
    callout = make_callout(incident, negotiator_user.negotiator, "delivered")
    login(page, live_server, "neg")
    page.goto(f"{live_server.url}/incidents/{incident.pk}/")
    expect(page.get_by_role("button", name="Attending", exact=True)).to_be_visible()
    # Filled by someone else; this page is not reloaded.
    Callout.objects.filter(pk=callout.pk).update(state="stood_down")
    Incident.objects.filter(pk=incident.pk).update(status="filled")
    attending = page.get_by_role("button", name="Attending", exact=True)
    expect(attending).to_have_count(0, timeout=10_000)
    expect(page.get_by_role("heading", name="Can you come?")).to_have_count(0)


def test_it_shows_the_handset_first_and_dates_old_messages(sized, live_server, busy, settings):
    page = sized
    settings.PUBLIC_BASE_URL = live_server.url
    old = Message.objects.filter(callout__negotiator__callsign="NEG-01").first()
    Message.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=3))
    login(page, live_server, "coord")
    page.goto(f"{live_server.url}/simulator/phones/")
    handset = page.locator("section.phone")
    expect(handset).to_be_in_viewport()
    first = handset.bounding_box()["y"]
    assert first < page.locator("#phone-list").bounding_box()["y"]
    person = old.negotiator
    page.get_by_label("Show the phone of").select_option(value=str(person.pk))
    page.get_by_role("button", name="Show").click()
    then = timezone.localtime(timezone.now() - timedelta(days=3))
    expect(
        page.locator(f'section.phone[data-callsign="{person.callsign}"] .sms').first
    ).to_contain_text(f"{then:%a} {then.day} {then:%b}")
    looks_right(page, "simulator-handset-first")
    assert_accessible(page, "main")
