"""What an answer changes: a pure function of the callout, the reply and the places open.

engine/answers.py loads plain facts under the incident's lock, asks `answer`, and saves
the Transition it gets back in one small function. Nothing here touches the database
(no Django import), so every rule is table-tested directly (tests/callouts/test_answering.py).

Rules:
- an incident that is over (stood down, closed) thanks an acceptance and records it as late;
- accepting again changes only the ETA (if one is given);
- a first acceptance takes one open place of a role they hold, the scarcer when several
  (escalation.choose_role); none open: thanked, stood down and recorded as late;
- the acceptance that takes the last open place fills the incident (escalation.is_filled):
  the rest are stood down;
- declining after accepting is withdrawing: the deployment is withdrawn, and unless the
  escalation is still calling (it would find the open place itself) it restarts for the
  place now open and the coordinator is told;
- an ETA or an arrival counts only from someone going to a live incident;
- an arrival is kept once: the first one stands.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from callouts.engine import escalation

# Plain strings so that this module needs nothing from Django (the models' values).
LIVE = frozenset({"calling", "filled", "exhausted"})
CALLING = "calling"
ACCEPTED, DECLINED, STOOD_DOWN = escalation.ACCEPTED, escalation.DECLINED, escalation.STOOD_DOWN


class Reply(StrEnum):
    """What the person said (callouts.messaging.replies' kinds of an answer)."""

    ACCEPT = "accept"
    DECLINE = "decline"
    ETA = "eta"
    ARRIVED = "arrived"


class Outcome(StrEnum):
    """What happened: the kind of engine.answers.Outcome."""

    ACCEPTED = "accepted"
    LATE = "late"
    NOT_NEEDED = "not_needed"
    DECLINED = "declined"
    ETA = "eta"
    ARRIVED = "arrived"
    ACCEPT_FIRST = "accept_first"


class Answer(StrEnum):
    """Which text answers them (callouts.messaging.texts)."""

    ACCEPTED = "accepted"  # accepted_sms(role, eta)
    NOT_NEEDED = "not_needed"  # not_needed_sms
    DECLINED = "declined"  # declined_sms
    ETA = "eta"  # eta_sms(eta)
    ARRIVED = "arrived"  # arrived_sms
    ACCEPT_FIRST = "accept_first"  # accept_first_sms


class Deploy(StrEnum):
    """What happens to their deployment (who went, callouts.models.Deployment)."""

    DEPLOY = "deploy"  # made, or made anew: role, ETA from `at`, late
    ETA = "eta"  # its ETA, counted from `at`
    WITHDRAW = "withdraw"  # withdrawn at `at`, if it is not already
    ARRIVE = "arrive"  # arrived at `at`, if it has not already


@dataclass(frozen=True)
class Callout:
    """The callout answered, and the incident's status, as locked."""

    incident_status: str
    state: str
    role: str = ""
    eta_minutes: int | None = None
    arrived: bool = False
    answered_at: datetime | None = None


@dataclass(frozen=True)
class Places:
    """What a first acceptance weighs: the places open per role (escalation.missing_roles),
    the roles the person holds, and how many could still fill each (scarcity)."""

    missing: Mapping[str, int]
    holds: tuple[str, ...]
    supply: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Response:
    kind: str
    eta_minutes: int | None = None
    late: bool = False


@dataclass(frozen=True)
class DeploymentChange:
    kind: Deploy
    role: str = ""
    eta_minutes: int | None = None
    late: bool = False


@dataclass(frozen=True)
class Event:
    """An event for the incident's log, of their callout, at the time they said it."""

    kind: str  # callouts.models.Event.Kind's value
    role: str = ""
    data: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Transition:
    outcome: Outcome
    answer: Answer
    # The callout's fields to set, in this order (values are final: times are given).
    changes: tuple[tuple[str, object], ...] = ()
    response: Response | None = None
    deployment: DeploymentChange | None = None
    events: tuple[Event, ...] = ()
    # The role and ETA the answer text names (accepted_sms, eta_sms).
    role: str = ""
    eta_minutes: int | None = None
    # Every place is taken now: stop, stand the rest down, tell the coordinator.
    filled: bool = False
    # A place is open again after the escalation stopped: restart it, tell the coordinator.
    restart: bool = False


def weighs_places(callout: Callout, reply: str) -> bool:
    """Whether `answer` needs the places open (a first acceptance to a live incident)."""
    return reply == Reply.ACCEPT and callout.incident_status in LIVE and callout.state != ACCEPTED


def weighs_supply(places: Places) -> bool:
    """Whether scarcity decides: several open roles they hold (its queries are skipped else)."""
    return len([r for r in places.holds if places.missing.get(r, 0) > 0]) > 1


def answer(
    callout: Callout,
    reply: str,
    eta: int | None,
    now: datetime,
    at: datetime,
    places: Places | None = None,
) -> Transition:
    """What this reply changes. `now`: when it is recorded; `at`: when they said it (an ETA
    counts from their message). `places` only when weighs_places says so."""
    live = callout.incident_status in LIVE
    if reply == Reply.ACCEPT:
        if not live:
            return Transition(
                Outcome.NOT_NEEDED,
                Answer.NOT_NEEDED,
                response=Response(Reply.ACCEPT, eta, late=True),
                events=(Event("late", data={"eta": eta, "over": callout.incident_status}),),
            )
        if callout.state == ACCEPTED:
            return _accept_again(callout, eta)
        return _accept(callout, eta, now, places)
    if reply == Reply.DECLINE:
        return _decline(callout, now)
    if callout.state != ACCEPTED or not live:
        return _not_going(callout)
    if reply == Reply.ETA:
        return _new_eta(callout, eta, Outcome.ETA, Answer.ETA, Reply.ETA)
    if reply == Reply.ARRIVED:
        if callout.arrived:
            return Transition(Outcome.ARRIVED, Answer.ARRIVED, response=Response(Reply.ARRIVED))
        return Transition(
            Outcome.ARRIVED,
            Answer.ARRIVED,
            changes=(("arrived_at", at),),
            response=Response(Reply.ARRIVED),
            deployment=DeploymentChange(Deploy.ARRIVE),
            events=(Event("arrived", callout.role),),
        )
    raise ValueError(f"not an answer: {reply!r}")


def _accept_again(callout: Callout, eta) -> Transition:
    """Accepting again: a new ETA, if they give one; their place stays theirs."""
    if eta is None:
        return Transition(
            Outcome.ACCEPTED,
            Answer.ACCEPTED,
            response=Response(Reply.ACCEPT),
            role=callout.role,
            eta_minutes=callout.eta_minutes,
        )
    return _new_eta(
        callout, eta, Outcome.ACCEPTED, Answer.ACCEPTED, Reply.ACCEPT, role=callout.role
    )


def _new_eta(callout: Callout, eta, outcome, answer, reply, role="") -> Transition:
    """An accepted person's new ETA, given as an ETA update or by accepting again."""
    return Transition(
        outcome,
        answer,
        changes=(("eta_minutes", eta),),
        response=Response(reply, eta),
        deployment=DeploymentChange(Deploy.ETA, eta_minutes=eta),
        events=(Event("eta", callout.role, {"eta": eta}),),
        role=role,
        eta_minutes=eta,
    )


def _accept(callout: Callout, eta, now, places: Places | None) -> Transition:
    if places is None:
        raise ValueError("a first acceptance weighs the places open")
    role = escalation.choose_role(places.holds, places.missing, places.supply)
    if role is None:
        # Every place they could fill is taken: thanked, stood down, recorded as late.
        stood_down_now = callout.state != STOOD_DOWN
        return Transition(
            Outcome.LATE,
            Answer.NOT_NEEDED,
            changes=(
                ("late", True),
                ("answered_at", callout.answered_at or now),
                ("state", STOOD_DOWN),
                *((("stood_down_at", now),) if stood_down_now else ()),
            ),
            response=Response(Reply.ACCEPT, eta, late=True),
            deployment=DeploymentChange(Deploy.DEPLOY, eta_minutes=eta, late=True),
            events=(Event("late", data={"eta": eta, "over": callout.incident_status}),),
        )
    left = escalation.take_place(places.missing, role)
    return Transition(
        Outcome.ACCEPTED,
        Answer.ACCEPTED,
        changes=(("state", ACCEPTED), ("role", role), ("eta_minutes", eta), ("answered_at", now)),
        response=Response(Reply.ACCEPT, eta),
        deployment=DeploymentChange(Deploy.DEPLOY, role=role, eta_minutes=eta),
        events=(Event("accepted", role, {"eta": eta}),),
        role=role,
        eta_minutes=eta,
        filled=escalation.is_filled(left),
    )


def _decline(callout: Callout, now) -> Transition:
    if callout.state == STOOD_DOWN or callout.incident_status not in LIVE:
        return Transition(
            Outcome.DECLINED,
            Answer.DECLINED,
            response=Response(Reply.DECLINE),
            events=(Event("declined", data={"over": True}),),
        )
    changes = (("state", DECLINED), ("role", ""), ("answered_at", now))
    if callout.state != ACCEPTED:
        return Transition(
            Outcome.DECLINED,
            Answer.DECLINED,
            changes=changes,
            response=Response(Reply.DECLINE),
            events=(Event("declined"),),
        )
    # They withdrew after accepting: their place is open again.
    return Transition(
        Outcome.DECLINED,
        Answer.DECLINED,
        changes=changes,
        response=Response(Reply.DECLINE),
        deployment=DeploymentChange(Deploy.WITHDRAW),
        events=(Event("withdrawn", callout.role),),
        restart=callout.incident_status != CALLING,
    )


def _not_going(callout: Callout) -> Transition:
    if callout.state == STOOD_DOWN or callout.incident_status not in LIVE:
        return Transition(Outcome.NOT_NEEDED, Answer.NOT_NEEDED)
    return Transition(Outcome.ACCEPT_FIRST, Answer.ACCEPT_FIRST)
