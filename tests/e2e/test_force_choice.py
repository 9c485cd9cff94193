"""A regional supervisor covering two forces chooses which one a page is about."""

import pytest
from playwright.sync_api import expect

from cadre.access import SUPERVISOR
from tests.factories import login, make_force, make_negotiator, make_user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def regional(db):
    wessex = make_force("Wessex Constabulary", "WSX")
    avonmoor = make_force("Avonmoor Police", "AVM")
    make_force("Downshire Constabulary", "DSH")  # not theirs: never offered
    for n in range(1, 4):
        make_negotiator(wessex, f"ALPHA-0{n}")
    make_negotiator(avonmoor, "KESTREL-01")
    return make_user("regional", [SUPERVISOR], forces=[wessex, avonmoor])


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_it_lets_a_regional_supervisor_choose_the_force_of_the_rota(
    request, live_server, regional, size
):
    page = request.getfixturevalue("page" if size == "desktop" else "phone_page")
    login(page, live_server, "regional")
    page.goto(f"{live_server.url}/cadre/me/")
    expect(page.locator('tr[data-force="WSX"]')).to_contain_text("Supervisor")
    expect(page.locator('tr[data-force="AVM"]')).to_contain_text("Supervisor")

    page.goto(f"{live_server.url}/rota/board/")
    expect(page.get_by_role("heading", name="Choose a force")).to_be_visible()
    expect(page.get_by_role("link", name="Downshire Constabulary (DSH)")).to_have_count(0)
    page.get_by_role("link", name="Avonmoor Police (AVM)").click()
    expect(page.get_by_role("heading", name="Rota AVM")).to_be_visible()

    # Remembered: the rota opens on Avonmoor, and the switch goes to Wessex.
    page.goto(f"{live_server.url}/rota/board/")
    expect(page.get_by_role("heading", name="Rota AVM")).to_be_visible()
    page.get_by_role("navigation", name="Force").get_by_role("link", name="WSX").click()
    expect(page.get_by_role("heading", name="Rota WSX")).to_be_visible()

    # The register shows both forces' callsigns, and no names or mobiles to a supervisor.
    page.goto(f"{live_server.url}/cadre/")
    expect(page.get_by_role("link", name="KESTREL-01")).to_be_visible()
    expect(page.get_by_role("link", name="ALPHA-01")).to_be_visible()
    expect(page.get_by_role("columnheader", name="Mobile")).to_have_count(0)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"] + 1 or size == "desktop"
    assert page.console_errors == []
