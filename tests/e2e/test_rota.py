from datetime import date, time, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from roster import services
from roster.models import CoverageRule, RotationPattern
from roster.queries import rota_for
from roster.rules import at_local
from tests.e2e.conftest import accessible, looks_right
from tests.factories import login, make_negotiator, make_unavailability

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

MARCH = "/rota/board/?view=month&at=2027-03-01"


def cell(page, day, role="negotiator"):
    """A day's role cell: a table cell in the week, a block of the calendar in the month."""
    return page.locator(f'.cell[data-day="{day}"][data-role="{role}"]')


def test_it_lets_a_coordinator_generate_a_month_and_fill_a_gap_by_cover(
    page, live_server, coordinator_user, negotiator_user, force
):
    rota = rota_for(force)
    CoverageRule.objects.create(rota=rota, role="coordinator", minimum=0)
    others = [make_negotiator(force, callsign=f"N{i}") for i in (2, 3, 4)]
    alpha = negotiator_user.negotiator
    RotationPattern.objects.create(
        rota=rota,
        name="Negotiators weekly",
        role="negotiator",
        on_at_once=2,
        starts_on=date(2027, 3, 1),
        order=[alpha.pk] + [n.pk for n in others],
    )
    # N3 is rostered the week of 8 March but off sick on Wednesday the 10th.
    make_unavailability(
        others[1],
        start=at_local(date(2027, 3, 10), time(0)),
        end=at_local(date(2027, 3, 11), time(0)),
        reason="sickness",
    )

    login(page, live_server, "coord")
    page.goto(f"{live_server.url}{MARCH}")
    page.get_by_role("button", name="Generate from a rotation").click()
    page.get_by_label("Pattern").select_option(label="Negotiators weekly")
    expect(page.get_by_label("From")).to_have_value("2027-03-01")
    page.get_by_role("button", name="Generate", exact=True).click()
    # N3's sickness is a warning: the coordinator goes ahead, giving a reason.
    expect(page.get_by_role("alert")).to_contain_text("N3 is unavailable")
    page.get_by_label("Reason to override the warnings").fill("Will arrange cover")
    page.get_by_role("button", name="Generate anyway").click()
    expect(page.get_by_role("status")).to_contain_text("Generated 10 negotiator shifts")

    gap_day = cell(page, "2027-03-10")
    expect(gap_day).to_have_class("cell gap")
    expect(gap_day).to_contain_text("rostered but unavailable")
    expect(cell(page, "2027-03-09")).to_have_class("cell")

    gap_day.get_by_role("button", name="N3").click()
    cover = page.locator("form.cover-form")
    cover.get_by_label("Covered by").select_option(label="N2")
    cover.get_by_label("Start").fill("2027-03-10T00:00")
    cover.get_by_label("End").fill("2027-03-11T00:00")
    cover.get_by_role("button", name="Cover").click()

    expect(page.get_by_role("status")).to_contain_text("N2 covers N3")
    expect(cell(page, "2027-03-10")).to_have_class("cell")
    expect(cell(page, "2027-03-10")).to_contain_text("N2")

    # The negotiator marks a day unavailable for themselves...
    page.get_by_role("button", name="Log out").click()
    login(page, live_server, "neg")
    page.get_by_role("link", name="My shifts").click()
    page.get_by_label("Start").fill("2027-03-16T00:00")
    page.get_by_label("End").fill("2027-03-17T00:00")
    page.get_by_label("Reason").select_option(label="Leave")
    page.get_by_role("button", name="Mark unavailable").click()
    expect(page.get_by_text("Marked unavailable.")).to_be_visible()

    # ...and the coordinator's rota shows the conflict on their shift.
    page.get_by_role("button", name="Log out").click()
    login(page, live_server, "coord")
    page.goto(f"{live_server.url}{MARCH}")
    clash = cell(page, "2027-03-16")
    expect(clash.locator(".chip.conflict")).to_contain_text("ALPHA-01 is unavailable")
    expect(clash).to_have_class("cell gap")
    assert page.console_errors == []


