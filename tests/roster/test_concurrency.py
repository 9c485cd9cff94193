"""Two coordinators saving at once on PostgreSQL: the rota lock lets only one duplicate in."""

import threading
from datetime import timedelta

import pytest
from django.db import connections

from roster import services
from roster.models import Shift
from roster.queries import rota_for
from tests.factories import MONDAY, make_force, make_negotiator

pytestmark = pytest.mark.postgres("row locks (select_for_update)")


def test_it_saves_only_one_of_two_simultaneous_duplicate_shifts(transactional_db):
    force = make_force("Busy Constabulary", "BUSY")
    rota = rota_for(force)
    negotiator = make_negotiator(force=force)
    start = threading.Barrier(8)
    outcomes = []

    def add(i):
        try:
            start.wait()
            services.add(
                rota,
                negotiator,
                "negotiator",
                MONDAY + timedelta(hours=i),
                MONDAY + timedelta(days=1),
                by=None,
            )
            outcomes.append("saved")
        except services.Refused:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=add, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(outcomes) == ["refused"] * 7 + ["saved"]
    assert Shift.objects.live().count() == 1
