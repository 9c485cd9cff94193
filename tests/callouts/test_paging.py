"""Lists of messages and events that grow without bound: the timeline a page at a time, the
board's alerts and the simulator's handsets only the newest, in queries that do not grow."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from callouts import queries
from callouts.models import Event, Message
from tests.factories import make_callout, make_incident, make_message, make_negotiator

pytestmark = pytest.mark.django_db
K = Event.Kind


@pytest.fixture
def small_pages(monkeypatch):
    monkeypatch.setattr(queries, "TIMELINE_PAGE", 5)


def log_events(incident, people, each):
    start = timezone.now() - timedelta(hours=1)
    Event.objects.bulk_create(
        Event(
            incident=incident,
            kind=K.ETA,
            negotiator=person,
            data={"eta": n * len(people) + i},
            at=start + timedelta(seconds=n * len(people) + i),
        )
        for n in range(each)
        for i, person in enumerate(people)
    )


def etas(response):
    return [line.text for line in response.context["timeline"].lines]


def test_it_pages_the_timeline_in_order_keeping_the_person(coordinator_client, force, small_pages):
    incident = make_incident(force)
    kilo, lima = make_negotiator(force, "KILO-1"), make_negotiator(force, "LIMA-2")
    log_events(incident, [kilo, lima], 6)
    url = reverse("incident_timeline", args=[incident.pk])
    first = coordinator_client.get(url)
    assert etas(first) == [f"ETA updated to {n} min" for n in range(5)]
    assert "Lines 1–5 of 12" in first.text and "the CSV has them all" in first.text
    last = coordinator_client.get(url, {"page": 3})
    assert etas(last) == ["ETA updated to 10 min", "ETA updated to 11 min"]
    # Everyone is offered in the person filter, not only those on this page.
    assert last.context["timeline"].people == ("KILO-1", "LIMA-2")
    lima_only = coordinator_client.get(url, {"person": "LIMA-2", "page": 2})
    assert etas(lima_only) == ["ETA updated to 11 min"]
    assert "person=LIMA-2&amp;page=1" in lima_only.text
    export = coordinator_client.get(reverse("export_timeline", args=[incident.pk]))
    assert export.content.decode().count("ETA updated") == 12


@pytest.mark.parametrize(("asked", "number"), [("x", 1), ("", 1), ("99", 3), ("-3", 3)])
def test_it_answers_a_junk_timeline_page_with_the_first_or_last(
    coordinator_client, force, small_pages, asked, number
):
    incident = make_incident(force)
    log_events(incident, [make_negotiator(force, "KILO-1")], 12)
    url = reverse("incident_timeline", args=[incident.pk])
    response = coordinator_client.get(url, {"page": asked})
    assert response.status_code == 200
    assert response.context["page"].number == number


def count_queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_it_reads_a_timeline_page_in_the_same_queries_however_long_the_log(
    coordinator_client, force, small_pages, django_assert_max_num_queries
):
    incident = make_incident(force)
    people = [make_negotiator(force, f"P-{i}") for i in range(3)]
    log_events(incident, people[:1], 2)
    url = reverse("incident_timeline", args=[incident.pk])
    few = count_queries(coordinator_client, url)
    log_events(incident, people, 40)
    with django_assert_max_num_queries(few):
        coordinator_client.get(url, {"page": 4})


def test_it_shows_the_newest_alerts_on_the_board_and_says_how_many(coordinator_client, force):
    incident = make_incident(force)
    for n in range(queries.ALERTS_SHOWN + 5):
        make_message(incident=incident, purpose=Message.Purpose.ALERT, body=f"Alert {n:03d}")
    html = coordinator_client.get(reverse("incident_board", args=[incident.pk])).text
    assert f"The newest {queries.ALERTS_SHOWN} of {queries.ALERTS_SHOWN + 5}" in html
    assert f"Alert {queries.ALERTS_SHOWN + 4:03d}" in html and "Alert 005" in html
    assert "Alert 004" not in html


def test_it_gives_each_handset_only_its_newest_messages_in_two_queries(coordinator_client, force):
    from callouts.web.simulator_views import LOG_LENGTH, handsets

    incident = make_incident(force)
    kilo, lima = make_negotiator(force, "KILO-1"), make_negotiator(force, "LIMA-2")
    callout = make_callout(incident, kilo)
    ringing = make_message(callout, channel="voice", direction="out", status="ringing")
    for n in range(LOG_LENGTH + 3):
        make_message(callout, body=f"to kilo {n}", status="delivered", step=n + 1)
        make_message(direction="in", from_number=lima.mobile, body=f"from lima {n}")
    with CaptureQueriesContext(connection) as ctx:
        phones = {p["negotiator"].callsign: p for p in handsets([kilo, lima])}
    assert len(ctx.captured_queries) == 2
    assert [m.body for m in phones["LIMA-2"]["log"]] == [
        f"from lima {n}" for n in range(3, LOG_LENGTH + 3)
    ]
    assert len(phones["KILO-1"]["log"]) == LOG_LENGTH
    assert phones["KILO-1"]["call"] == ringing  # still ringing, though older than the log
    assert phones["LIMA-2"]["call"] is None
    page = coordinator_client.get(reverse("simulator_phones"), {"phone": kilo.pk}).text
    assert f"to kilo {LOG_LENGTH + 2}" in page and "to kilo 2<" not in page
