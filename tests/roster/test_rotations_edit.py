"""Rotations are edited and ended in the app by a coordinator: the future shifts a rotation
made follow the change (regenerated, or removed when it ends), past ones stay; the change is
in the changes log and can be undone."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone

from roster import services
from roster.models import RotaChange, RotationPattern, Shift
from tests.factories import make_negotiator

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}


@pytest.fixture
def rotation(rota, cadre, coordinator_user, settings):
    """A weekly negotiator rotation (N-ONE, N-TWO), generated from four weeks ago to four
    weeks ahead."""
    today = timezone.localdate()
    monday = today - timedelta(days=today.weekday())
    pattern = RotationPattern.objects.create(
        rota=rota,
        name="Weekly",
        role="negotiator",
        starts_on=monday - timedelta(weeks=4),
        order=[cadre["n1"].pk, cadre["n2"].pk],
    )
    services.generate(
        rota,
        pattern,
        monday - timedelta(weeks=4),
        monday + timedelta(weeks=4),
        reason="set up",
        by=coordinator_user,
    )
    return pattern


def live(pattern=None):
    shifts = Shift.objects.live().order_by("start")
    return list(shifts.filter(pattern=pattern) if pattern else shifts)


def form(pattern, **changes):
    data = {
        "name": pattern.name,
        "role": pattern.role,
        "length": pattern.length,
        "handover_weekday": pattern.handover_weekday,
        "handover_time": pattern.handover_time.strftime("%H:%M"),
        "on_at_once": pattern.on_at_once,
        "starts_on": pattern.starts_on.isoformat(),
        "callsigns": "N-ONE N-TWO",
    }
    return {**data, **changes}


def test_it_lists_rotations_with_edit_links(coordinator_client, rotation):
    html = coordinator_client.get("/rota/patterns/").content.decode()
    assert f'href="/rota/patterns/{rotation.pk}/"' in html
    page = coordinator_client.get(f"/rota/patterns/{rotation.pk}/").content.decode()
    assert 'value="N-ONE N-TWO"' in page
    assert "upcoming shift" in page  # it says what happens to the shifts it made


def test_it_regenerates_the_future_shifts_and_keeps_the_past(coordinator_client, rotation, cadre):
    now = timezone.now()
    past = [(s.pk, s.negotiator_id) for s in live(rotation) if s.start < now]
    response = coordinator_client.post(
        f"/rota/patterns/{rotation.pk}/", form(rotation, callsigns="N-THREE N-FOUR"), follow=True
    )
    html = response.content.decode()
    assert "Rotation “Weekly” changed" in html
    after = live()
    assert [(s.pk, s.negotiator_id) for s in after if s.start < now] == past
    future = [s for s in after if s.start >= now]
    assert future and {s.negotiator.callsign for s in future} <= {"N-THREE", "N-FOUR"}
    # The same stretch is still covered, without a gap or an overlap.
    for a, b in zip(after, after[1:], strict=False):
        assert a.end == b.start
    change = RotaChange.objects.get(action="rotation")
    assert change.by.username == "coord"
    assert {s["callsign"] for s in change.before} == {"N-ONE", "N-TWO"}
    rotation.refresh_from_db()
    assert rotation.order == [cadre["n3"].pk, cadre["n4"].pk]


def test_it_undoes_a_rotation_edit(coordinator_client, rotation):
    before = [(s.pk, s.negotiator_id) for s in live()]
    coordinator_client.post(
        f"/rota/patterns/{rotation.pk}/",
        form(rotation, name="Renamed", callsigns="N-THREE", reason="Only one free"),
    )
    board = coordinator_client.get("/rota/board/").content.decode()
    assert "Undo: Rotation “Weekly” changed" in board
    change = RotaChange.objects.get(action="rotation")
    coordinator_client.post("/rota/undo/", {"change": change.pk}, headers=HX)
    assert [(s.pk, s.negotiator_id) for s in live()] == before
    rotation.refresh_from_db()
    assert rotation.name == "Weekly"
    assert rotation.order[0] != rotation.order[1]


def test_it_ends_a_rotation_removing_its_future_shifts_only(coordinator_client, rotation):
    now = timezone.now()
    past = [s.pk for s in live() if s.start < now]
    page = coordinator_client.post(f"/rota/patterns/{rotation.pk}/end/", {}).content.decode()
    assert "Tick the box" in page
    assert len(live()) > len(past)
    response = coordinator_client.post(
        f"/rota/patterns/{rotation.pk}/end/", {"confirm": "yes"}, follow=True
    )
    assert "Rotation “Weekly” ended" in response.content.decode()
    assert [s.pk for s in live()] == past
    rotation.refresh_from_db()
    assert rotation.ended_at is not None
    # An ended rotation is not offered for generating.
    panel = coordinator_client.get("/rota/generate/", headers=HX).content.decode()
    assert "Weekly" not in panel
    # Undo brings it and its shifts back.
    change = RotaChange.objects.get(action="rotation_end")
    coordinator_client.post("/rota/undo/", {"change": change.pk}, headers=HX)
    rotation.refresh_from_db()
    assert rotation.ended_at is None
    assert len(live()) > len(past)


def test_it_refuses_a_bad_edit_and_changes_nothing(coordinator_client, rotation):
    before = [(s.pk, s.negotiator_id) for s in live()]
    html = coordinator_client.post(
        f"/rota/patterns/{rotation.pk}/", form(rotation, callsigns="NOBODY-9")
    ).content.decode()
    assert "Unknown callsigns: NOBODY-9" in html
    assert [(s.pk, s.negotiator_id) for s in live()] == before
    assert not RotaChange.objects.filter(action="rotation").exists()


def test_it_asks_before_replacing_a_cover_made_in_a_future_week(
    coordinator_client, rotation, coordinator_user, cadre
):
    shift = next(s for s in live(rotation) if s.start > timezone.now() + timedelta(days=8))
    services.cover(shift, cadre["n4"], shift.start, shift.end, by=coordinator_user)
    html = coordinator_client.post(
        f"/rota/patterns/{rotation.pk}/", form(rotation, callsigns="N-THREE", reason="x")
    ).content.decode()
    assert "edited by hand" in html
    assert not RotaChange.objects.filter(action="rotation").exists()
    coordinator_client.post(
        f"/rota/patterns/{rotation.pk}/",
        form(rotation, callsigns="N-THREE", confirm="on", reason="x"),
    )
    future = [s for s in live() if s.start >= timezone.now()]
    assert {s.negotiator.callsign for s in future} == {"N-THREE"}


def test_it_keeps_the_rotation_page_from_other_forces(client, rotation):
    from tests.factories import make_force, make_user

    other = make_force("Elsewhere", "ELS")
    client.force_login(make_user("them", ["coordinator"], force=other))
    assert client.get(f"/rota/patterns/{rotation.pk}/").status_code == 404
    assert client.post(f"/rota/patterns/{rotation.pk}/end/", {"confirm": "yes"}).status_code == 404
    rotation.refresh_from_db()
    assert rotation.ended_at is None


def test_it_regenerates_across_the_clock_change_at_local_handover(
    coordinator_client, rota, cadre, coordinator_user, settings
):
    """A daily rotation edited before the October clock change keeps 08:00 London time."""
    settings.TIME_ZONE = "Europe/London"
    n5 = make_negotiator(rota.force, "N-FIVE")
    pattern = RotationPattern.objects.create(
        rota=rota,
        name="Daily",
        role="coordinator",
        length="day",
        starts_on=date(2027, 10, 20),
        order=[cadre["c1"].pk],
    )
    services.generate(
        rota, pattern, date(2027, 10, 20), date(2027, 11, 3), reason="x", by=coordinator_user
    )
    n5.roles = ("coordinator",)
    n5.save()
    coordinator_client.post(
        f"/rota/patterns/{pattern.pk}/",
        form(pattern, callsigns="N-FIVE C-ONE", role="coordinator", length="day", reason="x"),
    )
    shifts = live(pattern)
    assert [s.negotiator.callsign for s in shifts[:2]] == ["N-FIVE", "C-ONE"]
    assert {s.start.astimezone(timezone.get_current_timezone()).hour for s in shifts} == {8}
    assert shifts[0].start == datetime(2027, 10, 20, 7, tzinfo=UTC)  # BST
    assert shifts[-1].end == datetime(2027, 11, 3, 8, tzinfo=UTC)  # GMT


def test_it_warns_before_an_edit_and_saves_only_with_a_reason(coordinator_client, rotation):
    before = [(s.pk, s.negotiator_id) for s in live()]
    html = coordinator_client.post(
        f"/rota/patterns/{rotation.pk}/", form(rotation, callsigns="N-THREE")
    ).content.decode()
    assert "Check before saving" in html
    assert "N-THREE would be on call" in html
    assert [(s.pk, s.negotiator_id) for s in live()] == before
    rotation.refresh_from_db()
    assert len(rotation.order) == 2  # unchanged
    coordinator_client.post(
        f"/rota/patterns/{rotation.pk}/", form(rotation, callsigns="N-THREE", reason="Agreed")
    )
    assert RotaChange.objects.get(action="rotation").override_reason == "Agreed"
