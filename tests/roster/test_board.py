from datetime import timedelta

import pytest

from cadre.models import Role
from roster.models import RotaChange, Shift
from tests.factories import MONDAY, make_unavailability, put_on

BOARD = "/rota/board/?view=week&at=2026-01-05"


def test_it_shows_the_week_with_gaps_in_red(coordinator_client, rota, cadre):
    put_on(cadre["n1"])
    response = coordinator_client.get(BOARD)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="cell gap"' in html
    assert "1 of 2, too few rostered" in html
    assert "nobody rostered" in html  # no coordinator


def test_it_shows_the_month(coordinator_client, rota, cadre):
    response = coordinator_client.get("/rota/board/?view=month&at=2026-01-05")
    assert response.status_code == 200
    assert "January 2026" in response.content.decode()


def test_it_adds_a_shift_in_place(coordinator_client, rota, cadre):
    response = coordinator_client.post(
        "/rota/shift/new/",
        {
            "view": "week",
            "at": "2026-01-05",
            "negotiator": cadre["c1"].pk,
            "role": Role.COORDINATOR,
            "start": "2026-01-05T08:00",
            "end": "2026-01-12T08:00",
        },
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert response.content.decode().startswith('<div id="board"')
    shift = Shift.objects.get(negotiator=cadre["c1"])
    assert shift.start == MONDAY
    change = RotaChange.objects.get()
    assert change.action == "add"
    assert change.after[0]["callsign"] == "C-ONE"


def test_it_refuses_bad_times_with_a_message_and_saves_nothing(coordinator_client, rota, cadre):
    for start, end, message in [
        ("2026-01-06T08:00", "2026-01-05T08:00", "The end is before the start."),
        ("2026-01-05T08:00", "2026-01-05T08:00", "Start and end are the same"),
    ]:
        response = coordinator_client.post(
            "/rota/shift/new/",
            {"negotiator": cadre["n1"].pk, "role": "negotiator", "start": start, "end": end},
            headers={"HX-Request": "true"},
        )
        assert message in response.content.decode()
    assert not Shift.objects.exists()
    assert not RotaChange.objects.exists()


def test_it_refuses_an_inactive_negotiator_and_a_duplicate(coordinator_client, rota, cadre):
    put_on(cadre["n1"])
    data = {
        "negotiator": cadre["n1"].pk,
        "role": "negotiator",
        "start": "2026-01-06T08:00",
        "end": "2026-01-07T08:00",
    }
    response = coordinator_client.post("/rota/shift/new/", data, headers={"HX-Request": "true"})
    assert "that would be a duplicate" in response.content.decode()
    cadre["n2"].active = False
    cadre["n2"].save()
    data["negotiator"] = cadre["n2"].pk
    response = coordinator_client.post("/rota/shift/new/", data, headers={"HX-Request": "true"})
    # Inactive people are not even offered in the list.
    assert "Select a valid choice" in response.content.decode()
    assert Shift.objects.count() == 1


def test_it_warns_before_saving_and_records_an_override_reason(coordinator_client, rota, cadre):
    make_unavailability(cadre["n1"], start=MONDAY, reason="sickness")
    data = {
        "negotiator": cadre["n1"].pk,
        "role": "negotiator",
        "start": "2026-01-05T08:00",
        "end": "2026-01-06T08:00",
    }
    response = coordinator_client.post("/rota/shift/new/", data, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert "Check before saving" in html
    assert "N-ONE is unavailable" in html
    assert "Sickness" in html  # coordinators see the reason
    assert not Shift.objects.exists()
    data["reason"] = "Agreed by phone: back at work"
    coordinator_client.post("/rota/shift/new/", data, headers={"HX-Request": "true"})
    change = RotaChange.objects.get()
    assert change.override_reason == "Agreed by phone: back at work"
    assert "N-ONE is unavailable" in change.warnings[0]


def test_it_covers_part_of_a_shift_keeping_the_original_in_history(coordinator_client, rota, cadre):
    shift = put_on(cadre["n1"])
    coordinator_client.post(
        f"/rota/shift/{shift.pk}/cover/",
        {
            "cover-negotiator": cadre["n3"].pk,
            "cover-start": "2026-01-07T08:00",
            "cover-end": "2026-01-08T08:00",
        },
        headers={"HX-Request": "true"},
    )
    shift.refresh_from_db()
    assert shift.superseded_at is not None
    live = Shift.objects.live().order_by("start")
    assert [(s.negotiator.callsign, s.start.day, s.end.day) for s in live] == [
        ("N-ONE", 5, 7),
        ("N-THREE", 7, 8),
        ("N-ONE", 8, 12),
    ]
    assert all(s.replaces_id == shift.pk for s in live)


def test_it_undoes_the_last_change(coordinator_client, rota, cadre):
    shift = put_on(cadre["n1"])
    coordinator_client.post(
        f"/rota/shift/{shift.pk}/remove/", {"confirm": "yes"}, headers={"HX-Request": "true"}
    )
    assert not Shift.objects.live().exists()
    response = coordinator_client.post("/rota/undo/", headers={"HX-Request": "true"})
    assert "Undid: Removed N-ONE" in response.content.decode()
    assert list(Shift.objects.live()) == [shift]
    assert RotaChange.objects.filter(action="undo").count() == 1


def test_it_removes_a_shift_only_once_confirmed(coordinator_client, rota, cadre):
    shift = put_on(cadre["n1"])
    response = coordinator_client.post(
        f"/rota/shift/{shift.pk}/remove/", headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert "Tick the box to confirm first." in html and "Yes, remove this shift" in html
    assert list(Shift.objects.live()) == [shift]


def test_it_declines_a_swap_only_once_confirmed(coordinator_client, rota, cadre):
    from roster.models import SwapRequest

    swap = SwapRequest.objects.create(shift=put_on(cadre["n1"]), taker=cadre["n2"])
    asked = coordinator_client.get(f"/rota/swap/{swap.pk}/", headers={"HX-Request": "true"})
    assert "Yes, decline this swap" in asked.content.decode()
    url = f"/rota/swap/{swap.pk}/"
    coordinator_client.post(url, {"decision": "decline"}, headers={"HX-Request": "true"})
    swap.refresh_from_db()
    assert swap.status == "pending"
    coordinator_client.post(
        url, {"decision": "decline", "confirm": "yes"}, headers={"HX-Request": "true"}
    )
    swap.refresh_from_db()
    assert swap.status == "declined"


def test_it_moves_a_shift_to_someone_else(coordinator_client, rota, cadre):
    shift = put_on(cadre["n1"])
    coordinator_client.post(
        f"/rota/shift/{shift.pk}/move/",
        {
            "move-negotiator": cadre["n2"].pk,
            "move-role": "negotiator",
            "move-start": "2026-01-05T08:00",
            "move-end": "2026-01-12T08:00",
        },
        headers={"HX-Request": "true"},
    )
    assert [s.negotiator for s in Shift.objects.live()] == [cadre["n2"]]


def test_it_lets_supervisors_look_but_not_edit(supervisor_client, rota, cadre):
    shift = put_on(cadre["n1"])
    response = supervisor_client.get(BOARD)
    assert response.status_code == 200
    assert b"+ add" not in response.content
    assert supervisor_client.post(f"/rota/shift/{shift.pk}/remove/").status_code == 403
    assert list(Shift.objects.live()) == [shift]
    assert not RotaChange.objects.exists()


def test_it_keeps_negotiators_off_the_board(negotiator_client, rota, cadre):
    shift = put_on(cadre["n1"])
    assert negotiator_client.get(BOARD).status_code == 403
    assert negotiator_client.post("/rota/undo/").status_code == 403
    assert negotiator_client.post(f"/rota/shift/{shift.pk}/remove/").status_code == 403
    assert list(Shift.objects.live()) == [shift]
    assert not RotaChange.objects.exists()


def test_it_shows_the_audit_to_coordinators_and_supervisors_only(coordinator_client, rota, cadre):
    shift = put_on(cadre["n1"])
    coordinator_client.post(
        f"/rota/shift/{shift.pk}/remove/", {"confirm": "yes"}, headers={"HX-Request": "true"}
    )
    html = coordinator_client.get("/rota/changes/").content.decode()
    assert "Removed N-ONE" in html
    assert "coord" in html


def test_it_keeps_the_audit_from_negotiators(negotiator_client):
    assert negotiator_client.get("/rota/changes/").status_code == 403


def test_it_shows_no_gap_across_the_october_clock_change(coordinator_client, rota, cadre):
    from datetime import date

    from roster import services
    from roster.models import CoverageRule, RotationPattern

    CoverageRule.objects.create(rota=rota, role="coordinator", minimum=0)
    daily = RotationPattern.objects.create(
        rota=rota,
        name="Daily",
        role="negotiator",
        length="day",
        on_at_once=2,
        starts_on=date(2026, 10, 1),
        order=[cadre[k].pk for k in ("n1", "n2", "n3", "n4")],
    )
    services.generate(rota, daily, date(2026, 10, 10), date(2026, 11, 10), True, "test", by=None)
    saturday = Shift.objects.live().get(negotiator=cadre["n3"], start__date=date(2026, 10, 24))
    assert saturday.end - saturday.start == timedelta(hours=25)
    html = coordinator_client.get("/rota/board/?view=week&at=2026-10-25").content.decode()
    assert "Fully covered" in html


def test_it_survives_absurd_input_without_a_500(coordinator_client, rota, cadre):
    for url in (
        "/rota/board/?view=month&at=0001-01-01",
        "/rota/board/?view=week&at=9999-12-31",
        "/rota/board/?at=nonsense",
        "/rota/shift/new/?day=0001-01-01&role=nobody",
    ):
        assert coordinator_client.get(url).status_code == 200
    response = coordinator_client.post(
        "/rota/shift/new/",
        {
            "negotiator": cadre["n1"].pk,
            "role": "negotiator",
            "start": "9999-12-31T08:00",
            "end": "9999-12-31T09:00",
        },
        headers={"HX-Request": "true"},
    )
    assert "Dates must lie between 2000 and 2100." in response.content.decode()
    assert not Shift.objects.exists()


@pytest.mark.parametrize("person", ["abc", "-1", "99999999999999999999", "١٢", "1.5"])
def test_it_asks_who_is_unavailable_when_the_person_is_not_an_id(
    coordinator_client, rota, cadre, person
):
    from roster.models import Unavailability

    response = coordinator_client.post(
        "/rota/unavailable/",
        {"negotiator": person, "start": "2026-01-05T08:00", "end": "2026-01-06T08:00"},
    )
    assert response.status_code == 200
    assert "Choose who is unavailable." in response.text
    assert not Unavailability.objects.exists()
