from datetime import timedelta

from icalendar import Calendar

from cadre.models import Negotiator
from roster.models import FeedToken
from tests.factories import MONDAY, put_on


def test_it_serves_my_shifts_as_icalendar_in_london_time(
    client, negotiator_user, rota, monkeypatch
):
    monkeypatch.setattr("roster.views.feeds.HISTORY", timedelta(days=3650))  # include old shifts
    me = Negotiator.objects.get(user=negotiator_user)
    put_on(me, start=MONDAY.replace(month=7), days=1)  # summer: BST
    token = FeedToken.objects.create(user=negotiator_user).token
    response = client.get(f"/rota/feed/{token}/mine.ics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    body = response.content.decode()
    assert "TZID=Europe/London:20260706T090000" in body
    assert "BEGIN:VTIMEZONE" in body
    event = Calendar.from_ical(response.content).walk("VEVENT")[0]
    assert str(event["SUMMARY"]) == "On call: ALPHA-01 (Negotiator)"
    assert me.full_name not in body and me.mobile not in body


def test_it_answers_404_to_a_wrong_or_revoked_token(client, negotiator_user):
    feed = FeedToken.objects.create(user=negotiator_user)
    old = feed.token
    assert client.get("/rota/feed/not-a-token/mine.ics").status_code == 404
    client.force_login(negotiator_user)
    client.post("/rota/mine/feed/")
    client.logout()
    assert client.get(f"/rota/feed/{old}/mine.ics").status_code == 404
    feed.refresh_from_db()
    assert client.get(f"/rota/feed/{feed.token}/mine.ics").status_code == 200


def test_it_gives_the_whole_rota_to_coordinators_only(
    client, coordinator_user, negotiator_user, rota, cadre, monkeypatch
):
    monkeypatch.setattr("roster.views.feeds.HISTORY", timedelta(days=3650))
    put_on(cadre["n1"])
    put_on(cadre["c1"], role="coordinator")
    token = FeedToken.objects.create(user=coordinator_user).token
    cal = Calendar.from_ical(client.get(f"/rota/feed/{token}/rota.ics").content)
    assert len(cal.walk("VEVENT")) == 2
    theirs = FeedToken.objects.create(user=negotiator_user).token
    assert client.get(f"/rota/feed/{theirs}/rota.ics").status_code == 404


def test_it_shows_the_feed_address_on_my_shifts(negotiator_client):
    html = negotiator_client.get("/rota/mine/").content.decode()
    assert "/rota/feed/" in html
