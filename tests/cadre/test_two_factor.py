"""Two-factor login through the pages: the code after the password, setting up an
authenticator, recovery codes, throttling, turning it off, a coordinator's reset."""

import re
import time

import pytest
from django.contrib.admin.models import LogEntry
from django.test import override_settings
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from cadre import codes
from cadre.access import COORDINATOR, NEGOTIATOR, SUPERVISOR
from tests.factories import (
    app_code,
    make_force,
    make_membership,
    make_negotiator,
    make_two_factor,
    make_user,
)

pytestmark = pytest.mark.django_db

CODE_PAGE = reverse("two_factor_code")
SETUP_PAGE = reverse("two_factor_setup")


@pytest.fixture(autouse=True)
def required(settings):
    """The setting as production has it; tests about it being off turn it off."""
    settings.REQUIRE_TWO_FACTOR = True


def log_in(client, username, next_url=""):
    """The password step, as the login form posts it; the answer after its redirect."""
    data = {"username": username, "password": "pw", "next": next_url}
    return client.post(reverse("login"), data, follow=True)


def enter(client, code, next_url="/", address="127.0.0.1"):
    return client.post(CODE_PAGE, {"code": code, "next": next_url}, REMOTE_ADDR=address)


def landed(response):
    return response.request["PATH_INFO"]


def printed_codes(page):
    """The recovery codes a page shows, as stored (without the hyphen)."""
    found = re.findall(r"<li>([a-z2-7]{4})-([a-z2-7]{4})</li>", page.text)
    return [first + second for first, second in found]


def test_it_sends_a_coordinator_without_an_authenticator_to_set_one_up(coordinator_user, client):
    response = log_in(client, "coord", next_url="/cadre/")
    assert landed(response) == SETUP_PAGE
    assert response.context["next"] == "/cadre/"
    assert "Set up two-factor login" in response.text
    # Every other page sends them back there; the menu is not shown meanwhile.
    assert client.get("/cadre/")["Location"] == f"{SETUP_PAGE}?next=%2Fcadre%2F"
    assert client.get("/incidents/").status_code == 302
    assert 'href="/cadre/"' not in response.text


def test_it_sets_up_an_authenticator_and_shows_the_recovery_codes_once(coordinator_user, client):
    page = log_in(client, "coord", next_url="/cadre/")
    assert '<svg viewBox="' in page.text and 'class="qr"' in page.text
    device = TOTPDevice.objects.get(user=coordinator_user, confirmed=False)
    key = "".join(re.findall(r"<span>([A-Z2-7]{4})</span>", page.text))
    assert key == "".join(codes.key_groups(device.bin_key))
    assert "password" not in page.context["form"].fields  # typed a moment ago

    wrong = client.post(SETUP_PAGE, {"code": "000000", "next": "/cadre/"})
    assert "That code is not right" in wrong.text
    assert not TOTPDevice.objects.filter(user=coordinator_user, confirmed=True).exists()

    response = client.post(SETUP_PAGE, {"code": app_code(device), "next": "/cadre/"})
    assert response["Location"] == reverse("two_factor_recovery_codes") + "?next=%2Fcadre%2F"
    shown = client.get(response["Location"])
    printed = printed_codes(shown)
    assert len(printed) == 10
    stored = StaticToken.objects.filter(device__user=coordinator_user)
    assert set(printed) == set(stored.values_list("token", flat=True))
    assert 'href="/cadre/"' in shown.text  # "I have kept them: continue"
    again = client.get(reverse("two_factor_recovery_codes"))
    assert not printed_codes(again)
    assert "shown once" in again.text
    # Signed in with both factors: the pages open.
    assert client.get("/cadre/").status_code == 200
    assert LogEntry.objects.filter(object_id=str(coordinator_user.pk)).count() == 1


def test_it_asks_for_a_code_after_the_password_and_goes_where_next_pointed(
    coordinator_user, client
):
    device, _ = make_two_factor(coordinator_user)
    response = log_in(client, "coord", next_url="/cadre/")
    assert landed(response) == CODE_PAGE
    assert "Lost your phone?" in response.text
    assert client.get("/cadre/").status_code == 302
    response = enter(client, app_code(device), "/cadre/")
    assert response["Location"] == "/cadre/"
    assert client.get("/cadre/").status_code == 200


def test_it_says_a_wrong_code_is_wrong_and_lets_nobody_in(coordinator_user, client):
    device, _ = make_two_factor(coordinator_user)
    log_in(client, "coord")
    response = enter(client, "000000" if app_code(device) != "000000" else "111111")
    assert response.status_code == 200
    assert "That code is not right" in response.text
    response = enter(client, "12345")
    assert "6 digits your authenticator app shows" in response.text
    assert client.get("/cadre/")["Location"].startswith(CODE_PAGE)


