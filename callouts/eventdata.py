"""What each kind of event keeps in its `data`: written down once, here.

An Event's columns say when, what kind, who (negotiator), who acted, in which role and on
which channel; `data` holds the rest, and its keys differ by kind. Each kind's keys are
one TypedDict below (every key optional: a value of None or "" is not stored). Writers go
through callouts.events, which refuses a key not named here for its kind; readers (the
timeline, the reports' filters on the JSON) read through `read` and `lookup`.
tests/callouts/test_eventdata.py checks that every Event.Kind is written down.
"""

from collections.abc import Mapping
from typing import TypedDict

from callouts.models import Event

K = Event.Kind


class Raised(TypedDict, total=False):
    needs: dict[str, int]  # role -> how many
    policy: str  # the policy's name
    incident_kind: str  # callouts.models.IncidentKind


class StepFired(TypedDict, total=False):
    round: int  # 0 the first time round; raising needs or calling again adds one
    step: int  # 1-based
    audience: str  # callouts.models.Audience (the channel is the event's column)
    asked: int  # people sent a callout
    alerted: int  # coordinators and supervisors alerted
    missing: dict[str, int]  # role -> places still open
    next_at: str  # ISO time the next step is due


class MessageData(TypedDict, total=False):
    """Any event about one of the incident's messages (events.for_message)."""

    purpose: str  # callouts.models.Message.Purpose
    step: int  # 1-based step that sent it


class MessageSent(MessageData, total=False):
    found: bool  # the provider had it after all (reconciled)


class MessageFailed(MessageData, total=False):
    status: str  # the provider's status
    error_code: str
    error: str  # scrubbed of phone numbers


class CallUnanswered(MessageData, total=False):
    status: str
    error_code: str


class KeyPressed(TypedDict, total=False):
    key: str
    understood: str  # callouts.messaging.replies kind


class ReplyReceived(TypedDict, total=False):
    text: str  # as sent, scrubbed of phone numbers
    understood: str  # callouts.messaging.replies kind
    eta: int  # minutes
    reference: str  # the incident reference they gave


class Answer(TypedDict, total=False):
    """Accepted, an ETA update (the role is the event's column)."""

    eta: int


class Late(TypedDict, total=False):
    eta: int
    over: str  # the incident's status when it came: over if stood_down or closed


class Declined(TypedDict, total=False):
    over: bool  # after the incident was over


class Nothing(TypedDict, total=False):
    """Arrived, withdrawn: the columns say it all."""


class NeedsRaised(TypedDict, total=False):
    count: int  # how many more (the role is the event's column)
    needs: dict[str, int]  # the needs after


class CalledAgain(TypedDict, total=False):
    was: str  # the incident's status before
    missing: dict[str, int]


class Filled(TypedDict, total=False):
    going: dict[str, str]  # callsign -> role


class Exhausted(TypedDict, total=False):
    missing: dict[str, int]


class Alert(TypedDict, total=False):
    text: str
    to: int  # how many were texted
    on_board: bool  # nobody to text: recorded on the board


class Unfilled(TypedDict, total=False):
    """A human told that the incident is not filling (callouts.engine.unfilled)."""

    reasons: list[str]  # callouts.engine.escalation.Unfilled values
    missing: dict[str, int]  # role -> places still open
    # Who was texted and called: [{"callsign": ..., "as": "on-call coordinator, supervisor"}]
    told: list[dict[str, str]]
    channels: list[str]  # how: "sms", "voice"
    gaps: str  # who could not be found, e.g. "no coordinator on call"
    after: int  # the policy's minutes after raising (the "deadline" reason)


class PersonStoodDown(TypedDict, total=False):
    went: bool  # they went (callouts.deployed), else not needed


class Ended(TypedDict, total=False):
    """Stood down or closed."""

    told: int  # people told it is over


class AnswerRecorded(TypedDict, total=False):
    """An answer someone gave by phone, recorded from the board (the actor recorded it)."""

    answer: str  # callouts.engine.hands.Phoned
    eta: int  # minutes, for accepted
    new: bool  # they had not been asked: a callout was made for them


class Paged(TypedDict, total=False):
    """A named person paged from the board (the actor asked; the channel is the column:
    sms, voice or both)."""

    again: bool  # they had been asked before
    was: str  # their callout's state before, when asked before


SHAPES: dict[Event.Kind, type] = {
    K.RAISED: Raised,
    K.STEP_FIRED: StepFired,
    K.MESSAGE_QUEUED: MessageData,
    K.MESSAGE_SENT: MessageSent,
    K.MESSAGE_DELIVERED: MessageData,
    K.MESSAGE_FAILED: MessageFailed,
    K.CALL_ANSWERED: MessageData,
    K.KEY_PRESSED: KeyPressed,
    K.CALL_UNANSWERED: CallUnanswered,
    K.REPLY_RECEIVED: ReplyReceived,
    K.ACCEPTED: Answer,
    K.LATE: Late,
    K.DECLINED: Declined,
    K.ETA: Answer,
    K.ARRIVED: Nothing,
    K.WITHDRAWN: Nothing,
    K.NEEDS_RAISED: NeedsRaised,
    K.CALLED_AGAIN: CalledAgain,
    K.FILLED: Filled,
    K.EXHAUSTED: Exhausted,
    K.ALERT: Alert,
    K.UNFILLED: Unfilled,
    K.PERSON_STOOD_DOWN: PersonStoodDown,
    K.STOOD_DOWN: Ended,
    K.CLOSED: Ended,
    K.ANSWER_RECORDED: AnswerRecorded,
    K.PAGED: Paged,
}


# Worked out once: every event written (a step's sixty, each reply's) asks for its kind's keys.
_KEYS: dict[str, frozenset[str]] = {
    kind.value: frozenset(shape.__required_keys__ | shape.__optional_keys__)
    for kind, shape in SHAPES.items()
}


def keys(kind) -> frozenset[str]:
    """The data keys `kind` keeps; ValueError for a kind that is not an Event.Kind."""
    try:
        return _KEYS[kind]
    except KeyError:
        raise ValueError(f"{kind!r} is not an event kind") from None


def build(kind, data: Mapping) -> dict:
    """`data` as stored for `kind`: None and "" left out; a key not named for the kind is a
    ValueError (a writer and this module disagree)."""
    unknown = set(data) - keys(kind)
    if unknown:
        raise ValueError(f"{kind} events keep no {', '.join(sorted(unknown))} (eventdata)")
    return {k: v for k, v in data.items() if v not in (None, "")}


def read(kind, data: Mapping | None) -> Mapping:
    """A stored event's data, its kind's keys only (an unknown kind: nothing)."""
    try:
        wanted = keys(kind)
    except ValueError:
        return {}
    return {k: v for k, v in (data or {}).items() if k in wanted}


def lookup(kind, key: str, op: str = "") -> str:
    """A queryset lookup on one of `kind`'s keys, e.g. lookup(K.STEP_FIRED, "asked", "gt")
    is "data__asked__gt"; a key not named for the kind is a ValueError."""
    if key not in keys(kind):
        raise ValueError(f"{kind} events keep no {key} (eventdata)")
    return "__".join(["data", key, *([op] if op else [])])
