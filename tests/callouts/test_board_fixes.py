"""What misled on the live board, the negotiator's page and the simulator (issue #22): each
as the coordinator or negotiator reads it on the page."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cadre.access import COORDINATOR
from callouts import services
from callouts.engine import clock
from callouts.models import Callout, Event, Incident, Message
from tests.factories import (
    make_callout,
    make_deployed,
    make_incident,
    make_message,
    make_negotiator,
    make_user,
    post_sms,
    raise_incident,
)

pytestmark = pytest.mark.django_db


def board_html(client, incident, live=False):
    name = "incident_board_live" if live else "incident_board"
    return client.get(reverse(name, args=[incident.pk])).content.decode()


def row_html(html, callsign):
    """The <li> of one person in "Everyone else asked"."""
    found = re.search(rf'<li data-callsign="{callsign}" data-state="[^"]*">(.*?)</li>', html, re.S)
    assert found, f"{callsign} not on the board"
    return " ".join(found.group(1).split())


def group_of(html, callsign):
    """The key of the "Everyone else asked" group the person is listed in."""
    for key, body in re.findall(r'data-group="([^"]+)">(.*?)</div>', html, re.S):
        if f'data-callsign="{callsign}"' in body:
            return key
    return None


def hhmm(moment):
    return timezone.localtime(moment).strftime("%H:%M")


def back(minutes, *querysets):
    """Move what happened so far `minutes` earlier, so that what comes next has a later time."""
    shift = timedelta(minutes=minutes)
    for qs, field in querysets:
        for obj in qs:
            setattr(obj, field, getattr(obj, field) - shift)
            obj.save(update_fields=[field])


# Call again


def test_it_asks_before_calling_again(coordinator_client, force):
    incident = make_incident(force, status="exhausted")
    url = reverse("incident_call_again", args=[incident.pk])
    html = board_html(coordinator_client, incident)
    assert f'href="{url}"' in html and "Call again…" in html

    page = coordinator_client.get(url).content.decode()
    assert f"Call again {incident.reference}?" in page
    assert f"Yes, call again {incident.reference}" in page
    # Not ticked: nothing happens, the question again.
    assert coordinator_client.post(url).status_code == 200
    incident.refresh_from_db()
    assert incident.status == "exhausted"
    assert not Event.objects.filter(incident=incident, kind=Event.Kind.CALLED_AGAIN).exists()

    response = coordinator_client.post(url, {"confirm": "yes"})
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.status == "calling"


def test_it_says_why_it_cannot_call_again_instead_of_asking(coordinator_client, force):
    incident = make_incident(force, status="calling")
    response = coordinator_client.get(
        reverse("incident_call_again", args=[incident.pk]), follow=True
    )
    assert "Only an exhausted or stood-down incident" in response.content.decode()


def test_it_shows_who_is_asked_again_after_call_again_not_their_old_answer(
    coordinator_client, on_call, force, run_tasks
):
    incident = run_tasks(raise_incident, force)
    # XRAY-9 was asked by a later step (not on call): step 1 of a new round does not reach them.
    xray = make_negotiator(force, "XRAY-9")
    make_callout(incident, xray, status="delivered", first_step=2)
    run_tasks(post_sms, coordinator_client, on_call["n1"], "Y 15", "SMa")
    run_tasks(clock.tick)
    run_tasks(services.stand_down, incident, by=None)
    old = timezone.now() - timedelta(minutes=20)
    back(
        20,
        (Callout.objects.all(), "asked_at"),
        (Callout.objects.exclude(answered_at=None), "answered_at"),
        (Message.objects.all(), "created_at"),
    )

    run_tasks(
        coordinator_client.post,
        reverse("incident_call_again", args=[incident.pk]),
        {"confirm": "yes"},
    )

    html = board_html(coordinator_client, incident)
    n1 = row_html(html, "N-ONE")
    # Asked again now (step 1 texts those on call): the new time, not the old one.
    asked_again = Message.objects.filter(callout__negotiator=on_call["n1"], round=1).first()
    assert asked_again is not None
    assert f"asked again {hhmm(asked_again.created_at)}" in n1
    assert f"asked {hhmm(old)}" not in n1
    # What they said before the stand-down is not their answer now.
    assert '<span class="said">said <q>Y 15</q>' not in n1
    assert "before the stand-down: said <q>Y 15</q>" in n1
    assert "answered" not in n1
    # Not reached by any step yet: said so, not "Still to answer" with old times.
    x = row_html(html, "XRAY-9")
    assert "Not asked again yet" in x
    assert group_of(html, "XRAY-9") == "again"
    assert "asked " + hhmm(old) not in x


# Who went


def test_it_shows_who_went_and_was_stood_down_as_stood_down_not_an_eta(
    coordinator_client, force, run_tasks
):
    incident = make_incident(force, needs={"negotiator": 1})
    kilo = make_negotiator(force, "KILO-1")
    make_deployed(incident, kilo, status="delivered", role="negotiator", eta_minutes=25)
    run_tasks(services.stand_down, incident, by=None)

    html = board_html(coordinator_client, incident)
    went = re.search(r'aria-label="Who is coming">(.*?)</section>', html, re.S).group(1)
    assert "Who went" in went
    line = " ".join(re.search(r'<li data-callsign="KILO-1">(.*?)</li>', went, re.S)[1].split())
    assert "stood down" in line
    assert "ETA" not in line and "min)" not in line


# The shortfall line


def test_it_lists_the_places_still_needed_without_a_dangling_semicolon(coordinator_client, force):
    incident = make_incident(force, needs={"negotiator": 2, "coordinator": 1})
    coord = make_negotiator(force, "C-ONE", roles=("coordinator",))
    make_deployed(incident, coord, role="coordinator")
    assert shortfall(board_html(coordinator_client, incident)) == "2 negotiators still needed"

    both = make_incident(force, needs={"negotiator": 2, "coordinator": 1}, status="closed")
    assert (
        shortfall(board_html(coordinator_client, both))
        == "Ended short: 2 negotiators and 1 coordinator"
    )


def shortfall(html):
    found = re.search(r'<p class="shortfall">(.*?)</p>', html)
    return re.sub(r"<[^>]+>", "", found.group(1)).strip()


# Calls


def test_it_shows_a_call_ringing_answered_or_not_answered(coordinator_client, force):
    incident = make_incident(force)
    ringing = make_callout(incident, make_negotiator(force, "RING-1"), "ringing", "voice")
    missed = make_callout(incident, make_negotiator(force, "MISS-2"), "delivered")
    make_message(missed, channel="voice", status="no-answer")
    make_callout(incident, make_negotiator(force, "PICK-3"), "in-progress", "voice")

    html = board_html(coordinator_client, incident)
    assert ringing.state == "asked"
    assert "call ringing" in row_html(html, "RING-1")
    assert "Delivered" not in row_html(html, "RING-1")
    miss = row_html(html, "MISS-2")
    assert "SMS delivered" in miss and "call not answered" in miss
    assert "Picked up the call" in row_html(html, "PICK-3")


# The incident's actions


def test_it_puts_the_incidents_actions_at_the_top_of_the_board(coordinator_client, force):
    incident = make_incident(force)
    html = board_html(coordinator_client, incident)
    bar = re.search(r'<nav class="incident-actions"[^>]*>(.*?)</nav>', html, re.S)
    assert bar, "no action bar"
    assert "Stand down…" in bar[1] and "Close incident…" in bar[1]
    assert html.index("incident-actions") < html.index('aria-label="Who is coming"')
    # The live part carries them, so they change when the incident does.
    live = board_html(coordinator_client, incident, live=True)
    assert "Stand down…" in live and "Raise needs" in live
    Incident.objects.filter(pk=incident.pk).update(status="stood_down")
    live = board_html(coordinator_client, incident, live=True)
    assert "Stand down…" not in live and "Raise needs" not in live and "Call again…" in live


# The live part follows the person's own answer


@pytest.fixture
def called_coordinator(force):
    """A coordinator login who is also in the cadre, called to an incident."""
    user = make_user("coordneg", [COORDINATOR], force=force)
    person = make_negotiator(force, "COORD-7", roles=("coordinator",), user=user)
    incident = make_incident(force, needs={"coordinator": 1})
    callout = make_callout(incident, person, status="delivered")
    return user, incident, callout


def test_it_updates_can_you_come_in_the_live_part_of_the_board(client, called_coordinator):
    user, incident, callout = called_coordinator
    client.force_login(user)
    live = board_html(client, incident, live=True)
    assert "Can you come?" in live and ">Attending<" in live
    # Filled by someone else: they are stood down, and the live part stops asking.
    Callout.objects.filter(pk=callout.pk).update(state="stood_down")
    Incident.objects.filter(pk=incident.pk).update(status="filled")
    live = board_html(client, incident, live=True)
    assert "Can you come?" not in live and ">Attending<" not in live


# The negotiator's page


def test_it_tells_a_negotiator_they_have_not_answered_yet(negotiator_client, negotiator_user):
    incident = make_incident(negotiator_user.negotiator.force)
    make_callout(incident, negotiator_user.negotiator, status="delivered")
    html = board_html(negotiator_client, incident)
    assert "Not answered yet" in html
    assert 'Your answer: <span class="badge">Delivered' not in html


def test_it_asks_before_a_negotiator_withdraws_and_keeps_it_apart(
    negotiator_client, negotiator_user
):
    incident = make_incident(negotiator_user.negotiator.force)
    make_deployed(incident, negotiator_user.negotiator, role="negotiator", eta_minutes=20)
    html = board_html(negotiator_client, incident)
    assert "You are coming" in html
    withdraw = re.search(r'<details class="withdraw"[^>]*>(.*?)</details>', html, re.S)
    assert withdraw, "withdrawing is not behind a question"
    assert "I can no longer come…" in withdraw[1]
    assert "Yes, I can no longer come" in withdraw[1]
    assert 'class="danger"' in withdraw[1]
    # Apart from "I have arrived": not the next thing under it.
    arrived = html.index("I have arrived")
    assert html.index('class="withdraw"') > html.index("</section>", arrived)


def test_it_tells_a_negotiator_on_scene_they_are_there_without_an_eta(
    negotiator_client, negotiator_user
):
    incident = make_incident(negotiator_user.negotiator.force)
    now = timezone.now()
    make_deployed(
        incident, negotiator_user.negotiator, role="negotiator", eta_minutes=20, arrived_at=now
    )
    html = board_html(negotiator_client, incident)
    assert "You are on scene" in html and f"You arrived at {hhmm(now)}" in html
    assert "You are coming" not in html
    assert "Update ETA" not in html and "I have arrived" not in html


# The simulator


def test_it_shows_the_handset_before_the_list_of_phones(coordinator_client, force):
    incident = make_incident(force)
    for n in range(30):
        make_callout(incident, make_negotiator(force, f"P-{n:02d}"), status="delivered")
    html = coordinator_client.get(reverse("simulator_phones")).content.decode()
    assert html.index('class="card phone"') < html.index('id="phone-list"')


def test_it_dates_simulator_messages_not_from_today(coordinator_client, force):
    incident = make_incident(force)
    kilo = make_negotiator(force, "KILO-1")
    callout = make_callout(incident, kilo)
    old = make_message(callout, body="old callout", status="delivered")
    Message.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=3))
    make_message(callout, body="new callout", status="delivered", step=1)
    html = coordinator_client.get(reverse("simulator_phones")).content.decode()
    then = timezone.localtime(timezone.now() - timedelta(days=3))
    assert f"{then:%a} {then.day} {then:%b}" in html
    today = timezone.localtime()
    assert (
        f"{today:%a} {today.day} {today:%b}" not in html.split("new callout")[0].rsplit("<p", 1)[-1]
    )


def test_it_tells_a_negotiator_not_answered_yet_on_the_dashboard_and_list(
    negotiator_client, negotiator_user
):
    incident = make_incident(negotiator_user.negotiator.force)
    make_callout(incident, negotiator_user.negotiator, status="delivered")
    dashboard = negotiator_client.get(reverse("dashboard")).content.decode()
    assert "you: Not answered yet" in dashboard
    listing = negotiator_client.get(reverse("incident_list")).content.decode()
    assert "Not answered yet" in listing and "Delivered" not in listing
