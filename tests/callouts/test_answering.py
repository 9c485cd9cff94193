"""What an answer changes (callouts.engine.answering): a table of cases, no database."""

import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from callouts.engine import answering, escalation
from callouts.engine.answering import (
    Answer,
    Callout,
    Deploy,
    DeploymentChange,
    Event,
    Outcome,
    Places,
    Response,
)

NOW = datetime(2025, 1, 6, 3, 0, tzinfo=UTC)
AT = NOW - timedelta(seconds=40)  # when they sent it
EARLIER = NOW - timedelta(minutes=9)

ASKED = Callout("calling", "delivered")
GOING = Callout("filled", "accepted", role="negotiator", eta_minutes=20)
GOING_CALLING = Callout("calling", "accepted", role="negotiator", eta_minutes=20)
STOOD = Callout("filled", "stood_down")
OVER = Callout("stood_down", "delivered")

ONE_OF_TWO = Places({"negotiator": 2, "coordinator": 1}, ("negotiator",))
LAST = Places({"negotiator": 1}, ("negotiator",))
LAST_OF_EACH = Places({"negotiator": 1, "coordinator": 1}, ("negotiator",))
NONE_FOR_THEM = Places({"coordinator": 1}, ("negotiator",))
TWO_THEY_HOLD = Places(
    {"negotiator": 1, "coordinator": 1},
    ("negotiator", "coordinator"),
    supply={"negotiator": 4, "coordinator": 1},
)

