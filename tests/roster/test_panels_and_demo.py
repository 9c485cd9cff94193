from datetime import timedelta

from django.core.management import call_command
from django.utils import timezone

from roster.models import RotaChange, Shift, Unavailability
from tests.factories import put_on


def test_it_shows_who_is_on_call_now_and_next_and_the_next_gap(coordinator_client, rota, cadre):
    now = timezone.now()
    put_on(cadre["n1"], start=now - timedelta(hours=1), days=1)
    put_on(cadre["n2"], start=now - timedelta(hours=1), days=1)
    put_on(cadre["n3"], start=now + timedelta(hours=23), days=1)
    html = coordinator_client.get("/").content.decode()
    assert "On call" in html
    assert "N-ONE, N-TWO" in html
    assert "Next gap in cover" in html


def test_it_links_the_rota_for_coordinators(coordinator_client):
    assert b"/rota/board/" in coordinator_client.get("/").content


def test_it_seeds_a_demo_rota_with_red_in_it_twice_the_same(db):
    call_command("seed_demo")
    counts = (Shift.objects.count(), Unavailability.objects.count(), RotaChange.objects.count())
    call_command("seed_demo")
    assert counts == (
        Shift.objects.count(),
        Unavailability.objects.count(),
        RotaChange.objects.count(),
    )
    assert counts[0] > 20 and counts[1] == 1
