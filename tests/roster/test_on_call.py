from datetime import UTC, datetime, timedelta

from cadre.models import Role
from roster.queries import on_call
from tests.factories import make_force, make_negotiator, make_unavailability, put_on

AT = datetime(2026, 6, 1, 12, tzinfo=UTC)


def test_it_answers_who_is_on_call_by_role_with_negotiator_objects(force):
    a, b = make_negotiator(force), make_negotiator(force, roles=("coordinator",))
    away = make_negotiator(force)
    inactive = make_negotiator(force, active=False)
    for n in (a, away, inactive):
        put_on(n, start=AT - timedelta(hours=4), days=1)
    put_on(b, "coordinator", start=AT - timedelta(hours=4), days=1)
    make_unavailability(away, start=AT - timedelta(hours=1), end=AT + timedelta(hours=1))
    result = on_call(force, AT)
    assert result == {Role.NEGOTIATOR: [a], Role.COORDINATOR: [b], Role.ADVISER: []}
    assert set(result) == set(Role.values)


def test_it_ignores_superseded_shifts_and_other_forces(force):
    replaced = put_on(make_negotiator(force), start=AT - timedelta(hours=4), days=1)
    replaced.superseded_at = AT
    replaced.save()
    other = make_force()
    put_on(make_negotiator(other), start=AT - timedelta(hours=4), days=1)
    assert on_call(force, AT) == {role: [] for role in Role.values}