def test_it_never_takes_an_off_site_next(coordinator_user, client):
    device, _ = make_two_factor(coordinator_user)
    log_in(client, "coord")
    assert enter(client, app_code(device), "https://evil.example/")["Location"] == "/"


def test_it_takes_a_recovery_code_once(coordinator_user, client):
    _, made = make_two_factor(coordinator_user)
    log_in(client, "coord")
    typed = codes.shown(made[0]).upper()  # as someone reads it off paper
    response = enter(client, typed)
    assert response["Location"] == "/"
    page = client.get("/")
    assert "You used a recovery code: 9 left" in page.text
    client.post(reverse("logout"))
    log_in(client, "coord")
    response = enter(client, typed)
    assert "That code is not right" in response.text
    assert enter(client, made[1])["Location"] == "/"


@override_settings(LOGIN_THROTTLE_ATTEMPTS=3)
def test_it_refuses_codes_after_too_many_wrong_ones_even_the_right_one(coordinator_user, client):
    device, made = make_two_factor(coordinator_user)
    log_in(client, "coord")
    for wrong in ("000001", "000002", "aaaa-aaaa"):
        enter(client, wrong)
    response = enter(client, app_code(device))
    assert response.status_code == 429
    assert "Too many wrong codes" in response.text
    assert enter(client, made[0]).status_code == 429
    assert client.get("/cadre/").status_code == 302
    # Another login, from elsewhere, is not held back (from the same address it is, as
    # for passwords: someone holding several passwords guesses no faster).
    other = make_user("coord2", [COORDINATOR], force=coordinator_user.memberships.get().force)
    second, _ = make_two_factor(other)
    client.post(reverse("logout"))
    log_in(client, "coord2")
    assert enter(client, app_code(second)).status_code == 429
    assert enter(client, app_code(second), address="10.0.0.9")["Location"] == "/"


def test_it_does_not_take_the_same_app_code_twice(coordinator_user, client):
    device, _ = make_two_factor(coordinator_user)
    code = app_code(device)
    log_in(client, "coord")
    assert enter(client, code)["Location"] == "/"
    client.post(reverse("logout"))
    log_in(client, "coord")
    assert "That code is not right" in enter(client, code).text


def test_it_treats_a_superuser_like_a_coordinator(client):
    admin = make_user("root")
    admin.is_superuser = admin.is_staff = True
    admin.save()
    assert landed(log_in(client, "root")) == SETUP_PAGE
    assert client.get("/admin/").status_code == 302


def test_it_asks_a_supervisor_too(supervisor_user, client):
    assert landed(log_in(client, "super")) == SETUP_PAGE


def test_it_asks_nothing_when_the_setting_is_off(settings, coordinator_user, client):
    settings.REQUIRE_TWO_FACTOR = False
    response = log_in(client, "coord")
    assert landed(response) == "/"
    assert client.get("/cadre/").status_code == 200


def test_it_asks_nothing_of_a_negotiator_who_has_not_opted_in(negotiator_user, client):
    assert landed(log_in(client, "neg")) == "/"


def test_it_lets_a_negotiator_opt_in_and_then_asks_them_for_a_code(negotiator_user, client):
    log_in(client, "neg")
    me = client.get(reverse("my_profile"))
    assert "Set up two-factor login" in me.text
    page = client.get(SETUP_PAGE)
    assert page.status_code == 200
    device = TOTPDevice.objects.get(user=negotiator_user)
    client.post(SETUP_PAGE, {"code": app_code(device)})
    me = client.get(reverse("my_profile"))
    assert "Recovery codes left: 10" in me.text
    assert "Turn off" in me.text
    client.post(reverse("logout"))
    assert landed(log_in(client, "neg")) == CODE_PAGE
    assert enter(client, app_code(device, ahead=1))["Location"] == "/"


def test_it_takes_a_code_typed_as_the_step_turns_and_the_next_login_still_works(
    negotiator_user, client, monkeypatch
):
    log_in(client, "neg")
    client.get(SETUP_PAGE)
    device = TOTPDevice.objects.get(user=negotiator_user)
    typed = app_code(device)
    now = time.time
    monkeypatch.setattr(time, "time", lambda: now() + device.step)
    client.post(SETUP_PAGE, {"code": typed})
    assert "Recovery codes left: 10" in client.get(reverse("my_profile")).text
    client.post(reverse("logout"))
    assert landed(log_in(client, "neg")) == CODE_PAGE
    assert enter(client, app_code(device, ahead=1))["Location"] == "/"


