"""Workload per negotiator and the flags a supervisor acts on."""

from datetime import timedelta

import pytest
from django.utils import timezone

from callouts.models import Callout
from reports.models import WorkloadSettings
from tests.factories import make_callout, make_incident, put_on
from tests.reports.conftest import deploy


def went(force, person, days_ago, hours=2):
    incident = make_incident(force, status="closed")
    d = deploy(incident, person, "negotiator", 0)
    d.accepted_at = timezone.now() - timedelta(days=days_ago)
    d.stood_down_at = d.accepted_at + timedelta(hours=hours)
    d.save()
    Callout.objects.filter(pk=d.callout_id).update(
        asked_at=d.accepted_at, answered_at=d.accepted_at
    )
    return d


def asked(force, person, days_ago, answered=False):
    incident = make_incident(force, status="closed")
    when = timezone.now() - timedelta(days=days_ago)
    c = make_callout(incident, person)
    Callout.objects.filter(pk=c.pk).update(asked_at=when, answered_at=when if answered else None)
    return c


def rows(client, url="/reports/workload/"):
    response = client.get(url)
    assert response.status_code == 200
    return response, {r.callsign: r for r in response.context["rows"]}


def test_it_counts_each_persons_load_over_the_window(supervisor_client, force, cadre):
    n1 = cadre["n1"]
    for days in (1, 2, 40):
        went(force, n1, days, hours=3)
    asked(force, n1, 3, answered=False)
    now = timezone.now()
    put_on(n1, start=now - timedelta(days=5), end=now - timedelta(days=3))
    _, by = rows(supervisor_client)
    r = by["N-ONE"]
    assert (r.received, r.answered, r.accepted, r.deployments) == (3, 2, 2, 2)
    assert r.hours_deployed == pytest.approx(6)
    assert r.hours_on_call == pytest.approx(48)
    assert r.nights == 2
    _, by = rows(supervisor_client, "/reports/workload/?days=90")
    assert by["N-ONE"].deployments == 3


def test_it_flags_too_many_deployments_in_30_days(supervisor_client, force, cadre):
    for days in range(5):
        went(force, cadre["n1"], days + 1)
    for days in range(4):
        went(force, cadre["n2"], days + 1)
    _, by = rows(supervisor_client)
    assert by["N-ONE"].flags == ["5 deployments in 30 days (more than 4)"]
    assert by["N-TWO"].flags == []
    WorkloadSettings.objects.create(force=force, max_deployments_30_days=3)
    _, by = rows(supervisor_client)
    assert by["N-TWO"].flags == ["4 deployments in 30 days (more than 3)"]
    assert "N-ONE" in supervisor_client.get("/").content.decode()


def test_it_flags_the_last_callouts_unanswered(supervisor_client, force, cadre):
    asked(force, cadre["n3"], 10, answered=True)
    for days in (3, 2, 1):
        asked(force, cadre["n3"], days)
        asked(force, cadre["n4"], days, answered=days == 2)
    _, by = rows(supervisor_client)
    assert by["N-THREE"].flags == ["has not answered the last 3 callouts"]
    assert by["N-FOUR"].flags == []
    dashboard = supervisor_client.get("/").content.decode()
    assert "has not answered the last 3 callouts" in dashboard


def test_it_sorts_by_a_column(supervisor_client, force, cadre):
    went(force, cadre["n2"], 1)
    went(force, cadre["n2"], 2)
    went(force, cadre["n4"], 1)
    response, _ = rows(supervisor_client, "/reports/workload/?sort=deployments&dir=desc")
    assert [r.callsign for r in response.context["rows"]][:2] == ["N-TWO", "N-FOUR"]
    response, _ = rows(supervisor_client, "/reports/workload/?sort=nonsense")
    assert response.context["sort"] == "callsign"


def test_it_shows_names_to_coordinators_only(
    client, force, cadre, coordinator_user, supervisor_user
):
    client.force_login(supervisor_user)
    assert cadre["n1"].full_name not in client.get("/reports/workload/").content.decode()
    client.force_login(coordinator_user)
    assert cadre["n1"].full_name in client.get("/reports/workload/").content.decode()


def test_it_saves_the_forces_thresholds_and_refuses_nonsense(supervisor_client, force, cadre):
    supervisor_client.post(
        "/reports/workload/settings/",
        {"force": force.code, "max_deployments_30_days": 6, "unanswered_in_a_row": 2},
    )
    saved = WorkloadSettings.objects.get(force=force)
    assert (saved.max_deployments_30_days, saved.unanswered_in_a_row) == (6, 2)
    supervisor_client.post(
        "/reports/workload/settings/",
        {"force": force.code, "max_deployments_30_days": 0, "unanswered_in_a_row": "x"},
    )
    saved.refresh_from_db()
    assert saved.max_deployments_30_days == 6


def test_it_shows_a_negotiator_their_own_figures(negotiator_client, force):
    from cadre.models import Negotiator

    me = Negotiator.objects.get(callsign="ALPHA-01")
    went(force, me, 50)
    response = negotiator_client.get("/reports/mine/")
    windows = dict(response.context["windows"])
    assert (windows[30].deployments, windows[90].deployments, windows[365].deployments) == (0, 1, 1)
    assert negotiator_client.get("/reports/workload/").status_code == 403


def test_it_takes_the_same_number_of_queries_as_the_cadre_grows(supervisor_client, force, cadre):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import make_negotiator

    def count():
        with CaptureQueriesContext(connection) as ctx:
            supervisor_client.get("/reports/workload/?days=365")
        return len(ctx.captured_queries)

    went(force, cadre["n1"], 3)
    before = count()
    for _ in range(5):
        person = make_negotiator(force=force)
        went(force, person, 4)
        asked(force, person, 2)
        put_on(person, start=timezone.now() - timedelta(days=20))
    assert count() == before


def test_it_does_not_count_a_callout_filled_before_they_could_answer(
    supervisor_client, force, cadre
):
    for days in (3, 2, 1):
        c = asked(force, cadre["n3"], days)
        Callout.objects.filter(pk=c.pk).update(first_step=1)
        c.refresh_from_db()
        Callout.objects.filter(pk=c.pk).update(stood_down_at=c.asked_at + timedelta(minutes=2))
    for days in (3, 2, 1):
        c = asked(force, cadre["n4"], days)
        Callout.objects.filter(pk=c.pk).update(
            stood_down_at=timezone.now() - timedelta(days=days) + timedelta(minutes=20)
        )
    _, by = rows(supervisor_client)
    assert by["N-THREE"].flags == []
    assert by["N-FOUR"].flags == ["has not answered the last 3 callouts"]