# (case, callout, reply, eta, places) -> (outcome, answer, changes, deployment, events, filled,
# restart)
CASES = [
    (
        "a first acceptance takes an open place",
        ASKED,
        "accept",
        20,
        ONE_OF_TWO,
        Outcome.ACCEPTED,
        Answer.ACCEPTED,
        (("state", "accepted"), ("role", "negotiator"), ("eta_minutes", 20), ("answered_at", NOW)),
        DeploymentChange(Deploy.DEPLOY, role="negotiator", eta_minutes=20),
        (Event("accepted", "negotiator", {"eta": 20}),),
        False,
        False,
    ),
    (
        "the acceptance that takes the last place fills the incident",
        ASKED,
        "accept",
        None,
        LAST,
        Outcome.ACCEPTED,
        Answer.ACCEPTED,
        (
            ("state", "accepted"),
            ("role", "negotiator"),
            ("eta_minutes", None),
            ("answered_at", NOW),
        ),
        DeploymentChange(Deploy.DEPLOY, role="negotiator"),
        (Event("accepted", "negotiator", {"eta": None}),),
        True,
        False,
    ),
    (
        "the last place of one role does not fill while another role is short",
        ASKED,
        "accept",
        None,
        LAST_OF_EACH,
        Outcome.ACCEPTED,
        Answer.ACCEPTED,
        (
            ("state", "accepted"),
            ("role", "negotiator"),
            ("eta_minutes", None),
            ("answered_at", NOW),
        ),
        DeploymentChange(Deploy.DEPLOY, role="negotiator"),
        (Event("accepted", "negotiator", {"eta": None}),),
        False,
        False,
    ),
    (
        "of two open roles they hold, the scarcer is theirs",
        ASKED,
        "accept",
        5,
        TWO_THEY_HOLD,
        Outcome.ACCEPTED,
        Answer.ACCEPTED,
        (("state", "accepted"), ("role", "coordinator"), ("eta_minutes", 5), ("answered_at", NOW)),
        DeploymentChange(Deploy.DEPLOY, role="coordinator", eta_minutes=5),
        (Event("accepted", "coordinator", {"eta": 5}),),
        False,
        False,
    ),
    (
        "no place left that they could fill: late, stood down",
        ASKED,
        "accept",
        10,
        NONE_FOR_THEM,
        Outcome.LATE,
        Answer.NOT_NEEDED,
        (("late", True), ("answered_at", NOW), ("state", "stood_down"), ("stood_down_at", NOW)),
        DeploymentChange(Deploy.DEPLOY, eta_minutes=10, late=True),
        (Event("late", data={"eta": 10, "over": "calling"}),),
        False,
        False,
    ),
    (
        "late after being stood down keeps when they were stood down and first answered",
        Callout("filled", "stood_down", answered_at=EARLIER),
        "accept",
        None,
        Places({}, ("negotiator",)),
        Outcome.LATE,
        Answer.NOT_NEEDED,
        (("late", True), ("answered_at", EARLIER), ("state", "stood_down")),
        DeploymentChange(Deploy.DEPLOY, late=True),
        (Event("late", data={"eta": None, "over": "filled"}),),
        False,
        False,
    ),
    (
        "accepting an incident that is over is thanked and logged late, nothing else",
        OVER,
        "accept",
        15,
        None,
        Outcome.NOT_NEEDED,
        Answer.NOT_NEEDED,
        (),
        None,
        (Event("late", data={"eta": 15, "over": "stood_down"}),),
        False,
        False,
    ),
    (
        "accepting again with an ETA changes only the ETA",
        GOING,
        "accept",
        25,
        None,
        Outcome.ACCEPTED,
        Answer.ACCEPTED,
        (("eta_minutes", 25),),
        DeploymentChange(Deploy.ETA, eta_minutes=25),
        (Event("eta", "negotiator", {"eta": 25}),),
        False,
        False,
    ),
    (
        "accepting again without an ETA changes nothing",
        GOING,
        "accept",
        None,
        None,
        Outcome.ACCEPTED,
        Answer.ACCEPTED,
        (),
        None,
        (),
        False,
        False,
    ),
    (
        "declining before accepting",
        ASKED,
        "decline",
        None,
        None,
        Outcome.DECLINED,
        Answer.DECLINED,
        (("state", "declined"), ("role", ""), ("answered_at", NOW)),
        None,
        (Event("declined"),),
        False,
        False,
    ),
    (
        "withdrawing from a filled incident restarts the escalation",
        GOING,
        "decline",
        None,
        None,
        Outcome.DECLINED,
        Answer.DECLINED,
        (("state", "declined"), ("role", ""), ("answered_at", NOW)),
        DeploymentChange(Deploy.WITHDRAW),
        (Event("withdrawn", "negotiator"),),
        False,
        True,
    ),
    (
        "withdrawing while still calling leaves the escalation to find the place",
        GOING_CALLING,
        "decline",
        None,
        None,
        Outcome.DECLINED,
        Answer.DECLINED,
        (("state", "declined"), ("role", ""), ("answered_at", NOW)),
        DeploymentChange(Deploy.WITHDRAW),
        (Event("withdrawn", "negotiator"),),
        False,
        False,
    ),
    (
        "declining once stood down changes nothing",
        STOOD,
        "decline",
        None,
        None,
        Outcome.DECLINED,
        Answer.DECLINED,
        (),
        None,
        (Event("declined", data={"over": True}),),
        False,
        False,
    ),
    (
        "declining an incident that is over changes nothing",
        OVER,
        "decline",
        None,
        None,
        Outcome.DECLINED,
        Answer.DECLINED,
        (),
        None,
        (Event("declined", data={"over": True}),),
        False,
        False,
    ),
    (
        "an ETA from someone going",
        GOING,
        "eta",
        10,
        None,
        Outcome.ETA,
        Answer.ETA,
        (("eta_minutes", 10),),
        DeploymentChange(Deploy.ETA, eta_minutes=10),
        (Event("eta", "negotiator", {"eta": 10}),),
        False,
        False,
    ),
    (
        "an ETA before accepting asks them to accept first",
        ASKED,
        "eta",
        10,
        None,
        Outcome.ACCEPT_FIRST,
        Answer.ACCEPT_FIRST,
        (),
        None,
        (),
        False,
        False,
    ),
    (
        "an ETA once stood down is not needed",
        STOOD,
        "eta",
        10,
        None,
        Outcome.NOT_NEEDED,
        Answer.NOT_NEEDED,
        (),
        None,
        (),
        False,
        False,
    ),
    (
        "an arrival is kept at the time they sent it",
        GOING,
        "arrived",
        None,
        None,
        Outcome.ARRIVED,
        Answer.ARRIVED,
        (("arrived_at", AT),),
        DeploymentChange(Deploy.ARRIVE),
        (Event("arrived", "negotiator"),),
        False,
        False,
    ),
    (
        "a second arrival keeps the first",
        Callout("filled", "accepted", role="negotiator", arrived=True),
        "arrived",
        None,
        None,
        Outcome.ARRIVED,
        Answer.ARRIVED,
        (),
        None,
        (),
        False,
        False,
    ),
    (
        "an arrival after the incident is over is not needed",
        Callout("closed", "accepted", role="negotiator"),
        "arrived",
        None,
        None,
        Outcome.NOT_NEEDED,
        Answer.NOT_NEEDED,
        (),
        None,
        (),
        False,
        False,
    ),
]


