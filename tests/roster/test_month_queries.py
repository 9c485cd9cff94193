from datetime import date, time, timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext

from roster import services
from roster.models import RotationPattern, Shift
from tests.factories import MONDAY, make_negotiator, make_unavailability

MONTH = "/rota/board/?view=month&at=2026-01-01"


def grow(rota, force, size):
    people = [make_negotiator(force, roles=("negotiator", "coordinator")) for _ in range(size)]
    for role in ("negotiator", "coordinator"):
        pattern = RotationPattern.objects.create(
            rota=rota,
            name=f"{role} {size}",
            role=role,
            length="day",
            handover_time=time(8),
            on_at_once=2 if role == "negotiator" else 1,
            starts_on=date(2026, 1, 1),
            order=[p.pk for p in people],
        )
        services.generate(
            rota, pattern, date(2025, 12, 20), date(2026, 2, 10), True, "test", by=None
        )
    for p in people[:: max(1, size // 4)]:
        make_unavailability(p, start=MONDAY + timedelta(days=3))
    Shift.objects.live().filter(negotiator=people[0]).first().delete()


def month_queries(client):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(MONTH).status_code == 200
    return len(ctx.captured_queries)


def test_it_renders_the_month_in_the_same_number_of_queries_at_any_size(
    coordinator_client, rota, force
):
    grow(rota, force, 4)
    small = month_queries(coordinator_client)
    grow(rota, force, 30)
    assert Shift.objects.live().count() > 150
    assert month_queries(coordinator_client) == small
