import pytest
from django.contrib.auth.models import Group, User
from django.test import override_settings
from django.urls import reverse

from tests.factories import make_user

pytestmark = pytest.mark.django_db


def log_in(client, username, password, address="10.0.0.1"):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address
    )


def logged_in_as(client) -> str | None:
    """The username the client's session is logged in as, or None."""
    pk = client.session.get("_auth_user_id")
    return User.objects.get(pk=pk).username if pk else None


def test_it_keeps_roles_in_memberships_not_global_groups():
    assert not Group.objects.filter(name__in=["Coordinator", "Supervisor", "Negotiator"]).exists()


def test_it_logs_in_and_lands_on_the_dashboard(client):
    make_user("kim", password="a-long-password")
    response = log_in(client, "kim", "a-long-password")
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard")


def test_it_says_the_password_is_wrong(client):
    make_user("kim", password="a-long-password")
    response = log_in(client, "kim", "nope")
    assert response.status_code == 200
    assert "correct username and password" in response.text


@override_settings(LOGIN_THROTTLE_ATTEMPTS=3)
def test_it_blocks_a_username_after_too_many_failures_even_with_the_right_password(client):
    make_user("kim", password="a-long-password")
    for i in range(3):
        log_in(client, "kim", "wrong", address=f"10.0.0.{i}")
    response = log_in(client, "kim", "a-long-password", address="10.9.9.9")
    assert response.status_code == 429
    assert "Too many failed log-in attempts" in response.text
    assert "_auth_user_id" not in client.session


@override_settings(LOGIN_THROTTLE_ATTEMPTS=3)
def test_it_blocks_an_address_trying_many_usernames(client):
    make_user("kim", password="a-long-password")
    for name in ("a", "b", "c"):
        log_in(client, name, "guess")
    assert log_in(client, "kim", "a-long-password").status_code == 429
    assert "_auth_user_id" not in client.session
    # Someone else, from elsewhere, is not affected.
    assert log_in(client, "kim", "a-long-password", address="10.0.0.2").status_code == 302
    assert logged_in_as(client) == "kim"


@override_settings(LOGIN_THROTTLE_ATTEMPTS=3)
def test_it_forgives_a_username_after_a_good_login(client):
    make_user("kim", password="a-long-password")
    for i in range(2):
        log_in(client, "kim", "wrong", address=f"10.1.0.{i}")
    assert log_in(client, "kim", "a-long-password", address="10.2.0.1").status_code == 302
    client.logout()
    for i in range(2):
        log_in(client, "kim", "wrong", address=f"10.3.0.{i}")
    assert log_in(client, "kim", "a-long-password", address="10.4.0.1").status_code == 302
    assert logged_in_as(client) == "kim"


def test_it_logs_out_on_post(client):
    user = make_user("kim")
    client.force_login(user)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("dashboard"))["Location"].startswith(reverse("login"))


def test_it_changes_the_password(client):
    user = make_user("kim", password="a-long-password")
    client.force_login(user)
    assert client.get(reverse("password_change")).status_code == 200
    response = client.post(
        reverse("password_change"),
        {
            "old_password": "a-long-password",
            "new_password1": "another-long-passphrase",
            "new_password2": "another-long-passphrase",
        },
        follow=True,
    )
    assert "Password changed" in response.text
    user.refresh_from_db()
    assert user.check_password("another-long-passphrase")


def test_it_shows_a_friendly_404_page(coordinator_client):
    response = coordinator_client.get("/cadre/999999/")
    assert response.status_code == 404
    assert "Not found" in response.text
    assert "Back to the dashboard" in response.text


@override_settings(LOGIN_THROTTLE_ATTEMPTS=2)
def test_it_sends_the_admin_login_through_the_throttled_page(client):
    User.objects.create_superuser("root", password="a-long-password")
    response = client.get("/admin/login/?next=/admin/")
    assert response["Location"] == "/login/?next=/admin/"
    for _ in range(2):
        log_in(client, "root", "wrong")
    assert log_in(client, "root", "a-long-password").status_code == 429
    response = client.post(
        "/login/?next=/admin/",
        {"username": "root", "password": "a-long-password", "next": "/admin/"},
        REMOTE_ADDR="10.7.7.7",
    )
    assert response.status_code == 429  # the username is still blocked


