"""Two-factor login in the browser, at desktop and phone size: a coordinator logs in, sets up
an authenticator from the key the page shows, keeps the recovery codes, and logs in again
with a code computed here as the app would."""

import re
import time
from base64 import b32decode

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from cadre.access import NEGOTIATOR
from tests.e2e.conftest import looks_right
from tests.factories import login, make_negotiator, make_two_factor, make_user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def app_code(key: str, ahead: int = 0) -> str:
    """What an authenticator app given `key` (base32, as typed) shows, `ahead` steps on."""
    totp = TOTP(b32decode(key), step=30, t0=0, digits=6)
    totp.time = time.time() + 30 * ahead
    return f"{totp.token():06d}"


def password_step(page, live_server, next_path="/"):
    page.goto(f"{live_server.url}/login/?next={next_path}")
    page.get_by_label("Username").fill("coord")
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Log in").click()


def test_it_sets_up_two_factor_login_and_logs_in_with_a_code(
    sized, live_server, settings, coordinator_user
):
    settings.REQUIRE_TWO_FACTOR = True
    page = sized
    password_step(page, live_server, "/cadre/")
    expect(page.get_by_role("heading", name="Set up two-factor login")).to_be_visible()
    expect(page.locator("svg.qr")).to_be_visible()
    looks_right(page, "two-factor-setup")
    key = re.sub(r"\s", "", page.locator("#setup-key").inner_text())
    assert len(key) == 32

    page.get_by_label("The 6-digit code the app shows").fill(app_code(key))
    page.get_by_role("button", name="Turn on two-factor login").click()
    expect(page.get_by_role("heading", name="Recovery codes")).to_be_visible()
    recovery = page.locator("#recovery-codes li")
    expect(recovery).to_have_count(10)
    looks_right(page, "two-factor-recovery-codes")
    page.get_by_role("link", name="I have kept them: continue").click()
    page.wait_for_url(f"{live_server.url}/cadre/")

    page.context.clear_cookies()  # a new day, a new session
    password_step(page, live_server, "/cadre/")
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    expect(page.locator("#lost-phone")).to_contain_text("recovery codes")
    looks_right(page, "two-factor-code")
    page.get_by_label("Code").fill("000000" if app_code(key, 1) != "000000" else "111111")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text("That code is not right")).to_be_visible()
    # The code setting up used is spent: the app's next one is taken (one step ahead is).
    page.get_by_label("Code").fill(app_code(key, ahead=1))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{live_server.url}/cadre/")
    page.goto(f"{live_server.url}/cadre/me/")
    expect(page.locator("#two-factor + p")).to_contain_text("Recovery codes left: 10")
    looks_right(page, "my-profile-two-factor")


def test_it_lets_a_coordinator_reset_a_members_two_factor_login(
    sized, live_server, coordinator_user, force
):
    member = make_user("alpha", [NEGOTIATOR], force=force)
    record = make_negotiator(force, "ALPHA-01", user=member)
    make_two_factor(member)
    page = sized
    login(page, live_server, "coord")
    page.goto(f"{live_server.url}/cadre/{record.pk}/")
    looks_right(page, "cadre-detail-two-factor")
    page.get_by_role("link", name="Reset (lost phone)…").click()
    looks_right(page, "two-factor-reset")
    page.get_by_label("Yes, reset the two-factor login of ALPHA-01").check()
    page.get_by_role("button", name="Reset two-factor login").click()
    expect(page.get_by_text("ALPHA-01's two-factor login is reset")).to_be_visible()
    expect(page.locator(".facts")).to_contain_text("Off")
    assert not TOTPDevice.objects.filter(user=member).exists()
