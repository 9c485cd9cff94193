"""The pure escalation decision, rule by rule."""

from datetime import UTC, datetime, timedelta

import pytest

from callouts.engine.escalation import (
    Asked,
    Candidate,
    Send,
    Unfilled,
    choose_role,
    decide,
    missing_roles,
    tell_human,
    whom_to_tell,
)
from callouts.engine.policy import DEFAULT_STEPS, frozen_step

NOW = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
NEG, COORD, ADV = "negotiator", "coordinator", "adviser"
STEPS = [frozen_step(**s) for s in DEFAULT_STEPS]
NEEDS = {NEG: 2, COORD: 1}


def c(pk, *roles, deployable=True, busy=False, texts_stopped=False):
    return Candidate(
        pk,
        frozenset(roles or (NEG,)),
        deployable=deployable,
        busy=busy,
        texts_stopped=texts_stopped,
    )


def asked(
    pk, *roles, state="asked", role="", sent=(), sms_unreachable=False, voice_unreachable=False
):
    return Asked(
        pk,
        frozenset(roles or (NEG,)),
        state=state,
        role=role,
        sent=frozenset(sent),
        sms_unreachable=sms_unreachable,
        voice_unreachable=voice_unreachable,
    )


def run(
    candidates=(),
    asked_=(),
    step_index=-1,
    next_step_at=None,
    steps=STEPS,
    needs=NEEDS,
    status="calling",
    now=NOW,
):
    return decide(
        status=status,
        needs=needs,
        steps=steps,
        step_index=step_index,
        next_step_at=next_step_at,
        asked=asked_,
        candidates=candidates,
        now=now,
    )


def test_it_sends_the_first_step_to_those_on_call_by_sms():
    d = run([c(1), c(2), c(3, COORD)])
    assert d.action == "fire"
    assert d.step_index == 0
    assert d.sends == (
        Send(1, ("sms",), (NEG,)),
        Send(2, ("sms",), (NEG,)),
        Send(3, ("sms",), (COORD,)),
    )
    assert d.next_at == NOW + timedelta(minutes=3)


def test_it_skips_people_who_are_not_deployable():
    d = run([c(1, deployable=False), c(2)])
    assert [s.person_id for s in d.sends] == [2]


def test_it_skips_people_deployed_on_another_live_incident():
    d = run([c(1, busy=True), c(2)])
    assert [s.person_id for s in d.sends] == [2]


def test_it_asks_only_for_roles_still_missing():
    d = run(
        [c(3, COORD), c(4, NEG, COORD)],
        [asked(1, state="accepted", role=NEG), asked(2, state="accepted", role=NEG)],
    )
    assert d.sends == (Send(3, ("sms",), (COORD,)), Send(4, ("sms",), (COORD,)))


def test_it_skips_someone_who_holds_only_filled_roles():
    d = run(
        [c(5, NEG)], [asked(1, state="accepted", role=NEG), asked(2, state="accepted", role=NEG)]
    )
    assert d.sends == ()


def test_it_asks_for_every_missing_role_someone_holds_rarest_first():
    d = run([c(1, NEG, COORD)])
    assert d.sends == (Send(1, ("sms",), (COORD, NEG)),)


def test_it_never_sends_twice_on_the_same_step_and_channel():
    d = run([c(1), c(2)], [asked(1, sent={(0, "sms")})])
    assert [s.person_id for s in d.sends] == [2]


def test_it_sends_a_later_step_to_someone_already_asked_on_an_earlier_one():
    steps = [frozen_step("on_call", "sms", 3), frozen_step("on_call", "voice", 5)]
    d = run([c(1)], [asked(1, sent={(0, "sms")})], step_index=0, next_step_at=NOW, steps=steps)
    assert d.sends == (Send(1, ("voice",), (NEG,)),)


def test_it_does_not_ask_people_who_answered_or_were_stood_down():
    d = run(
        [c(1), c(2), c(3), c(4)],
        [
            asked(1, state="declined"),
            asked(2, state="accepted", role=NEG),
            asked(3, state="stood_down"),
        ],
    )
    assert [s.person_id for s in d.sends] == [4]


def test_it_waits_until_the_next_step_is_due():
    due = NOW + timedelta(seconds=30)
    d = run([c(1)], step_index=0, next_step_at=due)
    assert (d.action, d.next_at) == ("wait", due)


def test_it_fires_the_next_step_when_due():
    d = run([c(1)], [asked(1, sent={(0, "sms")})], step_index=0, next_step_at=NOW)
    assert d.action == "fire"
    assert d.step_index == 1
    assert d.sends == (Send(1, ("voice",), (NEG,)),)


