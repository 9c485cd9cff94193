"""A supervisor opens last quarter's figures (charts with their tables), the workload table,
records a welfare follow-up done and downloads the incident list as CSV; on a phone too."""

from datetime import datetime, time, timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cadre.rules import local_tz
from reports import rules
from reports.models import FollowUp
from tests.factories import login
from tests.reports.conftest import deploy, incident, step

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def last_quarter(force, cadre):
    """Three incidents last quarter; N-ONE went to two of them and awaits a follow-up."""
    period = rules.preset_period("quarter", timezone.localdate())
    made = []
    for n, day in enumerate([period.since + timedelta(days=d) for d in (3, 40, 70)]):
        raised = datetime.combine(day, time(14), local_tz())
        i = incident(
            force,
            raised,
            needs={"negotiator": 1},
            filled_at=raised + timedelta(minutes=4 + n),
            status="closed",
        )
        step(i, 1, 0, 3)
        deploy(i, cadre["n1"] if n < 2 else cadre["n2"], "negotiator", 4 + n, stood=180)
        made.append(i)
    return made


def no_sideways_scroll(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_it_takes_a_supervisor_through_figures_workload_welfare_and_an_export(
    page, live_server, last_quarter, supervisor_user, cadre, tmp_path
):
    login(page, live_server, "super")
    page.get_by_role("link", name="Figures").click()
    page.locator("select[name=preset]").select_option("quarter")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Last quarter")
    charts = page.locator("figure.chart svg[role=img]")
    expect(charts).to_have_count(2)
    expect(page.locator("figure.chart rect.bar").first).to_be_visible()
    expect(page.locator("table.monthly tbody tr")).to_have_count(3)
    expect(page.locator('table.people tr[data-callsign="N-ONE"]')).to_contain_text("2")
    expect(page.locator('table.shares tr[data-share="filled"]')).to_contain_text("3")
    page.screenshot(path=str(tmp_path / "figures-desktop.png"), full_page=True)

    page.get_by_role("link", name="Workload", exact=True).first.click()
    row = page.locator('table.workload tr[data-callsign="N-ONE"]')
    expect(row).to_be_visible()
    page.get_by_role("link", name="365 days").click()
    page.get_by_role("link", name="Deployments").click()
    expect(page.locator("table.workload tbody tr").first).to_have_attribute(
        "data-callsign", "N-ONE"
    )

    page.get_by_role("link", name="Welfare").click()
    owed = page.locator('table.owed tr[data-callsign="N-ONE"]')
    expect(owed).to_have_count(2)
    owed.first.get_by_role("link", name="Record").click()
    page.get_by_label("Done").check()
    page.get_by_label("Confidential note").fill("Spoke on the phone; fine.")
    page.get_by_role("button", name="Record").click()
    expect(page.locator(".messages")).to_contain_text("Follow-up of N-ONE recorded.")
    expect(page.locator('table.owed tr[data-callsign="N-ONE"]')).to_have_count(1)
    expect(page.locator("table.recorded")).to_contain_text("Spoke on the phone; fine.")
    assert FollowUp.objects.get().recorded_by == supervisor_user

    page.get_by_role("link", name="Incidents").click()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert text.startswith("reference,force,kind")
    assert all(i.reference in text for i in last_quarter)
    assert all(person.mobile not in text for person in cadre.values())
    assert page.console_errors == []


def test_it_fits_the_figures_and_workload_on_a_phone(
    phone_page, live_server, last_quarter, supervisor_user, tmp_path
):
    login(phone_page, live_server, "super")
    for path in ("/reports/?preset=quarter", "/reports/workload/", "/reports/welfare/", "/"):
        phone_page.goto(f"{live_server.url}{path}")
        assert no_sideways_scroll(phone_page), path
    phone_page.goto(f"{live_server.url}/reports/?preset=quarter")
    expect(phone_page.locator("figure.chart svg").first).to_be_visible()
    phone_page.screenshot(path=str(tmp_path / "figures-phone.png"), full_page=True)
    assert phone_page.console_errors == []
