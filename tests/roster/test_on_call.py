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


def test_it_counts_accreditation_at_the_moment_and_people_lent_from_other_forces(force):
    from datetime import date

    from cadre.models import Accreditation
    from roster.queries import rota_for

    lapsed = make_negotiator(force, valid_until=date(2026, 5, 31))
    renewed = make_negotiator(force, valid_until=date(2026, 5, 31))
    Accreditation.objects.create(
        negotiator=renewed,
        kind=Accreditation.Kind.REFRESHER,
        passed_on=date(2026, 5, 20),
        valid_until=date(2027, 5, 20),
    )
    never = make_negotiator(force, accredited=False)
    lent = make_negotiator(make_force())
    for n in (lapsed, renewed, never):
        put_on(n, start=AT - timedelta(hours=4), days=1)
    put_on(lent, start=AT - timedelta(hours=4), days=1, rota=rota_for(force))
    assert on_call(force, AT)[Role.NEGOTIATOR] == [renewed, lent]
