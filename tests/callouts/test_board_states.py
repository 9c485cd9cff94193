"""What the board says of one person, as pure logic (callouts.board.row_for): asked again
after a stand-down, a call's progress, a negotiator's own answer, who went and was stood down."""

from datetime import UTC, datetime, timedelta

import pytest

from callouts import board
from callouts.board import CalloutFacts

T0 = datetime(2026, 3, 29, 19, 30, tzinfo=UTC)
OFF = T0 + timedelta(minutes=18)  # stood down at 19:48
AGAIN = T0 + timedelta(minutes=20)  # asked again at 19:50


def row(state="asked", **kw):
    kw.setdefault("asked_at", T0)
    kw.setdefault("asked_times", (T0,))
    return board.row_for(CalloutFacts(callsign="K-1", state=state, **kw))


def minutes(n):
    return T0 + timedelta(minutes=n)


@pytest.mark.parametrize(
    "kw, state, asked_at, said, earlier",
    [
        # Never stood down: as before.
        (
            {"channels": {"sms": "delivered"}, "last_reply": "maybe", "last_reply_at": minutes(2)},
            "delivered",
            T0,
            "maybe",
            "",
        ),
        # Stood down, called again, no step has reached them yet.
        (
            {
                "channels": {"sms": "delivered"},
                "channel_times": {"sms": T0},
                "last_reply": "Y 15",
                "last_reply_at": minutes(2),
                "called_off_at": OFF,
            },
            "not_asked_again",
            None,
            "",
            "Y 15",
        ),
        # ... then asked again: the new time, the old delivery and answer are history.
        (
            {
                "channels": {"sms": "pending"},
                "channel_times": {"sms": AGAIN},
                "asked_times": (T0, AGAIN),
                "last_reply": "Y 15",
                "last_reply_at": minutes(2),
                "called_off_at": OFF,
            },
            "asked",
            AGAIN,
            "",
            "Y 15",
        ),
        # ... and they say something new: that is current.
        (
            {
                "channels": {"sms": "delivered"},
                "channel_times": {"sms": AGAIN},
                "asked_times": (T0, AGAIN),
                "last_reply": "maybe",
                "last_reply_at": minutes(21),
                "called_off_at": OFF,
            },
            "delivered",
            AGAIN,
            "maybe",
            "",
        ),
    ],
)
def test_it_shows_someone_asked_again_from_their_stand_down_on(kw, state, asked_at, said, earlier):
    r = row(**kw)
    assert (r.state, r.asked_at, r.last_reply, r.earlier_reply) == (state, asked_at, said, earlier)
    assert r.reasked == ("called_off_at" in kw)


def test_it_keeps_a_stood_down_persons_state_and_answer():
    r = row("stood_down", last_reply="Y 15", last_reply_at=minutes(2), called_off_at=OFF)
    assert (r.state, r.last_reply, r.reasked) == ("stood_down", "Y 15", False)


@pytest.mark.parametrize(
    "channels, label, call",
    [
        ({"voice": "ringing"}, "Asked", "call ringing"),
        ({"voice": "sent"}, "Asked", "calling"),
        ({"voice": "in-progress"}, "Picked up the call", ""),
        ({"voice": "completed"}, "Picked up the call", "call ended, no key pressed"),
        ({"voice": "no-answer"}, "Asked", "call not answered"),
        ({"voice": "busy"}, "Asked", "line busy"),
        ({"sms": "delivered", "voice": "no-answer"}, "SMS delivered", "call not answered"),
        ({"sms": "delivered", "voice": "in-progress"}, "SMS delivered", "on the call now"),
        ({"sms": "delivered"}, "SMS delivered", ""),
        ({"voice": "failed"}, "Unreachable", ""),
    ],
)
def test_it_says_how_a_call_is_going(channels, label, call):
    r = row(channels=channels)
    assert (r.state_label, r.call) == (label, call)


@pytest.mark.parametrize(
    "state, channels, answer",
    [
        ("asked", {}, "Not answered yet"),
        ("asked", {"sms": "delivered"}, "Not answered yet"),
        ("no_answer", {}, "Not answered yet"),
        ("accepted", {}, "Accepted"),
        ("declined", {}, "Declined"),
        ("stood_down", {}, "Stood down, not needed"),
    ],
)
def test_it_gives_a_negotiator_their_answer_not_the_delivery(state, channels, answer):
    assert row(state, channels=channels).answer_label == answer


@pytest.mark.parametrize(
    "kw, eta",
    [
        ({}, minutes(25)),
        ({"stood_down_at": minutes(18)}, None),
        ({"arrived_at": minutes(20)}, None),
    ],
)
def test_it_shows_an_eta_only_while_on_the_way(kw, eta):
    r = row("accepted", went=True, role="negotiator", eta_minutes=25, answered_at=T0, **kw)
    assert r.eta_at == eta


def test_it_lists_the_roles_still_short_in_the_order_of_the_need():
    b = board.build({"negotiator": 2, "coordinator": 1, "adviser": 0}, [])
    assert [(n.role, n.missing) for n in b.short] == [("negotiator", 2), ("coordinator", 1)]