@pytest.mark.parametrize(
    "callout, reply, eta, places, outcome, answer, changes, deployment, events, filled, restart",
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_it_answers_each_case_as_the_table_says(
    callout, reply, eta, places, outcome, answer, changes, deployment, events, filled, restart
):
    assert answering.weighs_places(callout, reply) == (places is not None)
    got = answering.answer(callout, reply, eta, NOW, AT, places)
    assert (got.outcome, got.answer) == (outcome, answer)
    assert got.changes == changes
    assert got.deployment == deployment
    assert got.events == events
    assert (got.filled, got.restart) == (filled, restart)


# (case, callout, reply, eta) -> the response kept: none for an ETA or arrival out of turn
RESPONSES = [
    ("accepting", ASKED, "accept", 20, Response("accept", 20)),
    ("accepting late", OVER, "accept", 15, Response("accept", 15, late=True)),
    ("declining", ASKED, "decline", None, Response("decline")),
    ("declining once over", STOOD, "decline", None, Response("decline")),
    ("an ETA", GOING, "eta", 10, Response("eta", 10)),
    ("an arrival", GOING, "arrived", None, Response("arrived")),
    (
        "a second arrival",
        Callout("filled", "accepted", arrived=True),
        "arrived",
        None,
        Response("arrived"),
    ),
    ("an ETA before accepting", ASKED, "eta", 10, None),
    ("an arrival before accepting", ASKED, "arrived", None, None),
]


@pytest.mark.parametrize(
    "callout, reply, eta, response", [r[1:] for r in RESPONSES], ids=[r[0] for r in RESPONSES]
)
def test_it_keeps_a_response_for_each_answer_that_counts(callout, reply, eta, response):
    places = ONE_OF_TWO if answering.weighs_places(callout, reply) else None
    assert answering.answer(callout, reply, eta, NOW, AT, places).response == response


def test_it_names_the_role_and_eta_the_answer_text_gives():
    got = answering.answer(ASKED, "accept", 20, NOW, AT, TWO_THEY_HOLD)
    assert (got.role, got.eta_minutes) == ("coordinator", 20)
    again = answering.answer(GOING, "accept", None, NOW, AT)
    assert (again.role, again.eta_minutes) == ("negotiator", 20)
    assert answering.answer(GOING, "eta", 7, NOW, AT).eta_minutes == 7


def test_it_weighs_supply_only_between_several_open_roles_they_hold():
    assert answering.weighs_supply(TWO_THEY_HOLD)
    assert not answering.weighs_supply(ONE_OF_TWO)
    assert not answering.weighs_supply(Places({"negotiator": 1}, ("negotiator", "coordinator")))


def test_it_refuses_a_first_acceptance_without_the_places():
    with pytest.raises(ValueError):
        answering.answer(ASKED, "accept", None, NOW, AT)


@pytest.mark.parametrize(
    "missing, role, left, filled",
    [
        ({"negotiator": 1}, "negotiator", {}, True),
        ({"negotiator": 2}, "negotiator", {"negotiator": 1}, False),
        ({"negotiator": 1, "adviser": 1}, "negotiator", {"adviser": 1}, False),
        ({"adviser": 1}, "negotiator", {"adviser": 1}, False),
        ({}, "negotiator", {}, True),
    ],
)
def test_it_has_one_definition_of_filled(missing, role, left, filled):
    assert escalation.take_place(missing, role) == left
    assert escalation.is_filled(escalation.take_place(missing, role)) == filled
    # The step's decision uses the same definition: all places taken is "filled".
    asked = [escalation.Asked(1, frozenset({role}), state="accepted", role=role)]
    decided = escalation.decide(
        status="calling",
        needs=missing,
        steps=[],
        step_index=-1,
        next_step_at=None,
        asked=asked,
        candidates=[],
        now=NOW,
    )
    assert (decided.action == "filled") == filled


def test_it_imports_nothing_from_django_or_the_models():
    for name in ("answering", "escalation", "reply_target"):
        path = Path(answering.__file__).with_name(f"{name}.py")
        imported = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                imported.add(node.module or "")
        assert not {m for m in imported if m.startswith(("django", "callouts.models", "cadre"))}
