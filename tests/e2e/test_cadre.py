import pytest
from playwright.sync_api import expect

from tests.factories import login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_it_lets_a_coordinator_add_a_negotiator_through_the_form(
    page, live_server, coordinator_user, force
):
    login(page, live_server, "coord")
    page.get_by_role("link", name="Cadre", exact=True).click()
    expect(page.get_by_role("heading", name="Cadre")).to_be_visible()
    page.get_by_role("link", name="Add negotiator").click()

    page.get_by_label("Force").select_option(label="Home Constabulary")
    page.get_by_label("Callsign").fill("juliet-10")
    page.get_by_label("Full name").fill("Jonah Jarvis")
    page.get_by_label("Mobile").fill("07700 900310")
    page.get_by_label("Negotiator", exact=True).check()
    page.get_by_label("Kind").select_option(label="Initial course")
    page.get_by_label("Passed on").fill("2025-02-01")
    page.get_by_label("Valid until").fill("2028-01-31")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_text("Saved JULIET-10.")).to_be_visible()
    page.get_by_role("link", name="Cadre", exact=True).click()
    row = page.get_by_role("row").filter(has_text="JULIET-10")
    expect(row).to_contain_text("Jonah Jarvis")
    expect(row).to_contain_text("07700 900310")
    expect(row).to_contain_text("Deployable")
    assert page.console_errors == []


def test_it_refuses_a_negotiator_the_cadre_list(page, live_server, negotiator_user):
    login(page, live_server, "neg")
    expect(page.get_by_role("link", name="Cadre", exact=True)).to_have_count(0)
    response = page.goto(f"{live_server.url}/cadre/")
    assert response.status == 403
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()


def test_it_lets_a_negotiator_change_their_mobile_on_a_phone(
    phone_page, live_server, negotiator_user
):
    page = phone_page
    login(page, live_server, "neg")
    # On a phone the navigation is one "Menu" (no JavaScript: <details>).
    page.get_by_text("Menu").click()
    page.get_by_role("link", name="My profile").click()
    expect(page.get_by_role("heading", name="My accreditation")).to_be_visible()
    page.get_by_label("Your mobile number").fill("07700 900")
    page.get_by_role("button", name="Update mobile").click()
    expect(page.get_by_text("is not a valid phone number")).to_be_visible()
    page.get_by_label("Your mobile number").fill("07700 900456")
    page.get_by_role("button", name="Update mobile").click()
    expect(page.get_by_text("Your mobile number has been updated.")).to_be_visible()
    expect(page.get_by_label("Your mobile number")).to_have_value("07700 900456")
    # Nothing wider than the screen: no sideways scrolling on a phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.console_errors == []