def test_it_lets_a_coordinator_change_and_end_a_rotation(
    sized, live_server, coordinator_user, force
):
    """At 390 px and 1366 px: the rotations page, changing one (its upcoming shifts follow),
    undoing that from the rota, ending it; the month as a calendar at a desk."""
    page = sized
    rota = rota_for(force)
    people = [make_negotiator(force, callsign=f"ROT-{i}") for i in (1, 2, 3, 4)]
    today = timezone.localdate()
    monday = today - timedelta(days=today.weekday())
    pattern = RotationPattern.objects.create(
        rota=rota,
        name="Negotiators weekly",
        role="negotiator",
        starts_on=monday - timedelta(weeks=2),
        order=[people[0].pk, people[1].pk],
    )
    services.generate(
        rota, pattern, monday - timedelta(weeks=2), monday + timedelta(weeks=6), by=coordinator_user
    )
    login(page, live_server, "coord")
    page.goto(f"{live_server.url}/rota/patterns/")
    looks_right(page, "rotations-list")
    accessible(page, "rotations-list")
    page.get_by_role("link", name="Negotiators weekly").click()
    expect(page.locator(".what-happens")).to_contain_text("upcoming shifts")
    looks_right(page, "rotation-edit")
    accessible(page, "rotation-edit")

    page.get_by_label("Callsigns").fill("ROT-3 ROT-4")
    page.get_by_role("button", name="Save the rotation").click()
    expect(page.get_by_text("Rotation “Negotiators weekly” changed")).to_be_visible()
    looks_right(page, "rotations-changed")
    # A Wednesday three weeks on: ROT-2's week (the sixth), now ROT-4's.
    later = (monday + timedelta(weeks=3, days=2)).isoformat()
    page.goto(f"{live_server.url}/rota/board/?view=week&at={later}")
    expect(cell(page, later)).to_contain_text("ROT-4")
    expect(cell(page, later)).not_to_contain_text("ROT-2")

    # Undo names the rotation change and puts the shifts back.
    page.get_by_role("button", name="Undo: Rotation “Negotiators weekly” changed").click()
    expect(page.get_by_role("status")).to_contain_text("Undid: Rotation")
    expect(cell(page, later)).to_contain_text("ROT-2")

    page.goto(f"{live_server.url}/rota/patterns/{pattern.pk}/")
    page.get_by_label("Yes, end this rotation").check()
    page.get_by_role("button", name="End the rotation").click()
    expect(page.get_by_text("Rotation “Negotiators weekly” ended")).to_be_visible()
    expect(page.locator("tr.ended")).to_contain_text("ended")
    page.goto(f"{live_server.url}/rota/board/?view=week&at={later}")
    expect(cell(page, later)).not_to_contain_text("ROT-")

    page.goto(f"{live_server.url}/rota/board/?view=month&at={monday.isoformat()}")
    looks_right(page, "rota-month-calendar")
    accessible(page, "rota-month-calendar")
    height = page.evaluate("document.documentElement.scrollHeight")
    if page.size_name == "desktop":
        assert height < 2000, f"the month is {height}px tall at a desk"
    assert page.console_errors == []


def test_it_lets_a_coordinator_withdraw_an_unavailability_and_undo_it(
    sized, live_server, coordinator_user, force
):
    page = sized
    person = make_negotiator(force, callsign="AWAY-1")
    start = at_local(timezone.localdate() + timedelta(days=3), time(0))
    make_unavailability(person, start=start, days=2, reason="leave")
    login(page, live_server, "coord")
    page.goto(f"{live_server.url}/rota/unavailable/")
    looks_right(page, "rota-unavailability")
    accessible(page, "rota-unavailability")
    page.locator(".absences").get_by_role("link", name="Withdraw…").click()
    page.get_by_label("Yes, withdraw it").check()
    page.get_by_role("button", name="Withdraw the unavailability").click()
    expect(page.get_by_role("status")).to_contain_text("AWAY-1 available again")
    page.get_by_role("button", name="Undo: AWAY-1 available again").click()
    expect(page.get_by_role("status")).to_contain_text("Undid: AWAY-1 available again")
    expect(page.locator(".undo")).to_have_count(0)
    assert page.console_errors == []
