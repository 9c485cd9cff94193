"""Incident pages as their users see them: raise, board, buttons, history."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from callouts.models import Callout, EscalationPolicy, Incident
from tests.factories import (
    make_callout,
    make_deployed,
    make_force,
    make_incident,
    make_negotiator,
    make_user,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def incident(force):
    return make_incident(force)


@pytest.fixture
def asked(incident, force):
    kilo = make_negotiator(force, "KILO-1", mobile="+447700999101")
    lima = make_negotiator(force, "LIMA-2", roles=("negotiator", "coordinator"))
    mike = make_negotiator(force, "MIKE-3")
    now = timezone.now()
    make_deployed(
        incident,
        kilo,
        status="delivered",
        role="negotiator",
        eta_minutes=25,
        answered_at=now,
    )
    make_callout(incident, lima, status="delivered")
    make_callout(incident, mike, status="failed")
    return kilo, lima, mike


def raise_data(**overrides):
    data = {
        "kind": "hostage",
        "location": "Canterbury East",
        "rendezvous": "Rear yard of the station",
        "brief": "Two adults inside",
        "need_negotiator": "2",
        "need_coordinator": "1",
        "need_adviser": "0",
        "policy": "",
    }
    data.update(overrides)
    return data


def test_it_raises_an_incident_from_the_form(coordinator_client, force):
    response = coordinator_client.post(reverse("incident_raise"), raise_data(force=force.pk))
    incident = Incident.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("incident_board", args=[incident.pk])
    assert incident.kind == "hostage"
    assert incident.needs == {"negotiator": 2, "coordinator": 1}
    assert incident.rendezvous == "Rear yard of the station"


def test_it_lets_a_supervisor_raise_but_not_a_negotiator(supervisor_client, supervisor_user, force):
    assert supervisor_client.get(reverse("incident_raise")).status_code == 200
    response = supervisor_client.post(reverse("incident_raise"), raise_data(force=force.pk))
    incident = Incident.objects.get()
    assert response.url == reverse("incident_board", args=[incident.pk])
    assert incident.raised_by == supervisor_user


def test_it_refuses_the_raise_form_to_a_negotiator(negotiator_client):
    assert negotiator_client.get(reverse("incident_raise")).status_code == 403
    assert negotiator_client.post(reverse("incident_raise"), raise_data()).status_code == 403
    assert not Incident.objects.exists()


def test_it_defaults_needs_from_the_force_default_policy(coordinator_client, force):
    EscalationPolicy.objects.create(
        force=force, name="Std", is_default=True, default_needs={"negotiator": 3}
    )
    form = coordinator_client.get(reverse("incident_raise")).context["form"]
    assert form["need_negotiator"].value() == 3
    assert form["need_coordinator"].value() == 0


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"kind": "picnic"}, "kind"),
        ({"location": ""}, "location"),
        ({"location": "x" * 81}, "location"),
        ({"need_negotiator": "-1"}, "need_negotiator"),
        ({"need_negotiator": "two"}, "need_negotiator"),
    ],
)
def test_it_shows_bad_input_on_the_form_and_saves_nothing(
    coordinator_client, force, overrides, field
):
    response = coordinator_client.post(reverse("incident_raise"), raise_data(**overrides))
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert not Incident.objects.exists()


def test_it_wants_at_least_one_person(coordinator_client, force):
    response = coordinator_client.post(
        reverse("incident_raise"),
        raise_data(need_negotiator="0", need_coordinator="0"),
    )
    assert "Ask for at least one person." in response.context["form"].non_field_errors()
    assert not Incident.objects.exists()


def test_it_refuses_another_forces_policy(coordinator_client, force):
    other = EscalationPolicy.objects.create(force=make_force("Other Police", "OTH"), name="Theirs")
    response = coordinator_client.post(
        reverse("incident_raise"), raise_data(policy=other.pk, force=force.pk)
    )
    assert response.context["form"].errors["policy"]
    assert not Incident.objects.exists()


def test_it_shows_the_board_with_needs_and_everyone_asked(coordinator_client, incident, asked):
    response = coordinator_client.get(reverse("incident_board", args=[incident.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    board = response.context["board"]
    assert {r.role: r.filled for r in board.roles} == {"negotiator": 1, "coordinator": 0}
    states = {r.callsign: r.state for r in board.rows}
    assert states == {"KILO-1": "accepted", "LIMA-2": "delivered", "MIKE-3": "unreachable"}
    assert "25 min" in html
    assert 'hx-trigger="every 2s"' in html


def test_it_shows_contact_details_only_to_coordinators(
    client, coordinator_user, supervisor_user, incident, asked
):
    url = reverse("incident_board", args=[incident.pk])
    client.force_login(coordinator_user)
    html = client.get(url).content.decode()
    assert asked[0].full_name in html
    assert "+447700999101" in html
    client.force_login(supervisor_user)
    html = client.get(url).content.decode()
    assert "KILO-1" in html
    assert asked[0].full_name not in html
    assert "+447700999101" not in html


def test_it_serves_the_live_part_of_the_board_alone(coordinator_client, incident, asked):
    response = coordinator_client.get(reverse("incident_board_live", args=[incident.pk]))
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="board"')
    assert "KILO-1" in html
    assert "<html" not in html


def test_it_shows_the_step_and_when_the_next_fires_in_london_time(coordinator_client, force):
    # 29 March 2026 00:59:30 UTC is 00:59:30 GMT; 01:00 UTC is 02:00 BST.
    from datetime import UTC, datetime

    incident = make_incident(
        force, step_index=0, next_step_at=datetime(2026, 3, 29, 1, 0, 0, tzinfo=UTC)
    )
    html = coordinator_client.get(reverse("incident_board", args=[incident.pk])).content.decode()
    assert "step 1 of 2" in html
    assert "02:00" in html
    assert "SMS and voice to every deployable member not yet asked" in html


def test_it_shows_a_negotiator_only_their_own_callout(
    client, negotiator_user, force, incident, asked
):
    make_callout(incident, negotiator_user.negotiator, status="delivered")
    client.force_login(negotiator_user)
    response = client.get(reverse("incident_board", args=[incident.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "KILO-1" not in html
    assert "Rendezvous" not in html  # only once they have accepted


def test_it_hides_incidents_from_negotiators_not_called(client, negotiator_user, incident):
    client.force_login(negotiator_user)
    assert client.get(reverse("incident_board", args=[incident.pk])).status_code == 404
    assert client.get(reverse("incident_board_live", args=[incident.pk])).status_code == 404
    assert incident.reference not in client.get(reverse("incident_list")).content.decode()


def test_it_hides_other_forces_incidents_from_their_coordinators(client, force, incident):
    from cadre.access import COORDINATOR

    other = make_force("Other Police", "OTH")
    other_coordinator = make_user("other", [COORDINATOR], force=other)
    make_negotiator(other, "OSCAR-1", user=other_coordinator)
    client.force_login(other_coordinator)
    assert client.get(reverse("incident_board", args=[incident.pk])).status_code == 404
    status = incident.status
    assert client.post(reverse("incident_stand_down", args=[incident.pk])).status_code == 404
    incident.refresh_from_db()
    assert (incident.status, incident.stood_down_by) == (status, None)


def test_it_lists_a_neighbours_incident_that_called_our_people_once(client, force, incident):
    """Mutual aid: seen through each of our people it called, listed (and counted) once."""
    from cadre.access import COORDINATOR

    other = make_force("Other Police", "OTH")
    lender = make_user("lender", [COORDINATOR], force=other)
    for n in range(3):
        make_callout(incident, make_negotiator(other, f"OSCAR-{n}"))
    # The lending coordinator is also one of the people it called.
    make_callout(incident, make_negotiator(other, "OSCAR-ME", user=lender))
    hidden = make_incident(force)  # called none of theirs
    client.force_login(lender)
    listing = client.get(reverse("incident_list")).content.decode()
    assert listing.count(f'data-reference="{incident.reference}"') == 1
    assert hidden.reference not in listing
    assert client.get(reverse("incident_board", args=[incident.pk])).status_code == 200
    assert client.get(reverse("incident_board", args=[hidden.pk])).status_code == 404


def test_it_stands_down_and_closes_only_once_confirmed(coordinator_client, incident):
    url = reverse("incident_stand_down", args=[incident.pk])
    page = coordinator_client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert f"Stand down {incident.reference}?" in html
    assert 'name="confirm" value="yes"' in html and "required" in html
    # A POST without the confirmation (a stray Enter, an old form) only asks again.
    asked_again = coordinator_client.post(url)
    assert asked_again.status_code == 200
    assert "Stand down" in asked_again.content.decode()
    incident.refresh_from_db()
    assert incident.status == Incident.Status.CALLING
    response = coordinator_client.post(url, {"confirm": "yes"})
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.status == Incident.Status.STOOD_DOWN
    close = reverse("incident_close", args=[incident.pk])
    coordinator_client.post(close)
    incident.refresh_from_db()
    assert incident.status == Incident.Status.STOOD_DOWN
    coordinator_client.post(close, {"confirm": "yes"})
    incident.refresh_from_db()
    assert incident.status == Incident.Status.CLOSED


def test_it_raises_needs_while_live(coordinator_client, incident):
    coordinator_client.post(
        reverse("incident_raise_needs", args=[incident.pk]), {"role": "negotiator", "count": "1"}
    )
    incident.refresh_from_db()
    assert incident.needs["negotiator"] == 3


def test_it_refuses_nonsense_needs(coordinator_client, incident):
    response = coordinator_client.post(
        reverse("incident_raise_needs", args=[incident.pk]),
        {"role": "chef", "count": "0"},
        follow=True,
    )
    incident.refresh_from_db()
    assert incident.needs["negotiator"] == 2
    assert "Choose a role" in response.content.decode()


def test_it_refuses_buttons_to_negotiators(client, negotiator_user, incident, asked):
    make_callout(incident, negotiator_user.negotiator)
    client.force_login(negotiator_user)
    for name in ("incident_stand_down", "incident_close", "incident_raise_needs"):
        assert client.post(reverse(name, args=[incident.pk])).status_code == 403
    incident.refresh_from_db()
    assert incident.status == Incident.Status.CALLING


def test_it_lists_history_with_who_went_and_how_fast(supervisor_client, force):
    incident = make_incident(force, needs={"negotiator": 1}, status="filled")
    raised = incident.raised_at
    Incident.objects.filter(pk=incident.pk).update(filled_at=raised + timedelta(minutes=4))
    kilo = make_negotiator(force, "KILO-1")
    make_deployed(
        incident,
        kilo,
        role="negotiator",
        answered_at=raised + timedelta(minutes=4),
    )
    make_callout(
        incident,
        make_negotiator(force, "LIMA-2"),
        state=Callout.State.DECLINED,
        answered_at=raised + timedelta(minutes=1),
    )
    make_callout(
        incident,
        make_negotiator(force, "MIKE-3"),
        state=Callout.State.STOOD_DOWN,
        late=True,
        answered_at=raised + timedelta(minutes=6),
    )
    response = supervisor_client.get(reverse("incident_list"))
    html = response.content.decode()
    row = response.context["rows"][0]
    assert (row["timing"].asked, row["timing"].answered, row["timing"].went) == (3, 3, 1)
    assert "KILO-1" in html
    # Times from when each was asked, a moment after the raise.
    assert re.search(r"<li>LIMA-2: declined after \d+ s</li>", html)
    assert re.search(r"<li>MIKE-3: stood down, not needed \(late\) after 5 min \d\d s</li>", html)
    assert "4 min 00 s" in html


def test_it_puts_live_incidents_on_the_dashboard(coordinator_client, incident):
    make_incident(incident.force, status="closed", reference="OLD-1")
    html = coordinator_client.get(reverse("dashboard")).content.decode()
    assert incident.reference in html
    assert "OLD-1" not in html


def test_it_links_incident_pages_in_the_nav(coordinator_client):
    html = coordinator_client.get(reverse("dashboard")).content.decode()
    for name in ("incident_list", "incident_raise", "policy_list", "simulator_phones"):
        assert f'href="{reverse(name)}"' in html


def test_it_gives_a_negotiator_who_accepted_the_rendezvous_and_brief(
    client, negotiator_user, incident
):
    make_deployed(
        incident,
        negotiator_user.negotiator,
        role="negotiator",
        answered_at=timezone.now(),
    )
    client.force_login(negotiator_user)
    html = client.get(reverse("incident_board", args=[incident.pk])).content.decode()
    assert "Car park B" in html and "upstairs flat" in html
    dashboard = client.get(reverse("dashboard")).content.decode()
    assert incident.reference in dashboard and "you: Accepted" in dashboard
    listing = client.get(reverse("incident_list")).content.decode()
    assert incident.reference in listing
