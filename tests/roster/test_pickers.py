"""Every picker offers only who can take that slot, before and after a warning: never the
person being covered, never someone who lacks the role or is not deployable (cadre.rules),
never someone already on call in that slot."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone

from cadre.rules import Period
from roster import rules
from roster.models import Shift, SwapRequest
from tests.factories import make_negotiator, make_unavailability, make_user, put_on
from tests.roster.test_traps import HX, mixed, options  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db

T0 = datetime(2027, 3, 1, 8, tzinfo=UTC)
DAY = timedelta(days=1)
GOOD = (Period(date(2020, 1, 1), date(2030, 1, 1)),)


def person(pid, callsign, roles=("negotiator",), active=True, periods=GOOD):
    return rules.Person(pid, callsign, active, periods, roles)


PEOPLE = [
    person(1, "ANNA"),
    person(2, "BEN"),
    person(3, "CARL", roles=("coordinator",)),
    person(4, "DORA", periods=(Period(date(2020, 1, 1), date(2027, 3, 1)),)),  # lapses 2 Mar
    person(5, "ED", active=False),
    person(6, "FAY", roles=("negotiator", "coordinator")),
]
SLOT = rules.Span(0, "negotiator", T0, T0 + DAY)


@pytest.mark.parametrize(
    ("shifts", "exclude", "replacing", "offered"),
    [
        # Nobody on call: everyone holding the role and deployable throughout.
        ([], (), (), ["ANNA", "BEN", "FAY"]),
        # The person whose shift it is is never offered to cover it.
        ([rules.Span(1, "negotiator", T0, T0 + DAY, id=10)], (1,), (), ["BEN", "FAY"]),
        # Already on call in that slot, in the same role or another one, for part of it.
        ([rules.Span(2, "negotiator", T0 + DAY / 2, T0 + 3 * DAY, id=11)], (), (), ["ANNA", "FAY"]),
        ([rules.Span(6, "coordinator", T0 - DAY, T0 + DAY / 4, id=12)], (), (), ["ANNA", "BEN"]),
        # On call just before or just after is not in the slot.
        (
            [
                rules.Span(2, "negotiator", T0 - DAY, T0, 13),
                rules.Span(6, "negotiator", T0 + DAY, T0 + 2 * DAY, 14),
            ],
            (),
            (),
            ["ANNA", "BEN", "FAY"],
        ),
        # Moving someone's shift: their own shift does not count against them.
        ([rules.Span(1, "negotiator", T0, T0 + DAY, id=10)], (), (10,), ["ANNA", "BEN", "FAY"]),
    ],
)
def test_it_offers_only_who_can_take_the_slot(shifts, exclude, replacing, offered):
    chosen = rules.can_take(SLOT, PEOPLE, shifts, exclude=exclude, replacing=replacing)
    assert [p.callsign for p in chosen] == offered


def test_it_offers_someone_whose_accreditation_lapses_only_for_a_slot_before_it():
    early = rules.Span(0, "negotiator", T0 - 2 * DAY, T0 - DAY)
    assert "DORA" in [p.callsign for p in rules.can_take(early, PEOPLE, [])]
    assert "DORA" not in [p.callsign for p in rules.can_take(SLOT, PEOPLE, [])]


# --- through the pages ---------------------------------------------------------------------


@pytest.fixture
def week(force, mixed):  # noqa: F811
    """A shift of NEG-OK two days ahead; OTHER-ON is on call then too."""
    start = (timezone.now() + timedelta(days=2)).replace(second=0, microsecond=0)
    shift = put_on(mixed["neg"], start=start, days=1)
    other = make_negotiator(force, "OTHER-ON")
    put_on(other, start=start - timedelta(hours=6), days=1)
    return {"shift": shift, "start": start, **mixed}


def local(at):
    return timezone.localtime(at).strftime("%Y-%m-%dT%H:%M")


def test_it_never_offers_the_covered_person_or_who_is_on_call(coordinator_client, week):
    html = coordinator_client.get(f"/rota/shift/{week['shift'].pk}/", headers=HX).content.decode()
    assert options(html, "cover-negotiator") == ["BOTH-OK"]
    assert options(html, "move-negotiator") == ["BOTH-OK", "NEG-OK"]


def test_it_keeps_the_cover_picker_narrow_when_a_warning_comes_back(coordinator_client, week):
    shift, both = week["shift"], week["both"]
    make_unavailability(both, start=shift.start, days=1, reason="leave")
    response = coordinator_client.post(
        f"/rota/shift/{shift.pk}/cover/",
        {
            "cover-negotiator": both.pk,
            "cover-start": local(shift.start),
            "cover-end": local(shift.end),
        },
        headers=HX,
    )
    html = response.content.decode()
    assert "Check before saving" in html
    assert options(html, "cover-negotiator") == ["BOTH-OK"]
    assert f'<option value="{both.pk}" selected>BOTH-OK</option>' in html
    assert Shift.objects.live().count() == 2  # nothing saved


def test_it_keeps_the_cover_picker_narrow_when_an_error_comes_back(coordinator_client, week):
    shift = week["shift"]
    response = coordinator_client.post(
        f"/rota/shift/{shift.pk}/cover/",
        {
            "cover-negotiator": week["neg"].pk,  # covering themselves
            "cover-start": local(shift.start),
            "cover-end": local(shift.end),
        },
        headers=HX,
    )
    html = response.content.decode()
    assert "NEG-OK is already on this shift" in html
    assert options(html, "cover-negotiator") == ["BOTH-OK"]
    assert Shift.objects.live().count() == 2


def test_it_keeps_the_add_picker_narrow_after_a_refusal(coordinator_client, week):
    start = week["start"]
    response = coordinator_client.post(
        "/rota/shift/new/",
        {
            "negotiator": week["neg"].pk,
            "role": "negotiator",
            "start": local(start),
            "end": local(start + timedelta(days=1)),
        },
        headers=HX,
    )
    html = response.content.decode()
    assert "duplicate" in html
    assert options(html, "negotiator") == ["BOTH-OK"]


def test_it_offers_a_swap_only_to_who_is_free_then(client, force, week):
    user = make_user("me", ["negotiator"], force=force)
    mine = make_negotiator(force, "ME-ONE", user=user)
    put_on(mine, start=week["start"], days=1)
    client.force_login(user)
    html = client.get("/rota/mine/").content.decode()
    assert options(html, "taker") == ["BOTH-OK"]


def test_it_refuses_a_swap_that_cannot_work_and_saves_nothing(client, force, week):
    user = make_user("me", ["negotiator"], force=force)
    mine = make_negotiator(force, "ME-ONE", user=user)
    shift = put_on(mine, start=week["start"], days=1)
    client.force_login(user)
    response = client.post(f"/rota/mine/swap/{shift.pk}/", {"taker": week["neg"].pk}, follow=True)
    html = response.content.decode()
    assert "a coordinator will approve it" not in html
    assert "NEG-OK is already on the rota" in html
    assert not SwapRequest.objects.exists()


@pytest.mark.parametrize(
    ("who", "shifts", "exclude", "reason"),
    [
        (PEOPLE[0], [], (1,), "ANNA already has this shift."),
        (PEOPLE[2], [], (), "CARL does not hold the negotiator role."),
        (PEOPLE[4], [], (), "ED is inactive."),
        (PEOPLE[3], [], (), "DORA is not accredited for all of Mon 1 Mar 08:00–Tue 2 Mar 08:00."),
        (
            PEOPLE[1],
            [rules.Span(2, "coordinator", T0 + DAY / 2, T0 + DAY, id=3)],
            (),
            "BEN is already on the rota as coordinator Mon 1 Mar 20:00–Tue 2 Mar 08:00.",
        ),
        (PEOPLE[1], [], (), None),
    ],
)
def test_it_says_why_someone_cannot_take_the_slot(who, shifts, exclude, reason, settings):
    settings.TIME_ZONE = "Europe/London"
    assert rules.cannot_take(SLOT, who, shifts, exclude) == reason


def test_it_agrees_with_the_cadre_queryset_on_who_is_deployable(force, mixed):  # noqa: F811
    """The picker's rule and the Negotiator queryset twin (cadre.models) pick the same people
    for a slot nobody is on call in."""
    from cadre.models import Negotiator
    from roster import queries

    start = timezone.now() + timedelta(days=3)
    end = start + timedelta(hours=12)
    for role in ("negotiator", "coordinator", "adviser"):
        twin = Negotiator.objects.filter(force=force).with_role(role).deployable(start)
        twin = twin.accredited_at(end)
        assert list(queries.picker(force.pk, role, start, end)) == list(twin.order_by("callsign"))
