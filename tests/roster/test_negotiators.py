from datetime import timedelta

from django.utils import timezone

from cadre.models import Negotiator
from roster.models import RotaChange, Shift, SwapRequest, Unavailability
from tests.factories import make_negotiator, make_unavailability, make_user, put_on


def me(user):
    return Negotiator.objects.get(user=user)


def soon():
    return timezone.now().replace(microsecond=0) + timedelta(days=2)


def test_it_lists_my_upcoming_and_past_shifts(negotiator_client, negotiator_user, rota, force):
    make_negotiator(force, callsign="BRAVO-02")  # someone to swap with
    put_on(me(negotiator_user), start=soon(), days=1)
    put_on(me(negotiator_user), start=soon() - timedelta(days=30), days=1)
    html = negotiator_client.get("/rota/mine/").content.decode()
    assert html.count("Request swap") == 1
    assert "Past" in html


def test_it_pages_my_past_shifts_newest_first(
    negotiator_client, negotiator_user, rota, django_assert_max_num_queries
):
    from roster.views.mine import PAST_PAGE

    def past_shifts(count, weeks_back):
        for week in range(count):
            put_on(me(negotiator_user), start=soon() - timedelta(weeks=weeks_back + week), days=1)

    past_shifts(1, 1)
    with django_assert_max_num_queries(40) as counted:
        negotiator_client.get("/rota/mine/")
    few = len(counted)
    past_shifts(PAST_PAGE + 4, 2)
    with django_assert_max_num_queries(few):
        first = negotiator_client.get("/rota/mine/")
    starts = [s.start for s in first.context["past"]]
    assert len(starts) == PAST_PAGE and starts == sorted(starts, reverse=True)
    older = negotiator_client.get("/rota/mine/?page=2")
    assert len(older.context["past"]) == 5
    assert min(s.start for s in older.context["past"]) < min(starts)
    assert "Page 2 of 2" in older.text
    assert negotiator_client.get("/rota/mine/?page=junk").context["past"].number == 1
    assert negotiator_client.get("/rota/mine/?page=%00").status_code == 400  # config/input_check
    assert negotiator_client.get("/rota/mine/?page=1e9").context["past"].number == 1


def test_it_requests_a_swap_a_coordinator_approves_in_place(
    negotiator_client, negotiator_user, rota, force
):
    mine = put_on(me(negotiator_user), start=soon(), days=1)
    other = make_negotiator(force, callsign="BRAVO-02")
    negotiator_client.post(f"/rota/mine/swap/{mine.pk}/", {"taker": other.pk})
    swap = SwapRequest.objects.get()
    assert swap.status == "pending"

    coordinator = make_user("coordinator2", ["Coordinator"], force=force)
    negotiator_client.force_login(coordinator)
    board = negotiator_client.get("/rota/board/").content.decode()
    assert "Swaps waiting" in board
    response = negotiator_client.post(
        f"/rota/swap/{swap.pk}/", {"decision": "approve"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert [s.negotiator for s in Shift.objects.live()] == [other]
    swap.refresh_from_db()
    assert swap.status == "approved"
    assert RotaChange.objects.get().action == "swap"


def test_it_refuses_a_swap_with_oneself(negotiator_client, negotiator_user, rota):
    mine = put_on(me(negotiator_user), start=soon(), days=1)
    response = negotiator_client.post(
        f"/rota/mine/swap/{mine.pk}/", {"taker": me(negotiator_user).pk}, follow=True
    )
    assert "You cannot swap a shift with yourself" in response.content.decode()
    assert not SwapRequest.objects.exists()


def test_it_cannot_swap_someone_elses_shift(negotiator_client, rota, force):
    theirs = put_on(make_negotiator(force), start=soon(), days=1)
    other = make_negotiator(force)
    response = negotiator_client.post(f"/rota/mine/swap/{theirs.pk}/", {"taker": other.pk})
    assert response.status_code == 404
    assert not SwapRequest.objects.exists()
    assert Shift.objects.get(pk=theirs.pk).negotiator_id == theirs.negotiator_id


def test_it_marks_me_unavailable_and_audits_without_the_reason(
    negotiator_client, negotiator_user, rota
):
    response = negotiator_client.post(
        "/rota/mine/unavailable/",
        {"start": "2026-12-01T00:00", "end": "2026-12-02T00:00", "reason": "sickness"},
    )
    assert response.status_code == 302
    absence = Unavailability.objects.get()
    assert absence.negotiator == me(negotiator_user)
    change = RotaChange.objects.get()
    assert "sick" not in change.summary.lower()


def test_it_refuses_unavailability_that_ends_before_it_starts(negotiator_client, negotiator_user):
    response = negotiator_client.post(
        "/rota/mine/unavailable/",
        {"start": "2026-12-02T00:00", "end": "2026-12-01T00:00", "reason": "leave"},
    )
    assert "The end is before the start." in response.content.decode()
    assert not Unavailability.objects.exists()


def test_it_hides_the_reason_from_supervisors(supervisor_client, rota, force):
    n = make_negotiator(force, callsign="SICK-01")
    put_on(n, start=soon(), days=1)
    make_unavailability(n, start=soon(), end=soon() + timedelta(hours=3), reason="sickness")
    html = supervisor_client.get(f"/rota/board/?at={soon():%Y-%m-%d}").content.decode()
    assert "SICK-01 is unavailable" in html
    assert "Sickness" not in html


def test_it_lets_me_withdraw_my_unavailability_and_swap_request(
    negotiator_client, negotiator_user, rota, force
):
    absence = make_unavailability(me(negotiator_user), start=soon())
    mine = put_on(me(negotiator_user), start=soon(), days=1)
    swap = SwapRequest.objects.create(shift=mine, taker=make_negotiator(force))
    negotiator_client.post(f"/rota/mine/unavailable/{absence.pk}/withdraw/")
    negotiator_client.post(f"/rota/mine/swap/{swap.pk}/withdraw/")
    assert not Unavailability.objects.exists()
    swap.refresh_from_db()
    assert swap.status == "withdrawn"
    assert RotaChange.objects.get().action == "available"


def test_it_will_not_withdraw_someone_elses_unavailability(negotiator_client, force):
    theirs = make_unavailability(make_negotiator(force), start=soon())
    response = negotiator_client.post(f"/rota/mine/unavailable/{theirs.pk}/withdraw/")
    assert response.status_code == 404
    assert Unavailability.objects.exists()
