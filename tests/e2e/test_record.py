"""A supervisor reviews a stood-down incident: who went per role, the timeline in order, and
the printed debrief document."""

import re

import pytest
from django.test import Client
from django.urls import reverse
from playwright.sync_api import expect

from callouts.engine.policy import create_default_policy
from callouts.models import Incident
from tests.factories import (
    answer_all_replies,
    login,
    make_negotiator,
    post_sms,
    put_on,
    raise_incident,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def stood_down(force, coordinator_user):
    """An incident filled by SMS replies, then stood down by the coordinator."""
    from datetime import timedelta

    from django.utils import timezone

    from callouts import services

    create_default_policy(force)
    now = timezone.now()
    people = {
        "NEG-ONE": make_negotiator(force, "NEG-ONE"),
        "NEG-TWO": make_negotiator(force, "NEG-TWO"),
        "COORD-ONE": make_negotiator(force, "COORD-ONE", roles=("coordinator",)),
    }
    for callsign, person in people.items():
        role = "coordinator" if callsign.startswith("COORD") else "negotiator"
        put_on(person, role, start=now - timedelta(hours=1), end=now + timedelta(hours=12))
    incident = raise_incident(force, by=coordinator_user)
    from callouts.engine import steps

    steps.fire_and_send(incident.pk, 0)
    twilio = Client()
    for sid, (callsign, body) in enumerate(
        [("NEG-ONE", "Y 20"), ("NEG-TWO", "Y"), ("COORD-ONE", "Y 15"), ("NEG-ONE", "ETA 10")]
    ):
        post_sms(twilio, people[callsign], body, sid=f"SM{sid}")
        answer_all_replies()
    assert Incident.objects.get().status == "filled"
    services.stand_down(incident, by=coordinator_user)
    return incident


def test_it_shows_a_supervisor_who_went_and_prints_the_timeline(
    page, live_server, stood_down, supervisor_user
):
    login(page, live_server, "super")
    page.goto(f"{live_server.url}{reverse('incident_list')}")
    row = page.locator(f'tr[data-reference="{stood_down.reference}"]')
    expect(row).to_contain_text("Stood down")
    expect(row.locator("td.went")).to_contain_text("NEG-ONE")
    expect(row.locator("td.went")).to_contain_text("COORD-ONE")
    row.get_by_role("link", name=stood_down.reference).click()

    expect(page.locator('[data-status="stood_down"]')).to_have_text("Stood down")
    negotiators = page.locator('[data-role-line="negotiator"]')
    expect(negotiators).to_contain_text("2 of 2")
    # Stood down: that, not the ETA they gave while on their way.
    expect(negotiators.locator('li[data-callsign="NEG-ONE"]')).to_contain_text("stood down")
    expect(negotiators.locator('li[data-callsign="NEG-ONE"]')).not_to_contain_text("ETA")
    expect(page.locator('[data-role-line="coordinator"]')).to_contain_text("COORD-ONE")
    expect(page.locator(".escalation")).to_contain_text("Escalation stopped")

    page.get_by_role("link", name="Timeline").click()
    expect(page).to_have_url(re.compile(r"/timeline/$"))
    went = page.locator("table.went")
    for callsign, role in (
        ("NEG-ONE", "negotiator"),
        ("NEG-TWO", "negotiator"),
        ("COORD-ONE", "coordinator"),
    ):
        person = went.locator(f'tr[data-callsign="{callsign}"]')
        expect(person).to_have_attribute("data-role", role)
        expect(person.locator('td[data-label="Accepted"]')).to_have_text(re.compile(r"\d\d:\d\d"))
        expect(person.locator('td[data-label="Stood down"]')).to_contain_text("by coord")
    lines = page.locator("table.timeline tbody tr")
    kinds = lines.evaluate_all("rows => rows.map(r => r.dataset.kind)")
    assert kinds[0] == "raised"
    assert kinds.index("accepted") < kinds.index("filled") < kinds.index("stood_down")
    clock_times = lines.locator("td.clock").all_inner_texts()
    assert clock_times == sorted(clock_times)
    since = lines.locator("td.since").all_inner_texts()
    assert since[0] == "T+0:00" and all(re.fullmatch(r"T\+\d+:\d\d", s) for s in since)
    expect(lines.filter(has_text="ETA updated to 10 min")).to_have_count(1)

    page.emulate_media(media="print")
    expect(page.locator("header.topbar")).to_be_hidden()
    expect(page.get_by_role("button", name="Print")).to_be_hidden()
    expect(page.locator("form.filters")).to_be_hidden()
    expect(page.locator("table.timeline")).to_be_visible()
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF") and len(pdf) > 5_000
    assert page.console_errors == []


def test_it_fits_the_board_list_and_timeline_on_a_phone(
    phone_page, live_server, stood_down, supervisor_user
):
    login(phone_page, live_server, "super")
    for url in (
        reverse("incident_board", args=[stood_down.pk]),
        reverse("incident_timeline", args=[stood_down.pk]),
        reverse("incident_list"),
    ):
        phone_page.goto(f"{live_server.url}{url}")
        width = phone_page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, (url, width)
        # Nor sideways inside a table's own scroll box: the cards fit the screen.
        wider = phone_page.evaluate(
            "[...document.querySelectorAll('.table-wrap')]"
            ".filter(w => w.scrollWidth > w.clientWidth).map(w => w.scrollWidth)"
        )
        assert wider == [], (url, wider)
    assert phone_page.console_errors == []