def test_it_is_filled_when_every_role_has_accepted():
    d = run(
        [c(9)],
        [
            asked(1, state="accepted", role=NEG),
            asked(2, state="accepted", role=NEG),
            asked(3, COORD, state="accepted", role=COORD),
        ],
    )
    assert d.action == "filled"


def test_it_is_exhausted_after_the_last_step_and_still_short():
    d = run([], step_index=len(STEPS) - 1, next_step_at=NOW)
    assert d.action == "exhausted"
    assert d.missing == NEEDS


def test_it_does_nothing_unless_calling():
    for status in ("filled", "exhausted", "stood_down", "closed"):
        assert run([c(1)], status=status).action == "idle"


def test_it_passes_at_once_a_step_that_reaches_nobody():
    d = run([])
    assert d.action == "fire"
    assert d.sends == ()
    assert d.next_at == NOW


def test_force_step_reaches_only_members_not_yet_asked():
    steps = [frozen_step("force", "sms", 5)]
    d = run([c(1), c(2), c(3, deployable=False)], [asked(1, sent={(7, "sms")})], steps=steps)
    assert [s.person_id for s in d.sends] == [2]


def test_unanswered_step_calls_only_those_asked_who_have_not_answered():
    steps = [frozen_step("unanswered", "voice", 4)]
    d = run(
        [c(1), c(2), c(3), c(4), c(5)],
        [
            asked(1),
            asked(2, state="delivered"),
            asked(3, state="declined"),
            asked(4, state="no_answer"),
        ],
        steps=steps,
    )
    assert [s.person_id for s in d.sends] == [1, 2, 4]
    assert all(s.channels == ("voice",) for s in d.sends)


def test_both_sends_sms_and_voice_but_not_on_an_unreachable_channel():
    steps = [frozen_step("mutual_aid", "both", 8)]
    d = run([c(1), c(2)], [asked(2, sms_unreachable=True)], steps=steps)
    assert d.sends == (Send(1, ("sms", "voice"), (NEG,)), Send(2, ("voice",), (NEG,)))


def test_it_skips_someone_unreachable_on_the_only_channel():
    d = run([c(1)], [asked(1, sms_unreachable=True)])
    assert d.sends == ()


def test_a_person_who_stopped_texts_is_reached_by_voice_only():
    sms_step = [frozen_step("on_call", "sms", 3)]
    both = [frozen_step("mutual_aid", "both", 8)]
    voice = [frozen_step("on_call", "voice", 5)]
    stopped = c(2, texts_stopped=True)
    table = [
        # step, asked before, what the stopped person is sent
        (sms_step, [], ("voice",)),  # an SMS step calls them instead
        (both, [], ("voice",)),
        (voice, [], ("voice",)),
        # already called on this step: nothing more
        (sms_step, [asked(2, sent={(0, "voice")}, sms_unreachable=True)], None),
        # no channel left: voice failed too
        (sms_step, [asked(2, sms_unreachable=True, voice_unreachable=True)], None),
    ]
    for steps, before, expected in table:
        d = run([c(1), stopped], before, steps=steps)
        sent = {s.person_id: s.channels for s in d.sends}
        assert sent.get(2) == expected, (steps, before)
        assert sent[1] == tuple(("sms", "voice") if steps is both else (steps[0].channel,))


def test_named_step_reaches_the_named_people():
    steps = [frozen_step("named", "sms", 5, named=[7])]
    d = run([c(7)], steps=steps)
    assert d.sends == (Send(7, ("sms",), (NEG,)),)


def test_managers_step_alerts_without_asking_anyone_to_attend():
    steps = [frozen_step("managers", "sms", 0)]
    d = run(
        [Candidate(8, frozenset()), Candidate(9, frozenset()), Candidate(8, frozenset())],
        steps=steps,
    )
    assert d.alerts == (8, 9)
    assert d.sends == ()
    assert d.missing == NEEDS


def test_it_counts_a_person_once_even_if_listed_twice():
    d = run([c(1), c(1, COORD)])
    assert [s.person_id for s in d.sends] == [1]


def test_missing_roles_ignore_late_and_stood_down_acceptances():
    got = missing_roles(
        NEEDS, [asked(1, state="accepted", role=NEG), asked(2, state="stood_down", role="")]
    )
    assert got == {NEG: 1, COORD: 1}


