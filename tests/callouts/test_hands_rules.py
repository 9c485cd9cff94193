"""What a coordinator may record or page by hand (callouts.engine.hands): tables, no database."""

from datetime import UTC, datetime, timedelta

import pytest

from callouts.engine import hands
from callouts.engine.hands import Person, Refused, Standing

NOW = datetime(2026, 1, 5, 3, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("answer", "eta", "status", "state", "expected"),
    [
        ("accepted", "20", "calling", "asked", ("accept", 20)),
        ("accepted", 0, "exhausted", None, ("accept", 0)),
        ("accepted", " 15 ", "filled", "accepted", ("accept", 15)),  # a new ETA
        ("accepted", "30", "filled", "stood_down", ("accept", 30)),  # late: not needed
        ("declined", "", "calling", "delivered", ("decline", None)),
        ("declined", "9", "calling", None, ("decline", None)),  # an ETA is not kept
        ("arrived", "", "filled", "accepted", ("arrived", None)),
        ("withdrew", "", "filled", "accepted", ("decline", None)),
    ],
)
def test_it_says_which_reply_a_phoned_answer_is(answer, eta, status, state, expected):
    assert hands.phoned_reply(answer, eta, status, state) == expected


@pytest.mark.parametrize(
    ("answer", "eta", "status", "state", "refusal"),
    [
        ("accepted", "", "calling", "asked", "Give their ETA in minutes"),
        ("accepted", None, "calling", "asked", "Give their ETA in minutes"),
        ("accepted", "ten", "calling", "asked", "as a number of minutes"),
        ("accepted", "-1", "calling", "asked", "from 0 to 600"),
        ("accepted", "601", "calling", "asked", "from 0 to 600"),
        ("accepted", True, "calling", "asked", "as a number of minutes"),
        ("declined", "", "calling", "accepted", "record “withdrew”"),
        ("withdrew", "", "calling", "asked", "record “declined”"),
        ("withdrew", "", "calling", None, "record “declined”"),
        ("arrived", "", "calling", "declined", "record “accepted” with their ETA first"),
        ("accepted", "5", "stood_down", "asked", "The incident is stood down"),
        ("declined", "", "closed", "asked", "The incident is closed"),
        ("perhaps", "", "calling", "asked", "Choose what they said"),
    ],
)
def test_it_refuses_a_phoned_answer_that_cannot_be_recorded(answer, eta, status, state, refusal):
    with pytest.raises(Refused, match=refusal):
        hands.phoned_reply(answer, eta, status, state)


@pytest.mark.parametrize(
    ("person", "standing", "label"),
    [
        (Person(active=False), Standing.INACTIVE, "left the cadre"),
        (Person(accredited=False), Standing.LAPSED, "accreditation lapsed"),
        (
            Person(unavailable_until=NOW + timedelta(hours=5), on_call_roles=("negotiator",)),
            Standing.UNAVAILABLE,
            "unavailable until 08:00",
        ),
        (Person(busy=True), Standing.BUSY, "going to another incident"),
        (
            Person(stood_down_at=NOW - timedelta(hours=2)),
            Standing.RESTING,
            "resting: stood down 01:00",
        ),
        (
            Person(stood_down_at=NOW - timedelta(hours=2), on_call_roles=("negotiator",)),
            Standing.RESTING,
            "resting: stood down 01:00; on call (negotiator)",
        ),
        (Person(stood_down_at=NOW - hands.RESTING), Standing.OFF_CALL, "not on call"),
        (
            Person(on_call_roles=("coordinator", "negotiator")),
            Standing.ON_CALL,
            "on call (coordinator, negotiator)",
        ),
        (Person(), Standing.OFF_CALL, "not on call"),
    ],
)
def test_it_says_where_someone_stands_for_a_page(person, standing, label):
    assert hands.standing(person, NOW) == standing
    assert hands.standing_label(person, NOW) == label
    assert hands.may_page(standing) == (
        standing not in (Standing.INACTIVE, Standing.LAPSED, Standing.UNAVAILABLE)
    )


def problem(**facts):
    given = {
        "callsign": "N-ONE",
        "standing_now": Standing.ON_CALL,
        "incident_status": "calling",
        "state": None,
        "channel": "both",
    }
    return hands.page_problem(**{**given, **facts})


@pytest.mark.parametrize(
    ("facts", "refusal"),
    [
        ({}, None),
        ({"incident_status": "exhausted", "state": "declined"}, None),
        ({"state": "stood_down", "standing_now": Standing.RESTING}, None),
        ({"standing_now": Standing.BUSY}, None),
        ({"sent_stop": True, "channel": "voice"}, None),
        ({"sent_stop": True, "channel": "both"}, None),  # the call only (page_channels)
        ({"channel": "pigeon"}, "Choose SMS, a voice call or both."),
        ({"incident_status": "closed"}, "The incident is closed: nobody is paged for it."),
        ({"incident_status": "filled"}, "Every place is filled: raise needs first"),
        ({"standing_now": Standing.UNAVAILABLE}, "N-ONE is marked unavailable: not paged."),
        ({"standing_now": Standing.LAPSED}, "N-ONE has a lapsed accreditation"),
        ({"standing_now": Standing.INACTIVE}, "N-ONE has left the cadre"),
        ({"state": "accepted"}, "N-ONE has already accepted"),
        ({"sent_stop": True, "channel": "sms"}, "N-ONE sent STOP"),
    ],
)
def test_it_says_why_a_page_may_not_go(facts, refusal):
    found = problem(**facts)
    if refusal is None:
        assert found is None
    else:
        assert found is not None and found.startswith(refusal)


@pytest.mark.parametrize(
    ("channel", "sent_stop", "channels"),
    [
        ("sms", False, ("sms",)),
        ("voice", False, ("voice",)),
        ("both", False, ("sms", "voice")),
        ("both", True, ("voice",)),
    ],
)
def test_it_never_texts_someone_who_sent_stop(channel, sent_stop, channels):
    assert hands.page_channels(channel, sent_stop) == channels
