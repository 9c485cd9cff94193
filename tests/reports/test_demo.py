"""seed_demo's history: real incidents through the real services, the same each time."""

from io import StringIO

from django.core.management import call_command

from callouts.models import Deployment, Event, Incident
from reports.demo import DEMO_BRIEF
from reports.models import FollowUp


def seeded(settings, days=60):
    settings.DEMO_HISTORY_DAYS = days
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_it_plays_out_past_incidents_through_the_engine_and_runs_once(db, settings, client):
    out = seeded(settings)
    history = Incident.objects.filter(force__code="WSX", brief=DEMO_BRIEF)
    assert history.count() >= 12 and "Demo history:" in out
    assert set(history.values_list("status", flat=True)) == {"closed"}
    one = history.filter(filled_at__isnull=False).first()
    kinds = set(Event.objects.filter(incident=one).values_list("kind", flat=True))
    assert {"raised", "step_fired", "message_queued", "accepted", "filled", "closed"} <= kinds
    assert Deployment.objects.filter(incident=one, stood_down_at__isnull=False).exists()
    assert FollowUp.objects.exists()
    assert not history.filter(messages__status="pending").exists()
    from django_q.models import OrmQ

    assert not OrmQ.objects.exists()  # nothing queued for the past
    before = (history.count(), Event.objects.count())
    assert "already there" in seeded(settings)
    assert (history.count(), Event.objects.count()) == before
    from django.contrib.auth.models import User

    client.force_login(User.objects.get(username="supervisor"))  # the demo's, in Wessex
    page = client.get("/reports/")
    assert page.context["figures"].total > 0
