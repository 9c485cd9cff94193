"""The rota without traps: pickers offer only who can take the shift, the rotations page loads
clean, undo is each coordinator's own, the changes log reads in clock time, conflict notes sit
on the days they concern."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone

from roster.models import RotaChange
from tests.factories import (
    MONDAY,
    make_negotiator,
    make_unavailability,
    make_user,
    put_on,
)

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}


def options(html, select_name):
    """The callsigns a <select name=…> offers (its blank choice left out)."""
    start = html.index(f'name="{select_name}"')
    block = html[start : html.index("</select>", start)]
    return re.findall(r'<option value="\d+"[^>]*>([^<]+)</option>', block)


@pytest.fixture
def mixed(force):
    """Who can and cannot take a negotiator shift."""
    return {
        "neg": make_negotiator(force, "NEG-OK"),
        "both": make_negotiator(force, "BOTH-OK", roles=("negotiator", "coordinator")),
        "coord": make_negotiator(force, "COORD-ONLY", roles=("coordinator",)),
        "adviser": make_negotiator(force, "ADVISER", roles=("adviser",)),
        "lapsed": make_negotiator(force, "LAPSED", valid_until=date(2020, 6, 1)),
        "inactive": make_negotiator(force, "INACTIVE", active=False),
    }


def test_it_offers_only_who_can_take_a_new_shift(coordinator_client, rota, mixed):
    day = (timezone.now() + timedelta(days=2)).date().isoformat()
    html = coordinator_client.get(
        f"/rota/shift/new/?role=negotiator&day={day}", headers=HX
    ).content.decode()
    assert options(html, "negotiator") == ["BOTH-OK", "NEG-OK"]
    html = coordinator_client.get(
        f"/rota/shift/new/?role=coordinator&day={day}", headers=HX
    ).content.decode()
    assert options(html, "negotiator") == ["BOTH-OK", "COORD-ONLY"]


def test_it_offers_only_who_can_cover_or_take_over_a_shift(coordinator_client, rota, mixed):
    start = timezone.now() + timedelta(days=2)
    shift = put_on(mixed["neg"], start=start, days=1)
    html = coordinator_client.get(f"/rota/shift/{shift.pk}/", headers=HX).content.decode()
    assert options(html, "cover-negotiator") == ["BOTH-OK"]  # never NEG-OK to cover NEG-OK
    assert options(html, "move-negotiator") == ["BOTH-OK", "NEG-OK"]


def test_it_offers_a_swap_only_to_who_can_take_it(client, rota, force, mixed):
    user = make_user("me", ["negotiator"], force=force)
    mine = make_negotiator(force, "ME-ONE", user=user)
    put_on(mine, start=timezone.now() + timedelta(days=2), days=1)
    client.force_login(user)
    html = client.get("/rota/mine/").content.decode()
    assert options(html, "taker") == ["BOTH-OK", "NEG-OK"]


def test_it_loads_the_rotations_page_without_errors(coordinator_client, rota):
    html = coordinator_client.get("/rota/patterns/").content.decode()
    assert "This field is required" not in html
    assert "New rotation" in html
    # A POST still checks the form.
    html = coordinator_client.post("/rota/patterns/", {}).content.decode()
    assert "This field is required" in html


def test_it_undoes_only_the_coordinators_own_changes(client, rota, force, cadre):
    first = make_user("first", ["coordinator"], force=force)
    second = make_user("second", ["coordinator"], force=force)
    # The demo seed's generated shifts: nobody's, never offered.
    RotaChange.objects.create(rota=rota, by=None, action="generate", summary="Demo data")
    mine = put_on(cadre["n1"], start=MONDAY + timedelta(days=700))
    theirs = put_on(cadre["n2"], start=MONDAY + timedelta(days=700))
    client.force_login(first)
    client.post(f"/rota/shift/{mine.pk}/remove/", {"confirm": "yes"}, headers=HX)
    client.force_login(second)
    board = client.get("/rota/board/").content.decode()
    assert "Undo:" not in board  # the first coordinator's removal is not the second's to undo
    client.post(f"/rota/shift/{theirs.pk}/remove/", {"confirm": "yes"}, headers=HX)
    assert "Undo: Removed N-TWO" in client.get("/rota/board/").content.decode()
    client.post("/rota/undo/", headers=HX)
    undone = RotaChange.objects.filter(undone_at__isnull=False).get()
    assert undone.by == second
    client.force_login(first)
    assert "Undo: Removed N-ONE" in client.get("/rota/board/").content.decode()
    response = client.post("/rota/undo/", headers=HX)
    assert "Undid: Removed N-ONE" in response.content.decode()
    assert "There is no change to undo" in client.post("/rota/undo/", headers=HX).content.decode()


def test_it_shows_the_changes_log_in_clock_time(coordinator_client, rota, cadre, settings):
    # 1 July 07:00 UTC is 08:00 in London (BST).
    shift = put_on(cadre["n1"], start=datetime(2026, 7, 1, 7, tzinfo=UTC), days=1)
    coordinator_client.post(f"/rota/shift/{shift.pk}/remove/", {"confirm": "yes"}, headers=HX)
    html = coordinator_client.get("/rota/changes/").content.decode()
    assert '<span class="nowrap">Wed 1 Jul 08:00 →</span>' in html
    assert "2026-07-01T07:00" not in html


def test_it_puts_a_conflict_note_only_on_the_days_it_concerns(coordinator_client, rota, cadre):
    # A week's shift from Monday; unavailable Wednesday only.
    put_on(cadre["n1"], start=MONDAY, days=7)
    make_unavailability(cadre["n1"], start=MONDAY + timedelta(days=2), days=1)
    html = coordinator_client.get("/rota/board/?view=week&at=2026-01-05").content.decode()

    def cell(day):
        start = html.index(f'data-day="{day}" data-role="negotiator"')
        return html[start : html.index("</td>", start)]

    assert "unavailable" in cell("2026-01-07")
    assert "unavailable" not in cell("2026-01-05")
    assert "unavailable" not in cell("2026-01-10")