def test_it_lets_a_negotiator_turn_it_off_with_a_code(negotiator_user, client):
    device, _ = make_two_factor(negotiator_user)
    log_in(client, "neg")
    enter(client, app_code(device))
    off = reverse("two_factor_off")
    assert "Turn off two-factor login" in client.get(off).text
    response = client.post(off, {"code": "000000" if app_code(device, 1) != "000000" else "1"})
    assert response.status_code == 200
    assert TOTPDevice.objects.filter(user=negotiator_user).exists()
    response = client.post(off, {"code": app_code(device, ahead=1)})
    assert response["Location"] == reverse("my_profile")
    assert not TOTPDevice.objects.filter(user=negotiator_user).exists()
    assert not StaticToken.objects.filter(device__user=negotiator_user).exists()
    client.post(reverse("logout"))
    assert landed(log_in(client, "neg")) == "/"


def test_it_keeps_a_coordinator_from_turning_it_off_unless_the_setting_is_off(
    settings, coordinator_user, client
):
    device, _ = make_two_factor(coordinator_user)
    log_in(client, "coord")
    enter(client, app_code(device))
    off = reverse("two_factor_off")
    assert "Turn off" not in client.get(reverse("my_profile")).text
    response = client.post(off, {"code": app_code(device, ahead=1)})
    assert response.status_code == 403
    assert TOTPDevice.objects.filter(user=coordinator_user).exists()
    settings.REQUIRE_TWO_FACTOR = False
    assert client.post(off, {"code": app_code(device, ahead=1)}).status_code == 302
    assert not TOTPDevice.objects.filter(user=coordinator_user).exists()


def test_it_makes_new_recovery_codes_and_the_old_ones_stop_working(coordinator_user, client):
    device, old = make_two_factor(coordinator_user)
    log_in(client, "coord")
    enter(client, app_code(device))
    response = client.post(reverse("two_factor_recovery_codes"))
    shown = client.get(response["Location"])
    new = printed_codes(shown)
    assert len(new) == 10 and not set(new) & set(old)
    client.post(reverse("logout"))
    log_in(client, "coord")
    assert "That code is not right" in enter(client, old[0]).text
    assert enter(client, new[0])["Location"] == "/"


def test_it_asks_for_the_password_again_to_set_up_in_a_session_opened_long_ago(
    coordinator_user, client
):
    client.force_login(coordinator_user)  # no password typed in this session
    page = client.get(SETUP_PAGE)
    assert "password" in page.context["form"].fields
    device = TOTPDevice.objects.get(user=coordinator_user)
    response = client.post(SETUP_PAGE, {"code": app_code(device), "password": "nope"})
    assert "That is not your password" in response.text
    assert not TOTPDevice.objects.filter(user=coordinator_user, confirmed=True).exists()
    response = client.post(SETUP_PAGE, {"code": app_code(device), "password": "pw"})
    assert response.status_code == 302
    assert TOTPDevice.objects.filter(user=coordinator_user, confirmed=True).exists()


def test_it_never_lets_a_password_only_session_set_up_a_second_authenticator(
    coordinator_user, client
):
    make_two_factor(coordinator_user)
    log_in(client, "coord")
    response = client.get(SETUP_PAGE)
    assert response["Location"].startswith(CODE_PAGE)
    assert client.post(reverse("two_factor_recovery_codes"))["Location"].startswith(CODE_PAGE)
    assert client.post(reverse("two_factor_off"))["Location"].startswith(CODE_PAGE)
    assert TOTPDevice.objects.filter(user=coordinator_user).count() == 1


# A coordinator's reset ---------------------------------------------------------------------


@pytest.fixture
def member(force):
    """ALPHA-01 with a login and two-factor login on."""
    user = make_user("alpha", [NEGOTIATOR, SUPERVISOR], force=force)
    negotiator = make_negotiator(force, "ALPHA-01", user=user)
    make_two_factor(user)
    return negotiator


def reset(client, negotiator, confirm="yes"):
    url = reverse("two_factor_reset", args=[negotiator.pk])
    return client.post(url, {"confirm": confirm} if confirm else {})


def verified_coordinator(client, user):
    device, _ = make_two_factor(user)
    log_in(client, user.username)
    enter(client, app_code(device))


