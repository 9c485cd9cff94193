"""Welfare follow-ups: owed to everyone who went, due WELFARE_FOLLOW_UP_HOURS after stand-down."""

from datetime import timedelta

from django.utils import timezone

from cadre.access import COORDINATOR, SUPERVISOR
from reports.models import FollowUp
from tests.factories import make_incident, make_user
from tests.reports.conftest import deploy


def stood_down(force, person, hours_ago, **kw):
    incident = make_incident(force, status="closed")
    d = deploy(incident, person, "negotiator", 5, stood=0, **kw)
    d.stood_down_at = timezone.now() - timedelta(hours=hours_ago)
    d.accepted_at = d.stood_down_at - timedelta(hours=2)
    d.save()
    return d


def test_it_lists_a_follow_up_open_then_overdue_oldest_first(supervisor_client, force, cadre):
    fresh = stood_down(force, cadre["n1"], hours_ago=10)
    old = stood_down(force, cadre["n2"], hours_ago=80)
    stood_down(force, cadre["n3"], hours_ago=200, withdrawn=6)  # withdrew: did not go
    owed = supervisor_client.get("/reports/welfare/").context["owed"]
    assert [(o.deployment, o.state) for o in owed] == [(old, "overdue"), (fresh, "open")]
    assert owed[1].due_at == fresh.stood_down_at + timedelta(hours=72)
    dashboard = supervisor_client.get("/").content.decode()
    assert dashboard.index('data-callsign="N-TWO"') < dashboard.index('data-callsign="N-ONE"')
    assert "overdue since" in dashboard


def test_it_falls_due_after_the_setting(supervisor_client, force, cadre, settings):
    settings.WELFARE_FOLLOW_UP_HOURS = 8
    stood_down(force, cadre["n1"], hours_ago=10)
    (owed,) = supervisor_client.get("/reports/welfare/").context["owed"]
    assert owed.state == "overdue"


def test_it_records_a_follow_up_done_with_a_note_only_supervisors_read(client, force, cadre):
    d = stood_down(force, cadre["n1"], hours_ago=30)
    coordinator = make_user("coord", [COORDINATOR], force=force)
    client.force_login(coordinator)
    # An hour after they were stood down, whatever the time of day the test runs at (a
    # fixed 09:30 yesterday was before they were deployed once the clock passed 17:30).
    held = timezone.localtime(d.stood_down_at + timedelta(hours=1))
    today = held.date()
    response = client.post(
        f"/reports/welfare/{d.pk}/",
        {
            "outcome": "done",
            "held_on": today.isoformat(),
            "held_time": held.strftime("%H:%M"),
            "note": "Slept badly",
        },
    )
    assert response.status_code == 302
    follow_up = FollowUp.objects.get(deployment=d)
    assert (follow_up.outcome, follow_up.recorded_by, follow_up.note) == (
        "done",
        coordinator,
        "Slept badly",
    )
    page = client.get("/reports/welfare/")
    assert page.context["owed"] == [] and "Slept badly" not in page.content.decode()
    client.force_login(make_user("sup", [SUPERVISOR], force=force))
    assert "Slept badly" in client.get("/reports/welfare/").content.decode()
    # Once only.
    again = client.post(
        f"/reports/welfare/{d.pk}/", {"outcome": "declined", "held_on": today.isoformat()}
    )
    assert again.status_code == 302 and FollowUp.objects.count() == 1


def test_it_records_a_declined_follow_up(supervisor_client, force, cadre):
    d = stood_down(force, cadre["n1"], hours_ago=30)
    supervisor_client.post(
        f"/reports/welfare/{d.pk}/",
        {"outcome": "declined", "held_on": timezone.localdate().isoformat()},
    )
    assert FollowUp.objects.get(deployment=d).outcome == "declined"


def test_it_refuses_a_follow_up_in_the_future_and_saves_nothing(supervisor_client, force, cadre):
    d = stood_down(force, cadre["n1"], hours_ago=30)
    tomorrow = timezone.localdate() + timedelta(days=2)
    response = supervisor_client.post(
        f"/reports/welfare/{d.pk}/", {"outcome": "done", "held_on": tomorrow.isoformat()}
    )
    assert response.status_code == 400
    assert "That is in the future." in response.content.decode()
    response = supervisor_client.post(
        f"/reports/welfare/{d.pk}/", {"outcome": "maybe", "held_on": "31/02/2026"}
    )
    assert response.status_code == 400
    assert not FollowUp.objects.exists()


def test_it_hides_another_forces_follow_ups(client, force, cadre):
    from tests.factories import make_force, make_negotiator

    other = make_force("Other", "OTH")
    d = stood_down(other, make_negotiator(force=other), hours_ago=100)
    user = make_user("sup", [SUPERVISOR], force=force)
    make_negotiator(force=force, user=user, roles=("coordinator",))
    client.force_login(user)
    assert client.get("/reports/welfare/").context["owed"] == []
    assert client.get(f"/reports/welfare/{d.pk}/").status_code == 404


def test_it_pages_the_recorded_follow_ups_newest_first(
    supervisor_client, force, cadre, monkeypatch, django_assert_max_num_queries
):
    from reports import views

    monkeypatch.setattr(views, "RECORDED_PAGE", 2)

    def record(count):
        for hours in range(count):
            d = stood_down(force, cadre["n1"], hours_ago=100 + hours)
            held_at = d.stood_down_at + timedelta(hours=1)
            FollowUp.objects.create(deployment=d, outcome="done", held_at=held_at)

    record(1)
    with django_assert_max_num_queries(40) as counted:
        supervisor_client.get("/reports/welfare/")
    few = len(counted)
    record(4)
    with django_assert_max_num_queries(few):
        first = supervisor_client.get("/reports/welfare/")
    newest = FollowUp.objects.order_by("-held_at")
    assert list(first.context["recorded"]) == list(newest[:2])
    oldest = supervisor_client.get("/reports/welfare/?page=3")
    assert list(oldest.context["recorded"]) == [newest.last()]
    assert supervisor_client.get("/reports/welfare/?page=zz").context["recorded"].number == 1
    assert supervisor_client.get("/reports/welfare/?page=7").context["recorded"].number == 3
