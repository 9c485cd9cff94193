"""The machinery watched: heartbeats, /healthz/, the dashboard banner and the alert by SMS."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from callouts.engine import watch
from callouts.models import Heartbeat, Message
from tests.factories import make_message, make_negotiator

NOW = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)


def test_it_finds_nothing_wrong_when_the_clock_beats_and_nothing_waits():
    state = watch.Health(database=True, escalator_seen=NOW - timedelta(seconds=5))
    assert watch.problems(state, NOW) == {}


def test_it_says_what_stopped():
    state = watch.Health(
        database=True,
        escalator_seen=NOW - timedelta(minutes=3),
        oldest_waiting=NOW - timedelta(seconds=90),
    )
    found = watch.problems(state, NOW)
    assert "has not ticked since 02:57:00 UTC" in found["escalator"]
    assert "a message has waited 90 s" in found["queue"]
    assert set(watch.problems(watch.Health(database=False), NOW)) == {"database"}
    assert "ever" in watch.problems(watch.Health(database=True), NOW)["escalator"]


def test_healthz_answers_a_monitor_without_a_login(client, db):
    watch.beat()
    response = client.get("/healthz/")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["escalator_last_tick_seconds_ago"] < 5


def test_healthz_is_503_when_the_clock_has_stopped_but_live_only_checks_the_web(client, db):
    Heartbeat.objects.create(name="escalator", at=timezone.now() - timedelta(minutes=5))
    make_message(status="pending", next_attempt_at=timezone.now() - timedelta(minutes=2))
    response = client.get("/healthz/")
    assert response.status_code == 503
    assert set(response.json()["problems"]) == {"escalator", "queue"}
    assert "+44" not in response.text
    assert client.get("/healthz/?scope=live").status_code == 200


def test_coordinators_are_texted_once_when_the_clock_stops(db, force):
    coordinator = make_negotiator(force, roles=("coordinator",))
    make_negotiator(force)  # a negotiator only: not texted
    Heartbeat.objects.create(name="escalator", at=timezone.now() - timedelta(minutes=5))

    watch.watch_escalator()
    watch.watch_escalator()  # another worker noticing too

    alerts = Message.objects.filter(purpose="alert")
    assert [m.negotiator for m in alerts] == [coordinator]
    assert "escalator clock has not ticked" in alerts[0].body
    assert alerts[0].status in {"sent", "delivered"}  # sent here, not queued

    watch.beat()
    watch.watch_escalator()  # working again: the next stop is news again
    Heartbeat.objects.filter(name="escalator").update(at=timezone.now() - timedelta(minutes=5))
    watch.watch_escalator()
    assert Message.objects.filter(purpose="alert").count() == 2


@pytest.mark.parametrize("stopped", [True, False])
def test_the_dashboard_says_when_callouts_are_not_running(client, coordinator_user, db, stopped):
    at = timezone.now() - timedelta(minutes=5 if stopped else 0)
    Heartbeat.objects.create(name="escalator", at=at)
    client.force_login(coordinator_user)
    page = client.get(reverse("dashboard")).content.decode()
    assert ("Callouts are not running" in page) is stopped
