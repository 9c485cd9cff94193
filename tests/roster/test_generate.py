from datetime import date, time, timedelta

from roster.models import RotaChange, RotationPattern, Shift
from tests.factories import MONDAY, put_on


def pattern(rota, people, role="negotiator", at_once=2, name="Weekly"):
    return RotationPattern.objects.create(
        rota=rota,
        name=name,
        role=role,
        handover_weekday=0,
        handover_time=time(8),
        on_at_once=at_once,
        starts_on=date(2026, 1, 5),
        order=[n.pk for n in people],
    )


def generate(client, p, first="2026-01-01", end="2026-02-01", **extra):
    return client.post(
        "/rota/generate/",
        {
            "pattern": p.pk,
            "first_day": first,
            "end_day": end,
            "view": "month",
            "at": first,
            **extra,
        },
        headers={"HX-Request": "true"},
    )


def test_it_generates_a_month_from_a_rotation(coordinator_client, rota, cadre):
    p = pattern(rota, [cadre[k] for k in ("n1", "n2", "n3", "n4")])
    response = generate(coordinator_client, p)
    assert response.status_code == 200
    shifts = Shift.objects.live().filter(role="negotiator")
    # Thu 1 Jan 08:00 to Sun 1 Feb 08:00: a part week, three weeks, a part week; two at once.
    assert shifts.count() == 10
    assert RotaChange.objects.get().action == "generate"


def test_it_asks_before_replacing_hand_edits_and_replaces_once_confirmed(
    coordinator_client, rota, cadre
):
    p = pattern(rota, [cadre[k] for k in ("n1", "n2", "n3", "n4")])
    manual = put_on(cadre["n1"], start=MONDAY + timedelta(days=14), days=1)
    response = generate(coordinator_client, p)
    assert "edited by hand" in response.content.decode()
    assert list(Shift.objects.live()) == [manual]
    generate(coordinator_client, p, confirm="on")
    manual.refresh_from_db()
    assert manual.superseded_at is not None
    assert Shift.objects.live().count() == 10


def test_it_regenerates_its_own_shifts_without_asking(coordinator_client, rota, cadre):
    p = pattern(rota, [cadre[k] for k in ("n1", "n2", "n3", "n4")])
    generate(coordinator_client, p)
    generate(coordinator_client, p)
    assert Shift.objects.live().count() == 10
    assert RotaChange.objects.count() == 2


def test_a_failing_batch_saves_nothing(coordinator_client, rota, cadre):
    people = [cadre[k] for k in ("n1", "n2", "n3")]
    p = pattern(rota, people)
    cadre["n2"].active = False
    cadre["n2"].save()
    response = generate(coordinator_client, p)
    assert "N-TWO is inactive" in response.content.decode()
    assert not Shift.objects.exists()
    assert not RotaChange.objects.exists()


def test_it_keeps_the_part_of_an_edge_shift_outside_the_range(coordinator_client, rota, cadre):
    p = pattern(rota, [cadre[k] for k in ("n1", "n2", "n3", "n4")])
    edge = put_on(cadre["n3"], start=MONDAY - timedelta(days=7), days=14, source="rotation")
    generate(coordinator_client, p, first="2026-01-05", end="2026-01-12")
    kept = Shift.objects.live().filter(replaces=edge).get()
    assert (kept.start, kept.end) == (edge.start, MONDAY)


def new_rotation(client, callsigns):
    form = {
        "name": "Coordinators",
        "role": "coordinator",
        "length": "week",
        "handover_weekday": 0,
        "handover_time": "08:00",
        "on_at_once": 1,
        "starts_on": "2026-01-05",
        "callsigns": callsigns,
    }
    return client.post("/rota/patterns/", form)


def test_it_creates_a_rotation_from_callsigns(coordinator_client, rota, cadre):
    assert new_rotation(coordinator_client, "c-one").status_code == 302
    assert RotationPattern.objects.get().order == [cadre["c1"].pk]
    response = new_rotation(coordinator_client, "N-ONE, NOPE")
    assert "Unknown callsigns: NOPE" in response.content.decode()
    assert RotationPattern.objects.count() == 1


def test_it_sets_the_cover_rules_and_audits_them(coordinator_client, rota):
    response = coordinator_client.post(
        "/rota/rules/",
        {"negotiator": 3, "coordinator": 1, "adviser": 1, "max_consecutive_days": 5},
    )
    assert response.status_code == 302
    rota.refresh_from_db()
    assert rota.minimums() == {"negotiator": 3, "coordinator": 1, "adviser": 1}
    assert rota.max_consecutive_days == 5
    assert "negotiator 2→3" in RotaChange.objects.get(action="rules").summary


def test_it_refuses_a_negative_minimum(coordinator_client, rota):
    response = coordinator_client.post(
        "/rota/rules/",
        {"negotiator": -1, "coordinator": 1, "adviser": 0, "max_consecutive_days": 7},
    )
    assert response.status_code == 200
    assert "greater than or equal to 0" in response.content.decode()
    assert not RotaChange.objects.exists()
