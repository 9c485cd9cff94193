"""The board for 3 a.m.: Call again, the raise-needs picker, everyone else grouped with what
they said, and a negotiator answering on the page (recorded as an SMS reply is)."""

import pytest
from django.urls import reverse

from callouts import queries, services
from callouts.engine import clock
from callouts.models import Callout, Deployment, Event, Incident, Message, Response
from tests.factories import make_callout, make_incident, make_negotiator, post_sms, raise_incident

pytestmark = pytest.mark.django_db
K = Event.Kind


def reply(client, run_tasks, person, body, sid):
    """An SMS reply, taken in by the webhook and handled as the escalator clock hands it on."""
    run_tasks(post_sms, client, person, body, sid)
    run_tasks(clock.tick)


def board_html(client, incident):
    return client.get(reverse("incident_board", args=[incident.pk])).content.decode()


def test_it_calls_an_exhausted_incident_again_without_changing_the_need(
    coordinator_client, coordinator_user, on_call, force, run_tasks
):
    incident = run_tasks(raise_incident, force)
    reply(coordinator_client, run_tasks, on_call["n1"], "Y 10", "SMa")
    Incident.objects.filter(pk=incident.pk).update(status="exhausted", next_step_at=None)
    asked_before = Message.objects.filter(purpose="callout").count()
    call_again = reverse("incident_call_again", args=[incident.pk])
    assert f'href="{call_again}"' in board_html(coordinator_client, incident)

    response = run_tasks(coordinator_client.post, call_again, {"confirm": "yes"})

    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.status == "calling"
    assert incident.needs == {"negotiator": 2, "coordinator": 1}
    assert incident.round == 1 and incident.step_index == 0  # a new round, from step 1
    event = Event.objects.get(incident=incident, kind=K.CALLED_AGAIN)
    assert event.actor == coordinator_user and event.data["was"] == "exhausted"
    assert event.data["missing"] == {"negotiator": 1, "coordinator": 1}
    # Step 1 of the new round went out again to those on call who have not accepted.
    assert Message.objects.filter(purpose="callout").count() > asked_before
    assert Callout.objects.get(negotiator=on_call["n1"]).state == "accepted"


def test_it_calls_a_stood_down_incident_again_and_counts_only_who_is_out(
    coordinator_client, on_call, force, run_tasks
):
    incident = run_tasks(raise_incident, force)
    reply(coordinator_client, run_tasks, on_call["n1"], "Y 10", "SMa")
    run_tasks(services.stand_down, incident, by=None)
    assert Deployment.objects.get(negotiator=on_call["n1"]).stood_down_at is not None

    run_tasks(
        coordinator_client.post,
        reverse("incident_call_again", args=[incident.pk]),
        {"confirm": "yes"},
    )

    incident.refresh_from_db()
    assert incident.status == "calling" and incident.stood_down_at is None
    # N1 went home when it was stood down: asked again, not counted as coming.
    assert Callout.objects.get(negotiator=on_call["n1"]).state in ("asked", "delivered")
    summary = queries.board_for(incident)
    assert {r.role: r.filled for r in summary.roles} == {"negotiator": 0, "coordinator": 0}


def test_it_refuses_call_again_while_calling_or_filled(coordinator_client, force, on_call):
    for status in ("calling", "filled", "closed"):
        incident = make_incident(force, status=status)
        response = coordinator_client.post(
            reverse("incident_call_again", args=[incident.pk]), {"confirm": "yes"}, follow=True
        )
        assert "Only an exhausted or stood-down incident" in response.content.decode()
        incident.refresh_from_db()
        assert incident.status == status
        assert not Event.objects.filter(incident=incident, kind=K.CALLED_AGAIN).exists()


def test_it_refuses_call_again_to_a_negotiator(client, negotiator_user, force):
    incident = make_incident(force, status="exhausted")
    client.force_login(negotiator_user)
    url = reverse("incident_call_again", args=[incident.pk])
    assert client.post(url, {"confirm": "yes"}).status_code == 403
    assert Incident.objects.get(pk=incident.pk).status == "exhausted"
    assert not Event.objects.filter(incident=incident, kind=Event.Kind.CALLED_AGAIN).exists()


