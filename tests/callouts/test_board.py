"""The board's summary of an incident's callouts, as pure logic."""

from datetime import UTC, datetime, timedelta

from callouts import board, frozen
from callouts.board import CalloutFacts

T0 = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
NEEDS = {"negotiator": 2, "coordinator": 1}


def facts(callsign="K-1", state="asked", **kw):
    kw.setdefault("asked_at", T0)
    return CalloutFacts(callsign=callsign, state=state, **kw)


def test_it_counts_accepted_people_in_the_role_they_fill():
    b = board.build(
        NEEDS,
        [
            facts(
                "A", "accepted", went=True, role="negotiator", answered_at=T0 + timedelta(minutes=2)
            ),
            facts(
                "B",
                "accepted",
                went=True,
                role="coordinator",
                answered_at=T0 + timedelta(minutes=3),
            ),
            facts("C", "declined", answered_at=T0 + timedelta(minutes=1)),
            facts("D"),
        ],
    )
    counts = {r.role: (r.needed, r.filled, r.missing) for r in b.roles}
    assert counts == {"negotiator": (2, 1, 1), "coordinator": (1, 1, 0)}
    assert not b.filled
    assert [r.callsign for r in b.going] == ["A", "B"]


def test_it_is_filled_when_every_role_has_its_places():
    b = board.build(
        {"negotiator": 1},
        [facts("A", "accepted", went=True, role="negotiator", answered_at=T0)],
    )
    assert b.filled


def test_it_does_not_count_a_late_acceptance():
    b = board.build(
        {"negotiator": 1},
        [facts("A", "accepted", role="negotiator", late=True, answered_at=T0)],
    )
    assert b.roles[0].filled == 0


def test_it_shows_delivered_once_a_message_reached_the_handset():
    assert board.state_of(facts(channels={"sms": "sent"})) == "asked"
    assert board.state_of(facts(channels={"sms": "delivered"})) == "delivered"
    assert board.state_of(facts(channels={"sms": "failed", "voice": "completed"})) == "delivered"


def test_it_shows_unreachable_only_when_every_channel_used_failed():
    row = board.row_for(facts(channels={"sms": "undelivered"}))
    assert row.state == "unreachable"
    assert row.unreachable_on == ("sms",)
    half = board.row_for(facts(channels={"sms": "failed", "voice": "ringing"}))
    assert half.state == "asked"
    assert half.unreachable_on == ("sms",)
    flagged = board.row_for(facts(sms_unreachable=True))
    assert flagged.state == "unreachable"


def test_a_person_whose_texts_are_stopped_is_shown_as_voice_only_not_as_a_failed_sms():
    row = board.row_for(
        facts(
            texts_stopped=True,
            sms_unreachable=True,
            keyword="stop",
            channels={"voice": "ringing"},
        )
    )
    assert row.texts_stopped_label == "texts stopped — voice only"
    assert row.unreachable_on == () and row.keyword_label == "" and row.state == "asked"
    assert board.needs_a_look(row)
    called = board.row_for(facts(texts_stopped=True, channels={"voice": "no-answer"}))
    assert called.texts_stopped_label and called.state == "asked"
    failed = board.row_for(facts(texts_stopped=True, channels={"voice": "failed"}))
    assert failed.state == "unreachable" and failed.unreachable_on == ("voice",)
    assert board.row_for(facts()).texts_stopped_label == ""


def test_it_keeps_a_stored_answer_over_message_statuses():
    for state in ("accepted", "declined", "no_answer", "stood_down", "unreachable"):
        assert board.state_of(facts(state=state, channels={"sms": "delivered"})) == state


def test_it_gives_the_response_time_and_the_eta_as_a_time():
    row = board.row_for(
        facts(
            "A",
            "accepted",
            went=True,
            role="negotiator",
            eta_minutes=20,
            answered_at=T0 + timedelta(minutes=4, seconds=5),
        )
    )
    assert row.response_time == timedelta(minutes=4, seconds=5)
    assert row.eta_at == T0 + timedelta(minutes=24, seconds=5)
    assert row.state_label == "Accepted"
    assert board.duration(row.response_time) == "4 min 05 s"


def test_it_has_no_eta_time_for_someone_not_going():
    row = board.row_for(facts("A", "declined", eta_minutes=5, answered_at=T0))
    assert row.eta_at is None


def test_it_times_first_acceptance_and_filling_from_the_raise():
    b = board.build(
        {"negotiator": 2},
        [
            facts(
                "A", "accepted", went=True, role="negotiator", answered_at=T0 + timedelta(minutes=5)
            ),
            facts(
                "B", "accepted", went=True, role="negotiator", answered_at=T0 + timedelta(minutes=2)
            ),
            facts("C", "declined", answered_at=T0 + timedelta(minutes=1)),
            facts("D"),
        ],
    )
    t = board.timing(T0, T0 + timedelta(minutes=5), b)
    assert (t.asked, t.answered, t.went) == (4, 3, 2)
    assert t.to_first_acceptance == timedelta(minutes=2)
    assert t.to_filled == timedelta(minutes=5)
    assert board.timing(T0, None, board.build({"negotiator": 1}, [])).to_filled is None


def test_it_writes_durations_short():
    assert board.duration(None) == ""
    assert board.duration(timedelta(seconds=42)) == "42 s"
    assert board.duration(timedelta(hours=1, minutes=3)) == "1 h 03 min"


def test_it_describes_the_step_the_escalation_is_on():
    steps = [
        frozen.step("on_call", "sms", 3),
        frozen.step("force", "both", 5),
        frozen.step("managers", "sms", 0),
    ]
    p = board.progress(steps, 0)
    assert (p.number, p.total) == (1, 3)
    assert p.current == "SMS to those on call"
    assert p.following == "SMS and voice to every deployable member not yet asked"
    assert board.progress(steps, -1).number == 0
    assert board.progress(steps, 2).current == "Alert coordinators and supervisors"
    assert board.progress(steps, 2).following == ""


def test_it_shows_the_first_of_a_long_group_and_anyone_needing_a_call_among_them():
    asked = [
        facts(f"K-{i:02d}", asked_at=T0 + timedelta(seconds=i), keyword="stop" if i == 28 else "")
        for i in range(30)
    ]
    b = board.build(NEEDS, asked)
    [(key, _, rows, total)] = board.shown(b.groups, 5)
    assert (key, total) == ("waiting", 30)
    assert [r.callsign for r in rows] == ["K-00", "K-01", "K-02", "K-03", "K-28"]
    [(_, _, every, total)] = board.shown(b.groups, None)
    assert len(every) == total == 30
    [(_, _, few, total)] = board.shown(board.build(NEEDS, asked[:5]).groups, 5)
    assert len(few) == total == 5
