"""The debrief note on the timeline, and purging old message texts."""

from datetime import timedelta
from io import StringIO

from django.core.management import call_command
from django.utils import timezone

from callouts import events
from callouts.models import Debrief, Deployment, Event, Incident, Message
from tests.factories import make_callout, make_incident, make_message


def test_it_saves_a_debrief_after_closing_and_shows_it_on_the_timeline(coordinator_client, force):
    incident = make_incident(force, status="closed")
    response = coordinator_client.post(
        f"/incidents/{incident.pk}/debrief/",
        {"outcome": "Came down safely", "lessons": "Earlier voice"},
    )
    assert response.status_code == 302
    page = coordinator_client.get(f"/incidents/{incident.pk}/timeline/").content.decode()
    assert "Came down safely" in page and "Earlier voice" in page
    coordinator_client.post(
        f"/incidents/{incident.pk}/debrief/", {"outcome": "Safe", "lessons": ""}
    )
    assert Debrief.objects.get().outcome == "Safe"


def test_it_refuses_a_debrief_before_closing_and_saves_nothing(coordinator_client, force):
    incident = make_incident(force, status="filled")
    response = coordinator_client.post(f"/incidents/{incident.pk}/debrief/", {"outcome": "Early"})
    assert response.status_code == 400
    assert "once the incident is closed" in response.content.decode()
    response = coordinator_client.post(f"/incidents/{incident.pk}/debrief/", {"outcome": ""})
    assert response.status_code == 400
    assert not Debrief.objects.exists()


def test_it_refuses_a_debrief_from_a_negotiator(negotiator_client, force):
    incident = make_incident(force, status="closed")
    assert (
        negotiator_client.post(f"/incidents/{incident.pk}/debrief/", {"outcome": "x"}).status_code
        == 403
    )
    assert not Debrief.objects.exists()


def old_incident(force, cadre, years):
    incident = make_incident(force, status="closed")
    Incident.objects.filter(pk=incident.pk).update(
        raised_at=timezone.now() - timedelta(days=365 * years)
    )
    callout = make_callout(incident, cadre["n1"], status="delivered")
    make_message(
        callout,
        direction="in",
        purpose="inbound",
        from_number=cadre["n1"].mobile,
        to_number="+447700900000",
        body="Y 20 sorry late",
    )
    events.log(
        incident,
        events.K.REPLY_RECEIVED,
        negotiator=cadre["n1"],
        text="Y 20 sorry late",
        understood="accept",
    )
    Deployment.objects.create(
        incident=incident,
        callout=callout,
        negotiator=cadre["n1"],
        role="negotiator",
        accepted_at=timezone.now(),
    )
    return incident


def test_it_purges_texts_and_numbers_but_keeps_the_record(force, cadre):
    old = old_incident(force, cadre, 8)
    recent = old_incident(force, cadre, 1)
    out = StringIO()
    call_command("purge_history", "--dry-run", stdout=out)
    assert "would" in out.getvalue() and "1 incident" in out.getvalue()
    assert Message.objects.filter(incident=old).exclude(body="").count() == 2
    call_command("purge_history", stdout=StringIO())
    for message in Message.objects.filter(incident=old):
        assert (message.body, message.to_number, message.from_number) == ("", "", "")
    reply = Event.objects.get(incident=old, kind="reply_received")
    assert "text" not in reply.data and reply.data["understood"] == "accept"
    assert Deployment.objects.filter(incident=old).count() == 1
    assert Message.objects.filter(incident=recent).exclude(body="").count() == 2
    assert "text" in Event.objects.get(incident=recent, kind="reply_received").data


def test_it_refuses_a_nonsense_retention(force):
    import pytest
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="at least 1"):
        call_command("purge_history", "--years", "0", stdout=StringIO())