def test_it_lets_a_superuser_into_the_admin_after_logging_in(client):
    User.objects.create_superuser("root", password="a-long-password")
    response = client.post(
        "/login/", {"username": "root", "password": "a-long-password", "next": "/admin/"}
    )
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


@override_settings(LOGIN_THROTTLE_ATTEMPTS=1)
def test_it_logs_a_throttled_login_for_the_security_record(client, caplog):
    log_in(client, "kim", "wrong")
    with caplog.at_level("WARNING", logger="standby.security"):
        log_in(client, "kim", "again")
    assert "Login refused (throttled): username='kim' address=10.0.0.1" in caplog.text


@override_settings(LOGIN_THROTTLE_ATTEMPTS=3)
def test_it_throttles_guesses_of_the_old_password(client):
    user = make_user("kim", password="a-long-password")
    client.force_login(user)
    change = {
        "new_password1": "another-long-passphrase",
        "new_password2": "another-long-passphrase",
    }
    for guess in ("guess-1", "guess-2", "guess-3"):
        response = client.post(reverse("password_change"), {"old_password": guess, **change})
        assert response.status_code == 200
    response = client.post(
        reverse("password_change"), {"old_password": "a-long-password", **change}
    )
    assert response.status_code == 429
    assert "Too many wrong current passwords" in response.text
    user.refresh_from_db()
    assert user.check_password("a-long-password")  # the right guess changed nothing


@override_settings(LOGIN_THROTTLE_ATTEMPTS=2)
def test_it_counts_failures_in_the_database_shared_by_every_process(client):
    from cadre.models import FailureCount

    make_user("kim", password="a-long-password")
    log_in(client, "kim", "wrong-1")
    log_in(client, "kim", "wrong-2")
    assert FailureCount.objects.filter(key__startswith="login-fail:user:").get().count == 2
    assert log_in(client, "kim", "a-long-password", address="10.9.9.9").status_code == 429


def moved_clock(monkeypatch, start):
    """timezone.now() reads from a clock a test moves: clock["now"] = ..."""
    from django.utils import timezone

    clock = {"now": start}
    monkeypatch.setattr(timezone, "now", lambda: clock["now"])
    return clock


def test_it_counts_the_window_from_the_first_failure_not_the_last(client, monkeypatch):
    from datetime import timedelta

    from django.utils import timezone

    make_user("kim", password="a-long-password")
    first = timezone.now()
    clock = moved_clock(monkeypatch, first)
    for i in range(5):  # five wrong passwords, one a minute
        clock["now"] = first + timedelta(minutes=i)
        assert log_in(client, "kim", "wrong", address=f"10.5.0.{i}").status_code == 200
    # Ten minutes after the last failure, but only 14 after the first: still refused, and
    # the page says how long is really left.
    clock["now"] = first + timedelta(minutes=14, seconds=10)
    response = log_in(client, "kim", "a-long-password", address="10.6.0.1")
    assert response.status_code == 429
    assert "Wait 1 minute before" in response.text
    clock["now"] = first + timedelta(minutes=10)
    assert "Wait 5 minutes before" in log_in(client, "kim", "a-long-password").text
    # The window from the first failure is over: the right password works.
    clock["now"] = first + timedelta(minutes=15, seconds=1)
    assert log_in(client, "kim", "a-long-password", address="10.6.0.2").status_code == 302


def test_it_says_the_minutes_until_every_window_that_refuses_has_ended(client, monkeypatch):
    from datetime import timedelta

    from django.utils import timezone

    make_user("kim", password="a-long-password")
    first = timezone.now()
    clock = moved_clock(monkeypatch, first)
    for i in range(5):  # kim's username: five failures from the first minute on
        assert log_in(client, "kim", "wrong", address=f"10.5.0.{i}").status_code == 200
    clock["now"] = first + timedelta(minutes=10)
    for i in range(5):  # one address: five failures ten minutes later
        assert log_in(client, f"someone{i}", "wrong", address="10.9.9.9").status_code == 200
    # Both refuse: the address's window is the one that ends last, 13 minutes on.
    clock["now"] = first + timedelta(minutes=12)
    response = log_in(client, "kim", "a-long-password", address="10.9.9.9")
    assert response.status_code == 429
    assert "Wait 13 minutes before" in response.text