def test_choose_role_fills_the_one_missing_role_they_hold():
    assert choose_role([NEG, COORD], {NEG: 1}, {NEG: 10, COORD: 3}) == NEG


def test_choose_role_prefers_the_scarcer_missing_role():
    assert choose_role([NEG, COORD], {NEG: 1, COORD: 1}, {NEG: 10, COORD: 3}) == COORD
    assert choose_role([NEG, COORD], {NEG: 1, COORD: 1}, {NEG: 2, COORD: 5}) == NEG


def test_choose_role_breaks_ties_towards_the_rarer_kind_of_role():
    assert choose_role([NEG, COORD, ADV], {NEG: 1, COORD: 1, ADV: 1}, {}) == ADV


def test_choose_role_is_none_when_their_roles_are_filled():
    assert choose_role([NEG], {COORD: 1}, {}) is None


# Telling a human that an incident is not filling: why (tell_human) and whom (whom_to_tell).

DEADLINE = NOW + timedelta(minutes=30)
SHORT_OF = {NEG: 1}


@pytest.mark.parametrize(
    ("status", "missing", "deadline", "told", "now", "expected"),
    [
        # The policy ran out: tell them, once.
        ("exhausted", SHORT_OF, DEADLINE, (), NOW, (Unfilled.EXHAUSTED,)),
        ("exhausted", SHORT_OF, DEADLINE, ("exhausted",), NOW, ()),
        # Still short at the deadline: tell them, once; not before.
        ("calling", SHORT_OF, DEADLINE, (), DEADLINE, (Unfilled.DEADLINE,)),
        ("calling", SHORT_OF, DEADLINE, (), DEADLINE - timedelta(seconds=1), ()),
        ("calling", SHORT_OF, DEADLINE, ("deadline",), DEADLINE, ()),
        ("calling", SHORT_OF, None, (), DEADLINE, ()),
        # Both at once: one telling with both reasons; one told already, the other.
        ("exhausted", SHORT_OF, DEADLINE, (), DEADLINE, (Unfilled.EXHAUSTED, Unfilled.DEADLINE)),
        ("exhausted", SHORT_OF, DEADLINE, ("deadline",), DEADLINE, (Unfilled.EXHAUSTED,)),
        ("exhausted", SHORT_OF, None, ("exhausted", "deadline"), DEADLINE, ()),
        # Filled, or over: nothing to tell.
        ("calling", {}, DEADLINE, (), DEADLINE, ()),
        ("filled", {}, DEADLINE, (), DEADLINE, ()),
        ("filled", SHORT_OF, DEADLINE, (), DEADLINE, ()),
        ("stood_down", SHORT_OF, DEADLINE, (), DEADLINE, ()),
        ("closed", SHORT_OF, DEADLINE, (), DEADLINE, ()),
    ],
)
def test_it_tells_a_human_once_per_reason_while_short(
    status, missing, deadline, told, now, expected
):
    assert tell_human(status=status, missing=missing, deadline=deadline, told=told, now=now) == (
        expected
    )


@pytest.mark.parametrize(
    ("coordinators", "supervisors", "raised_by", "logins", "expected", "gaps"),
    [
        (
            [1, 2],
            [3],
            None,
            1,
            [(1, ("on-call coordinator",)), (2, ("on-call coordinator",)), (3, ("supervisor",))],
            "",
        ),
        # Someone both on call as coordinator and a supervisor is told once.
        ([1], [1], None, 1, [(1, ("on-call coordinator", "supervisor"))], ""),
        ([1], [2], 1, 1, [(1, ("on-call coordinator", "raised it")), (2, ("supervisor",))], ""),
        ([], [2], None, 1, [(2, ("supervisor",))], "no coordinator on call"),
        (
            [1],
            [],
            None,
            2,
            [(1, ("on-call coordinator",))],
            "no supervisor with a phone number on record",
        ),
        ([1], [], None, 0, [(1, ("on-call coordinator",))], "no supervisor in the force"),
        ([], [], None, 0, [], "no coordinator on call; no supervisor in the force"),
        ([], [], 5, 0, [(5, ("raised it",))], "no coordinator on call; no supervisor in the force"),
    ],
)
def test_it_chooses_whom_to_tell_each_once(
    coordinators, supervisors, raised_by, logins, expected, gaps
):
    told, found_gaps = whom_to_tell(
        on_call_coordinators=coordinators,
        supervisors=supervisors,
        raised_by=raised_by,
        supervisor_logins=logins,
    )
    assert [(t.person_id, t.labels) for t in told] == expected
    assert found_gaps == gaps
