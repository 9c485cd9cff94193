"""A pending swap that became impossible can be declined, and has no Approve button; the month
is a calendar at a desk."""

from datetime import timedelta

import pytest
from django.utils import timezone

from roster.models import SwapRequest
from tests.factories import put_on

pytestmark = pytest.mark.django_db


def test_it_offers_only_decline_for_a_swap_that_became_impossible(
    coordinator_client, rota, cadre, coordinator_user
):
    start = (timezone.now() + timedelta(days=3)).replace(microsecond=0)
    shift = put_on(cadre["n1"], start=start, days=1)
    fine = put_on(cadre["n3"], start=start + timedelta(days=5), days=1)
    stuck = SwapRequest.objects.create(
        shift=shift, taker=cadre["n2"], requested_by=coordinator_user
    )
    ok = SwapRequest.objects.create(shift=fine, taker=cadre["n4"], requested_by=coordinator_user)
    # Since the request, N-TWO was put on call at that time.
    put_on(cadre["n2"], start=start - timedelta(hours=2), days=1)
    html = coordinator_client.get("/rota/board/").content.decode()
    assert f'id="swap-approve-{ok.pk}"' in html
    assert f'id="swap-approve-{stuck.pk}"' not in html
    assert f'id="swap-decline-{stuck.pk}"' in html
    assert "cannot be approved" in html
    assert "N-TWO is already on the rota" in html
    # Posting an approval anyway is refused with the reason; nothing changes.
    response = coordinator_client.post(
        f"/rota/swap/{stuck.pk}/", {"decision": "approve"}, headers={"HX-Request": "true"}
    )
    assert "N-TWO is already on the rota" in response.content.decode()
    stuck.refresh_from_db()
    assert stuck.status == SwapRequest.Status.PENDING
    response = coordinator_client.post(
        f"/rota/swap/{stuck.pk}/", {"decision": "decline", "confirm": "yes"}
    )
    stuck.refresh_from_db()
    assert stuck.status == SwapRequest.Status.DECLINED


def test_it_shows_the_month_as_a_calendar(coordinator_client, rota, cadre):
    put_on(cadre["n1"])
    html = coordinator_client.get("/rota/board/?view=month&at=2026-01-05").content.decode()
    assert 'class="month-grid' in html
    # January 2026 starts on a Thursday: the calendar starts in the fourth column.
    assert 'class="day col-4' in html
    assert html.count('class="day ') == 31
    assert 'data-day="2026-01-05" data-role="negotiator"' in html
    assert "N-ONE" in html