def test_it_does_not_extend_the_window_with_attempts_refused_inside_it(client, monkeypatch):
    from datetime import timedelta

    from django.utils import timezone

    make_user("kim", password="a-long-password")
    first = timezone.now()
    clock = moved_clock(monkeypatch, first)
    for _ in range(5):
        log_in(client, "kim", "wrong")
    for minute in range(1, 15):  # a guess a minute while refused
        clock["now"] = first + timedelta(minutes=minute)
        assert log_in(client, "kim", "wrong").status_code == 429
    clock["now"] = first + timedelta(minutes=15, seconds=1)
    assert log_in(client, "kim", "a-long-password").status_code == 302
    assert logged_in_as(client) == "kim"


@override_settings(LOGIN_THROTTLE_ATTEMPTS=3)
def test_it_does_not_count_a_right_password_against_its_address(client):
    for name in ("kim", "lee", "max"):
        make_user(name, password="a-long-password")
    for name in ("kim", "lee", "max", "kim"):
        assert log_in(client, name, "a-long-password").status_code == 302
        assert logged_in_as(client) == name
        client.logout()


@override_settings(LOGIN_THROTTLE_ATTEMPTS=3)
def test_it_does_not_count_a_password_change_with_the_right_old_password(client):
    user = make_user("kim", password="a-long-password")
    client.force_login(user)
    for _ in range(4):  # the new passwords do not match: the old one was right each time
        response = client.post(
            reverse("password_change"),
            {"old_password": "a-long-password", "new_password1": "x", "new_password2": "y"},
        )
        assert response.status_code == 200
    user.refresh_from_db()
    assert user.check_password("a-long-password")  # refused: the new ones did not match
    # Not throttled: a change whose new passwords match is taken.
    response = client.post(
        reverse("password_change"),
        {
            "old_password": "a-long-password",
            "new_password1": "another-long-password",
            "new_password2": "another-long-password",
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("another-long-password")


def test_it_says_the_minutes_left_from_first_failure_rounded_up():
    from datetime import UTC, datetime, timedelta

    from cadre.throttle import minutes_left

    start = datetime(2026, 1, 1, tzinfo=UTC)
    assert minutes_left(start, start, 900) == 15
    assert minutes_left(start, start + timedelta(seconds=61), 900) == 14
    assert minutes_left(start, start + timedelta(seconds=899), 900) == 1
    assert minutes_left(start, start + timedelta(seconds=2000), 900) == 1


def test_it_forgets_counters_whose_window_has_ended(client, monkeypatch):
    from datetime import timedelta

    from django.utils import timezone

    from cadre import throttle
    from cadre.models import FailureCount

    clock = moved_clock(monkeypatch, timezone.now())
    log_in(client, "kim", "wrong")
    assert FailureCount.objects.count() == 2  # the username and the address
    assert throttle.forget_expired(clock["now"] + timedelta(minutes=14)) == 0
    assert throttle.forget_expired(clock["now"] + timedelta(minutes=15)) == 2


def simultaneous(count, post):
    """`count` requests at the same moment, each through its own Client: their statuses."""
    import threading

    from django.db import connections

    start = threading.Barrier(count)
    statuses = []

    def one(i):
        try:
            start.wait()
            statuses.append(post(i))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return statuses


@pytest.mark.postgres("simultaneous requests, each on its own connection")
def test_it_checks_only_five_of_40_simultaneous_wrong_passwords(transactional_db):
    from django.test import Client

    make_user("kim", password="a-long-password")
    statuses = simultaneous(40, lambda i: log_in(Client(), "kim", "wrong").status_code)
    assert len(statuses) == 40
    assert statuses.count(200) == 5  # checked, and wrong
    assert statuses.count(429) == 35
