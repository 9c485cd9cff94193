"""At 3 a.m. and on a phone: every page at desktop (1366×900) and phone (390×844) size fits
without sideways scrolling and without a console error (CSP violations included); the
destructive actions ask first; a negotiator answers a callout from the page.

Each page is saved as a screenshot at both sizes in var/screenshots/ (gitignored), so that
changes in look are reviewed: `make e2e`, then look at them.
"""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from callouts.engine.policy import create_default_policy
from callouts.models import Callout, Incident, Response
from roster.models import RotationPattern, Shift, SwapRequest
from roster.queries import rota_for
from tests.e2e.conftest import looks_right
from tests.factories import (
    login,
    make_callout,
    make_incident,
    make_negotiator,
    put_on,
    raise_incident,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def scene(force, coordinator_user, negotiator_user, settings, live_server):
    """A live incident with people coming, declining, silent and unreachable; a rota with
    shifts; a swap waiting."""
    settings.PUBLIC_BASE_URL = live_server.url
    create_default_policy(force)
    now = timezone.now()
    alpha = negotiator_user.negotiator
    people = [alpha] + [make_negotiator(force, f"NEG-{i:02d}") for i in range(1, 6)]
    coord = make_negotiator(force, "COORD-ONE", roles=("coordinator",))
    for person in people[:4]:
        put_on(person, "negotiator", start=now - timedelta(hours=1), end=now + timedelta(days=3))
    put_on(coord, "coordinator", start=now - timedelta(hours=1), end=now + timedelta(days=3))
    later = put_on(people[4], "negotiator", start=now + timedelta(days=4), days=2)
    SwapRequest.objects.create(shift=later, requested_by=coordinator_user, taker=people[5])
    # A rotation with a long order: its row must fit a phone too.
    pattern = RotationPattern.objects.create(
        rota=rota_for(force),
        name="Negotiators weekly, Monday handover (north and south desks)",
        role="negotiator",
        on_at_once=2,
        starts_on=now.date(),
        order=[p.pk for p in people],
    )
    incident = raise_incident(
        force,
        location="Medway bridge, north side of the river near the old town quay",
        rendezvous="North car park",
        brief="Adult male on the parapet",
    )
    return {
        "incident": incident,
        "alpha": alpha,
        "people": people,
        "later": later,
        "pattern": pattern,
    }


def test_it_fits_the_coordinators_pages(sized, live_server, scene):
    page = sized
    login(page, live_server, "coord")
    looks_right(page, "dashboard")
    incident = scene["incident"]
    expect(page.locator(f'a[href="/incidents/{incident.pk}/"]').first).to_be_attached()
    page.goto(f"{live_server.url}/incidents/{incident.pk}/")
    expect(page.locator('[data-status="calling"]')).to_be_visible()
    # The callouts went out (the escalator ticks beside the server).
    expect(page.locator("[data-group='waiting'] li").first).to_be_visible(timeout=15_000)
    looks_right(page, "board")
    for path, name in [
        ("/incidents/new/", "raise"),
        ("/incidents/", "incidents"),
        (f"/incidents/{incident.pk}/stand-down/", "stand-down-confirm"),
        (f"/incidents/{incident.pk}/timeline/", "timeline"),
        ("/rota/board/", "rota"),
        ("/rota/board/?view=month", "rota-month"),
        ("/rota/patterns/", "rotations"),
        (f"/rota/patterns/{scene['pattern'].pk}/", "rotation"),
        ("/rota/changes/", "rota-changes"),
        ("/rota/mine/", "my-shifts-coordinator"),
        ("/cadre/", "cadre"),
        ("/cadre/me/", "my-profile"),
        ("/policies/new/", "policy-new"),
        ("/simulator/phones/", "simulator"),
        ("/reports/", "figures"),
        ("/reports/workload/", "workload"),
        ("/reports/welfare/", "welfare"),
    ]:
        page.goto(f"{live_server.url}{path}")
        looks_right(page, name)


def test_it_shows_a_long_callout_a_group_at_a_time_and_whole_on_asking(
    sized, live_server, force, coordinator_user
):
    incident = make_incident(force, next_step_at=timezone.now() + timedelta(hours=1))
    for n in range(40):
        make_callout(incident, make_negotiator(force, f"AID-{n:02d}"), status="delivered")
    page = sized
    login(page, live_server, "coord")
    page.goto(f"{live_server.url}/incidents/{incident.pk}/")
    waiting = page.locator("[data-group='waiting'] li")
    expect(waiting).to_have_count(25)
    expect(page.get_by_text("25 of 40 shown")).to_be_visible()
    looks_right(page, "board-long")
    page.get_by_role("link", name="Show all 40").click()
    expect(waiting).to_have_count(40)
    # The board refreshes itself every 2 s and stays whole.
    with page.expect_response(lambda r: "/live/?everyone=1" in r.url):
        pass
    expect(waiting).to_have_count(40)
    page.get_by_role("link", name="Show the first 25 of each group").click()
    expect(waiting).to_have_count(25)


def test_it_fits_the_negotiators_pages_and_takes_an_answer(sized, live_server, scene):
    page = sized
    incident = scene["incident"]
    login(page, live_server, "neg")
    looks_right(page, "dashboard-negotiator")
    page.goto(f"{live_server.url}/rota/mine/")
    looks_right(page, "my-shifts")
    page.goto(f"{live_server.url}/cadre/me/")
    looks_right(page, "my-profile-negotiator")
    page.goto(f"{live_server.url}/incidents/{incident.pk}/")
    # The first step texts those on call, ALPHA-01 among them: the page offers the answer.
    expect(page.get_by_role("heading", name="Can you come?")).to_be_visible(timeout=15_000)
    looks_right(page, "board-negotiator")
    page.get_by_label("ETA in minutes (optional)").fill("15")
    page.get_by_role("button", name="Attending", exact=True).click()
    expect(page.locator(".messages")).to_contain_text("North car park")
    expect(page.get_by_role("heading", name="You are coming")).to_be_visible()
    looks_right(page, "board-negotiator-accepted")
    callout = Callout.objects.get(incident=incident, negotiator=scene["alpha"])
    assert callout.state == "accepted" and callout.eta_minutes == 15
    assert Response.objects.get(callout=callout).channel == "web"


def test_it_asks_before_standing_down_and_closing(sized, live_server, scene):
    page = sized
    incident = scene["incident"]
    login(page, live_server, "coord")
    page.goto(f"{live_server.url}/incidents/{incident.pk}/")
    page.get_by_role("link", name="Stand down…").click()
    expect(page).to_have_url(re.compile(r"/stand-down/$"))
    button = page.get_by_role("button", name=f"Stand down {incident.reference}")
    # Without the tick, the button does nothing (the box is required): no stray submit.
    button.click()
    expect(page).to_have_url(re.compile(r"/stand-down/$"))
    incident.refresh_from_db()
    assert incident.status == Incident.Status.CALLING
    page.get_by_label(f"Yes, stand down {incident.reference}").check()
    button.click()
    expect(page.locator('[data-status="stood_down"]')).to_be_visible()
    looks_right(page, "board-stood-down")
    # Stood down too soon: Call again, needs unchanged.
    page.get_by_role("link", name="Call again…").click()
    page.get_by_label(f"Yes, call again {incident.reference}").check()
    page.get_by_role("button", name=f"Call again {incident.reference}").click()
    expect(page.locator('[data-status="calling"]')).to_be_visible()
    incident.refresh_from_db()
    assert incident.status == "calling"
    assert incident.needs == {"negotiator": 2, "coordinator": 1}
    page.get_by_role("link", name="Close incident…").click()
    page.get_by_label(f"Yes, close {incident.reference}").check()
    page.get_by_role("button", name=f"Close {incident.reference}").click()
    expect(page.locator('[data-status="closed"]')).to_be_visible()


def test_it_asks_before_removing_a_shift_or_declining_a_swap(sized, live_server, scene):
    page = sized
    later = scene["later"]
    login(page, live_server, "coord")
    at = timezone.localtime(later.start).date().isoformat()
    page.goto(f"{live_server.url}/rota/board/?view=week&at={at}")
    looks_right(page, "rota-with-swap")
    page.get_by_role("link", name="Decline…").click()
    confirm = page.get_by_role("button", name="Decline the swap")
    confirm.click()  # not ticked: nothing happens
    assert SwapRequest.objects.get().status == "pending"
    page.get_by_label("Yes, decline this swap").check()
    confirm.click()
    expect(page.get_by_role("status")).to_contain_text("Swap declined")
    assert SwapRequest.objects.get().status == "declined"

    page.locator(f'[data-shift="{later.pk}"]').first.click()
    # Opening the panel takes the focus into it.
    expect(page.locator("#editor h2")).to_be_focused()
    remove = page.get_by_role("button", name="Remove this shift")
    remove.click()  # not ticked: nothing happens
    assert Shift.objects.live().filter(pk=later.pk).exists()
    page.get_by_label("Yes, remove this shift").check()
    looks_right(page, "rota-shift-panel")
    remove.click()
    expect(page.get_by_role("status")).to_contain_text("Removed")
    # Focus stays where the edit happened: the shift is gone, so on what the board says.
    expect(page.locator("#board .done")).to_be_focused()
    assert not Shift.objects.live().filter(pk=later.pk).exists()


def test_it_shows_one_phone_at_a_time_in_the_simulator(sized, live_server, scene):
    page = sized
    login(page, live_server, "coord")
    page.goto(f"{live_server.url}/simulator/phones/")
    expect(page.locator("section.phone")).to_have_count(1)
    neg02 = scene["people"][2]
    page.get_by_label("Show the phone of").select_option(value=str(neg02.pk))
    page.get_by_role("button", name="Show").click()
    handset = page.locator('section.phone[data-callsign="NEG-02"]')
    expect(handset.locator('.sms[data-purpose="callout"]')).to_contain_text(
        scene["incident"].reference, timeout=15_000
    )
    handset.get_by_label("Reply").fill("maybe")
    handset.get_by_role("button", name="Send").click()
    expect(handset.locator(".sms.in").last).to_contain_text("maybe")
    looks_right(page, "simulator-phone")
    page.goto(f"{live_server.url}/incidents/{scene['incident'].pk}/")
    expect(page.locator('li[data-callsign="NEG-02"]')).to_contain_text("maybe")