def test_it_starts_the_raise_needs_picker_on_the_missing_role(coordinator_client, force):
    incident = make_incident(force, needs={"negotiator": 1, "coordinator": 1})
    person = make_negotiator(force, "KILO-1")
    callout = make_callout(incident, person, state="accepted", role="negotiator")
    Deployment.objects.create(
        incident=incident,
        callout=callout,
        negotiator=person,
        role="negotiator",
        accepted_at=incident.raised_at,
    )
    html = board_html(coordinator_client, incident)
    assert '<option value="coordinator" selected>' in html
    assert "1 coordinator still needed" in html


def test_it_groups_everyone_else_with_what_they_last_said(
    coordinator_client, on_call, force, run_tasks
):
    incident = run_tasks(raise_incident, force)
    reply(coordinator_client, run_tasks, on_call["n1"], "maybe later", "SMa")
    reply(coordinator_client, run_tasks, on_call["n2"], "N", "SMb")
    html = board_html(coordinator_client, incident)
    waiting = html.index('data-group="waiting"')
    declined = html.index('data-group="declined"')
    assert waiting < html.index("<q>maybe later</q>") < declined  # as they wrote it
    assert declined < html.index('data-callsign="N-TWO"')
    assert "Still to answer" in html and "Declined" in html


def test_it_shows_the_first_of_each_long_group_until_asked_for_everyone(coordinator_client, force):
    incident = make_incident(force)
    for n in range(30):
        make_callout(incident, make_negotiator(force, f"W-{n:02d}"), status="delivered")
    live = reverse("incident_board_live", args=[incident.pk])
    # The board's groups (not the pickers of "By phone and by hand", which list everyone).
    board = board_html(coordinator_client, incident).split('<section class="card hands"')[0]
    for page in (board, coordinator_client.get(live).text):
        assert page.count('data-state="delivered"') == 25
        assert "25 of 30 shown" in page and "Show all 30" in page
        assert "W-24" in page and "W-25" not in page
    everyone = coordinator_client.get(reverse("incident_board", args=[incident.pk]) + "?everyone=1")
    assert everyone.text.count('data-state="delivered"') == 30
    assert f'hx-get="{live}?everyone=1"' in everyone.text  # it stays whole as it refreshes
    assert coordinator_client.get(live + "?everyone=1").text.count('data-state="delivered"') == 30


def test_it_records_an_answer_from_the_page_as_an_sms_is(client, on_call, force, run_tasks):
    from tests.factories import make_user

    user = make_user("n1", ["negotiator"], force=force)
    on_call["n1"].user = user
    on_call["n1"].save()
    incident = run_tasks(raise_incident, force, rendezvous="North car park")
    client.force_login(user)
    html = board_html(client, incident)
    assert "Can you come?" in html and "Attending" in html

    url = reverse("incident_answer", args=[incident.pk])
    response = run_tasks(client.post, url, {"answer": "accept", "eta": "15"}, follow=True)

    assert "North car park" in response.content.decode()  # the answer the SMS would give
    callout = Callout.objects.get(negotiator=on_call["n1"])
    assert callout.state == "accepted" and callout.eta_minutes == 15
    assert callout.role == "negotiator"
    answer = Response.objects.get(callout=callout)
    assert answer.channel == "web" and answer.kind == "accept" and answer.eta_minutes == 15
    deployment = Deployment.objects.get(callout=callout)
    assert deployment.role == "negotiator" and deployment.eta_minutes == 15
    assert Event.objects.filter(incident=incident, kind=K.ACCEPTED, channel="web").exists()

    run_tasks(client.post, url, {"answer": "decline"})
    callout.refresh_from_db()
    assert callout.state == "declined"
    assert Deployment.objects.get(callout=callout).withdrawn_at is not None


def test_it_refuses_a_page_answer_from_someone_not_called(
    client, negotiator_user, on_call, force, run_tasks
):
    incident = run_tasks(raise_incident, force)
    client.force_login(negotiator_user)
    response = client.post(reverse("incident_answer", args=[incident.pk]), {"answer": "accept"})
    assert response.status_code == 404
    assert not Response.objects.exists()
