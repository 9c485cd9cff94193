from datetime import UTC, datetime, timedelta

from cadre.models import Role
from roster.models import Shift, Unavailability
from roster.queries import on_call, rota_for
from tests.conftest import make_negotiator

AT = datetime(2026, 6, 1, 12, tzinfo=UTC)


def roster(rota, negotiator, role="negotiator", start=AT - timedelta(hours=4), hours=24):
    return Shift.objects.create(
        rota=rota, negotiator=negotiator, role=role, start=start, end=start + timedelta(hours=hours)
    )


def test_it_answers_who_is_on_call_by_role_with_negotiator_objects(force):
    rota = rota_for(force)
    a, b = make_negotiator(force), make_negotiator(force, roles=("coordinator",))
    away = make_negotiator(force)
    inactive = make_negotiator(force, active=False)
    for n in (a, away, inactive):
        roster(rota, n)
    roster(rota, b, "coordinator")
    Unavailability.objects.create(
        negotiator=away, start=AT - timedelta(hours=1), end=AT + timedelta(hours=1)
    )
    result = on_call(force, AT)
    assert result == {Role.NEGOTIATOR: [a], Role.COORDINATOR: [b], Role.ADVISER: []}
    assert set(result) == set(Role.values)


def test_it_ignores_superseded_shifts_and_other_forces(force):
    from tests.conftest import make_force

    rota = rota_for(force)
    replaced = roster(rota, make_negotiator(force))
    replaced.superseded_at = AT
    replaced.save()
    other = make_force()
    roster(rota_for(other), make_negotiator(other))
    assert on_call(force, AT) == {role: [] for role in Role.values}
