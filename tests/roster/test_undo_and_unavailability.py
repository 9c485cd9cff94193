"""A coordinator's unavailability entries can be removed and undone; Undo says what it will
undo and undoes exactly that, never silently an earlier change."""

from datetime import timedelta

import pytest

from roster.models import RotaChange, Shift, Unavailability
from tests.factories import MONDAY, make_unavailability, put_on

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}
LATER = MONDAY + timedelta(days=700)


def mark(client, who, start="2027-12-06T08:00", end="2027-12-07T08:00"):
    return client.post(
        "/rota/unavailable/",
        {"negotiator": who.pk, "start": start, "end": end, "reason": "leave"},
        headers=HX,
    )


def undo_button(html):
    start = html.index('action="/rota/undo/"')
    return html[start : html.index("</form>", start)]


def test_it_undoes_an_unavailability_the_coordinator_entered(coordinator_client, rota, cadre):
    shift = put_on(cadre["n2"], start=LATER)
    coordinator_client.post(f"/rota/shift/{shift.pk}/remove/", {"confirm": "yes"}, headers=HX)
    mark(coordinator_client, cadre["n1"])
    assert Unavailability.objects.count() == 1
    board = coordinator_client.get("/rota/board/").content.decode()
    # The button names the latest change: the unavailability, not the removal before it.
    assert "Undo: N-ONE unavailable" in undo_button(board)
    html = coordinator_client.post(
        "/rota/undo/", {"change": RotaChange.objects.get(action="unavailable").pk}, headers=HX
    ).content.decode()
    assert "Undid: N-ONE unavailable" in html
    assert not Unavailability.objects.exists()
    assert not Shift.objects.live().exists()  # the removal before it still stands
    assert "Undo: Removed N-TWO" in undo_button(html)


def test_it_refuses_to_undo_a_change_other_than_the_one_the_button_named(
    coordinator_client, rota, cadre
):
    shift = put_on(cadre["n2"], start=LATER)
    coordinator_client.post(f"/rota/shift/{shift.pk}/remove/", {"confirm": "yes"}, headers=HX)
    removal = RotaChange.objects.get(action="remove")
    mark(coordinator_client, cadre["n1"])  # e.g. in another tab, after the page was loaded
    html = coordinator_client.post(
        "/rota/undo/", {"change": removal.pk}, headers=HX
    ).content.decode()
    assert "Your latest change is now" in html
    assert Unavailability.objects.count() == 1
    assert not Shift.objects.live().exists()
    assert RotaChange.objects.filter(undone_at__isnull=False).count() == 0


def test_it_lets_a_coordinator_remove_an_unavailability_and_undo_that(
    coordinator_client, rota, cadre
):
    absence = make_unavailability(cadre["n1"], start=LATER, days=2, reason="sickness")
    panel = coordinator_client.get("/rota/unavailable/", headers=HX).content.decode()
    assert f"/rota/unavailable/{absence.pk}/remove/" in panel
    # Not without the box ticked.
    html = coordinator_client.post(
        f"/rota/unavailable/{absence.pk}/remove/", {}, headers=HX
    ).content.decode()
    assert "Tick the box" in html
    assert Unavailability.objects.count() == 1
    html = coordinator_client.post(
        f"/rota/unavailable/{absence.pk}/remove/", {"confirm": "yes"}, headers=HX
    ).content.decode()
    assert "N-ONE available again" in html
    assert not Unavailability.objects.exists()
    assert "Undo: N-ONE available again" in undo_button(html)
    coordinator_client.post(
        "/rota/undo/", {"change": RotaChange.objects.get(action="available").pk}, headers=HX
    )
    back = Unavailability.objects.get()
    assert (back.negotiator, back.start, back.end, back.reason) == (
        cadre["n1"],
        LATER,
        LATER + timedelta(days=2),
        "sickness",
    )


def test_it_says_when_the_latest_change_cannot_be_undone(coordinator_client, rota, cadre):
    shift = put_on(cadre["n2"], start=LATER)
    coordinator_client.post(f"/rota/shift/{shift.pk}/remove/", {"confirm": "yes"}, headers=HX)
    coordinator_client.post(
        "/rota/rules/",
        {"negotiator": 2, "coordinator": 1, "adviser": 0, "max_consecutive_days": 7},
    )
    board = coordinator_client.get("/rota/board/").content.decode()
    button = undo_button(board)
    assert "Undo: Removed N-TWO" in button
    assert "Cover rules" in board[board.index("undo") :]  # the later change named as not undone
    assert "cannot be undone" in board