def test_it_lets_a_coordinator_reset_a_members_two_factor_login(coordinator_user, member, client):
    verified_coordinator(client, coordinator_user)
    page = client.get(reverse("negotiator_detail", args=[member.pk]))
    assert "Reset (lost phone)" in page.text
    asked = client.get(reverse("two_factor_reset", args=[member.pk]))
    assert "Yes, reset the two-factor login of ALPHA-01" in asked.text
    assert reset(client, member, confirm="").status_code == 200  # the box not ticked
    assert TOTPDevice.objects.filter(user=member.user).exists()

    response = reset(client, member)
    assert response["Location"] == reverse("negotiator_detail", args=[member.pk])
    assert not TOTPDevice.objects.filter(user=member.user).exists()
    assert not StaticToken.objects.filter(device__user=member.user).exists()
    entry = LogEntry.objects.filter(object_id=str(member.user.pk)).latest("action_time")
    assert entry.user == coordinator_user
    assert "reset by coord" in entry.change_message
    # At their next login they set it up again.
    client.post(reverse("logout"))
    assert landed(log_in(client, "alpha")) == SETUP_PAGE


def test_it_logs_the_member_out_everywhere_when_their_two_factor_login_is_reset(
    coordinator_user, member, client
):
    from django.test import Client

    lost_phone, own_laptop = Client(), Client()
    for ahead, device in enumerate((lost_phone, own_laptop)):
        log_in(device, "alpha")
        enter(device, app_code(TOTPDevice.objects.get(user=member.user), ahead=ahead))
        assert device.get(reverse("my_shifts")).status_code == 200
    verified_coordinator(client, coordinator_user)
    assert reset(client, member).status_code == 302

    for device in (lost_phone, own_laptop):
        response = device.get(reverse("my_shifts"))
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert client.get(reverse("negotiator_detail", args=[member.pk])).status_code == 200
    entry = LogEntry.objects.filter(object_id=str(member.user.pk)).latest("action_time")
    assert "2 open session(s) ended" in entry.change_message


def test_it_refuses_a_reset_to_another_forces_coordinator(member, client):
    other = make_force("Other Constabulary", "OTH")
    outsider = make_user("outsider", [COORDINATOR], force=other)
    verified_coordinator(client, outsider)
    assert reset(client, member).status_code == 404
    assert client.get(reverse("two_factor_reset", args=[member.pk])).status_code == 404
    assert TOTPDevice.objects.filter(user=member.user).exists()


def test_it_refuses_a_coordinator_their_own_reset(force, client):
    user = make_user("self", [COORDINATOR], force=force)
    record = make_negotiator(force, "SELF-01", user=user)
    verified_coordinator(client, user)
    response = reset(client, record)
    assert response.status_code == 403
    assert "cannot reset your own" in response.text
    assert TOTPDevice.objects.filter(user=user).exists()


def test_it_refuses_a_reset_of_a_login_that_also_belongs_to_a_force_one_does_not_coordinate(
    coordinator_user, member, client
):
    make_membership(member.user, make_force("Other Constabulary", "OTH"), SUPERVISOR)
    verified_coordinator(client, coordinator_user)
    response = reset(client, member)
    assert response.status_code == 403
    assert TOTPDevice.objects.filter(user=member.user).exists()


def test_it_refuses_a_reset_to_a_supervisor(supervisor_user, member, client):
    verified_coordinator(client, supervisor_user)
    assert reset(client, member).status_code == 403
    assert TOTPDevice.objects.filter(user=member.user).exists()


@pytest.mark.postgres("simultaneous requests, each on its own connection")
def test_it_checks_only_five_of_40_simultaneous_wrong_codes(transactional_db, client):
    from django.test import Client

    from tests.cadre.test_auth import simultaneous

    user = make_user("coord", [COORDINATOR], force=make_force("Home Constabulary", "HOME"))
    make_two_factor(user)
    log_in(client, "coord")
    session = client.cookies

    def wrong_code(i):
        other = Client()
        other.cookies.load({name: morsel.value for name, morsel in session.items()})
        return enter(other, f"{i:06d}").status_code

    statuses = simultaneous(40, wrong_code)
    assert len(statuses) == 40
    assert statuses.count(200) == 5  # checked, and wrong
    assert statuses.count(429) == 35


@pytest.mark.parametrize("target", ["dashboard-x", "junk'\"<b>", "-1", "javascript:alert(1)"])
def test_it_goes_to_the_dashboard_for_a_next_that_is_not_a_path(client, target):
    user = make_user("neg", [NEGOTIATOR], force=make_force("Home Constabulary", "HOME"))
    client.force_login(user)
    response = client.get(CODE_PAGE, {"next": target})
    assert response.status_code == 302
    assert response["Location"] == "/"
