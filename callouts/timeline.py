"""An incident's timeline, the debrief document: its events as lines in order, with the time
since raising, and who went per role. Pure: plain facts in (loaded by callouts.queries),
lines and summaries out.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from callouts import deployed, eventdata
from callouts.models import Audience, Event, Incident, Message

K = Event.Kind

ROLE_NAMES = {"negotiator": "negotiator", "coordinator": "coordinator", "adviser": "adviser"}
CHANNELS = {"sms": "SMS", "voice": "call", "both": "SMS and call"}
PURPOSES = {
    Message.Purpose.CALLOUT: "Callout",
    Message.Purpose.STAND_DOWN: "Stand-down",
    Message.Purpose.REPLY: "Answer",
    Message.Purpose.ALERT: "Alert",
    Message.Purpose.UNFILLED: "Not-filling alert",
    Message.Purpose.REMINDER: "Reminder",
}
UNDERSTOOD = {
    "accept": "attending",
    "decline": "not attending",
    "eta": "an ETA update",
    "arrived": "arrived",
    "opt_out": "STOP (no more SMS)",
    "opt_in": "START (SMS back on)",
    "help": "HELP",
    "unknown": "not understood",
}
AUDIENCES = {
    Audience.ON_CALL: "those on call",
    Audience.FORCE: "every deployable member not yet asked",
    Audience.MUTUAL_AID: "on call in neighbouring forces",
    Audience.NAMED: "named people",
    Audience.UNANSWERED: "everyone asked who has not answered",
    Audience.MANAGERS: "coordinators and supervisors",
}


@dataclass(frozen=True)
class EventFacts:
    at: datetime
    kind: str
    callsign: str = ""
    actor: str = ""
    role: str = ""
    channel: str = ""
    data: Mapping = field(default_factory=dict)


@dataclass(frozen=True)
class Line:
    at: datetime
    since: timedelta
    t_plus: str
    kind: str
    callsign: str
    actor: str
    text: str


@dataclass(frozen=True)
class DeploymentFacts:
    callsign: str
    role: str
    accepted_at: datetime
    late: bool = False
    eta_minutes: int | None = None
    eta_at: datetime | None = None
    arrived_at: datetime | None = None
    withdrawn_at: datetime | None = None
    stood_down_at: datetime | None = None
    stood_down_by: str = ""

    @property
    def went(self) -> bool:
        return deployed.went(self.role, self.late, self.withdrawn_at)


@dataclass(frozen=True)
class RoleSummary:
    role: str
    needed: int
    # Those who went whom the login may see (all of them, for those who see everyone).
    people: tuple[DeploymentFacts, ...]
    # How many went in all, seen or not: the count is never a name.
    went: int = 0

    @property
    def unseen(self) -> int:
        """How many went whom the login may not see."""
        return max(self.went - len(self.people), 0)


@dataclass(frozen=True)
class Timeline:
    lines: tuple[Line, ...]
    roles: tuple[RoleSummary, ...]
    # Accepted but did not go: too late for a place, or withdrew.
    others: tuple[DeploymentFacts, ...]
    # Everyone who appears, for the filter.
    people: tuple[str, ...]


def t_plus(delta: timedelta) -> str:
    """Time since raising as T+h:mm ("T+0:06"); before raising (a clock skew) T-h:mm."""
    seconds = int(delta.total_seconds())
    sign = "+" if seconds >= 0 else "-"
    minutes = abs(seconds) // 60
    return f"T{sign}{minutes // 60}:{minutes % 60:02d}"


def _role(role) -> str:
    return ROLE_NAMES.get(role, role or "")


def _needs(needs: Mapping) -> str:
    return ", ".join(f"{n} {_role(r)}{'s' if n != 1 else ''}" for r, n in needs.items() if n)


def _eta(minutes) -> str:
    return f", ETA {minutes} min" if minutes is not None else ""


def _message(e: EventFacts, d: Mapping) -> str:
    purpose = PURPOSES.get(d.get("purpose", ""), "Message")
    text = f"{purpose} {CHANNELS.get(e.channel, e.channel)}"
    return text + (f" (step {d['step']})" if d.get("step") else "")


def _by(e: EventFacts) -> str:
    return f" by {e.actor}" if e.actor else ""


def _raised(e: EventFacts, d) -> str:
    policy = f"; policy {d['policy']}" if d.get("policy") else ""
    return f"Raised{_by(e)}: needs {_needs(d.get('needs', {}))}{policy}"


def _step_fired(e: EventFacts, d) -> str:
    again = f" (round {d['round'] + 1})" if d.get("round") else ""
    audience = AUDIENCES.get(d.get("audience", ""), d.get("audience", ""))
    channel = CHANNELS.get(e.channel, e.channel)
    text = f"Step {d.get('step')}{again}: {channel} to {audience}, {d.get('asked', 0)} asked"
    return text + (f", {d['alerted']} alerted" if d.get("alerted") else "")


def _message_failed(e: EventFacts, d) -> str:
    error = " ".join(str(x) for x in (d.get("error_code"), d.get("error")) if x)
    return f"{_message(e, d)} failed" + (f": {error}" if error else "")


def _reply(e: EventFacts, d) -> str:
    understood = UNDERSTOOD.get(d.get("understood", ""), d.get("understood", ""))
    return f"Replied “{d.get('text', '')}”: understood as {understood}{_eta(d.get('eta'))}"


def _late(e: EventFacts, d) -> str:
    if d.get("over") in (Incident.Status.STOOD_DOWN, Incident.Status.CLOSED):
        return "Accepted after the incident was over: told not needed"
    return "Accepted late: no place left, stood down"


def _filled(e: EventFacts, d) -> str:
    going = ", ".join(f"{c} ({_role(r)})" for c, r in d.get("going", {}).items())
    return "Filled" + (f": {going}" if going else "")


def _alert(e: EventFacts, d) -> str:
    where = " (recorded on the board: nobody to text)" if d.get("on_board") else ""
    return f"Alert “{d.get('text', '')}”{where}"


UNFILLED_REASONS = {"exhausted": "policy exhausted", "deadline": "still short after {after} min"}


def _unfilled(e: EventFacts, d) -> str:
    why = "; ".join(
        UNFILLED_REASONS.get(r, r).format(after=d.get("after", "?")) for r in d.get("reasons", ())
    )
    head = f"Not filling ({why}): {_needs(d.get('missing', {}))} missing"
    how = " and ".join(CHANNELS.get(c, c) for c in d.get("channels", ()))
    people = ", ".join(f"{t.get('callsign')} ({t.get('as')})" for t in d.get("told", ()))
    if not people:
        return f"{head}; nobody to tell: {d.get('gaps') or 'nobody found'}"
    return f"{head}; told {people} by {how}" + (
        f" (not found: {d['gaps']})" if d.get("gaps") else ""
    )


def _person_stood_down(e: EventFacts, d) -> str:
    if d.get("went"):
        return f"Stood down after going ({_role(e.role)}){_by(e)}"
    return f"Stood down, not needed{_by(e)}"


def _stood_down(e: EventFacts, d) -> str:
    told = f": {d['told']} told" if d.get("told") is not None else ""
    return f"Incident stood down{_by(e)}{told}"


PHONED = {
    "accepted": "Accepted",
    "declined": "Declined",
    "arrived": "Arrived",
    "withdrew": "Withdrew",
}


def _answer_recorded(e: EventFacts, d) -> str:
    said = PHONED.get(d.get("answer", ""), d.get("answer", ""))
    new = " (not asked before)" if d.get("new") else ""
    by = f"by {e.actor}" if e.actor else "by a coordinator"
    return f"{said}{_eta(d.get('eta'))}{new}: recorded {by} (by phone)"


def _paged(e: EventFacts, d) -> str:
    again = " again" if d.get("again") else ""
    return f"Paged{again}{_by(e)} by {CHANNELS.get(e.channel, e.channel)}"


# How each kind of event reads (its data read through callouts.eventdata); every Event.Kind
# has a line here (tests/callouts/test_eventdata.py).
DESCRIBE: dict[K, Callable[[EventFacts, Mapping], str]] = {
    K.RAISED: _raised,
    K.STEP_FIRED: _step_fired,
    K.MESSAGE_QUEUED: lambda e, d: f"{_message(e, d)} queued",
    K.MESSAGE_SENT: lambda e, d: (
        f"{_message(e, d)} sent" + (" (found at the provider)" if d.get("found") else "")
    ),
    K.MESSAGE_DELIVERED: lambda e, d: f"{_message(e, d)} delivered",
    K.MESSAGE_FAILED: _message_failed,
    K.CALL_ANSWERED: lambda e, d: "Call picked up (only a key press is an answer)",
    K.KEY_PRESSED: lambda e, d: (
        f"Pressed {d.get('key')} on the call: {UNDERSTOOD.get(d.get('understood'), '')}"
    ),
    K.CALL_UNANSWERED: lambda e, d: (
        "Call not answered" + (f" ({d['status']})" if d.get("status") else "")
    ),
    K.REPLY_RECEIVED: _reply,
    K.ACCEPTED: lambda e, d: f"Accepted as {_role(e.role)}{_eta(d.get('eta'))}",
    K.LATE: _late,
    K.DECLINED: lambda e, d: "Declined" + (" (after it was over)" if d.get("over") else ""),
    K.ETA: lambda e, d: f"ETA updated to {d.get('eta')} min",
    K.ARRIVED: lambda e, d: "Arrived",
    K.WITHDRAWN: lambda e, d: f"Withdrew from the {_role(e.role)} place: open again",
    K.NEEDS_RAISED: lambda e, d: f"Needs raised{_by(e)}: {d.get('count')} more {_role(e.role)}",
    K.CALLED_AGAIN: lambda e, d: (
        f"Called again{_by(e)}: still short of {_needs(d.get('missing', {}))}"
    ),
    K.FILLED: _filled,
    K.EXHAUSTED: lambda e, d: f"Exhausted: still short of {_needs(d.get('missing', {}))}",
    K.ALERT: _alert,
    K.UNFILLED: _unfilled,
    K.PERSON_STOOD_DOWN: _person_stood_down,
    K.STOOD_DOWN: _stood_down,
    K.CLOSED: lambda e, d: f"Incident closed{_by(e)}",
    K.ANSWER_RECORDED: _answer_recorded,
    K.PAGED: _paged,
}


def describe(e: EventFacts) -> str:
    """One event in words, as a debrief would read it."""
    describe_kind = DESCRIBE.get(e.kind)
    if describe_kind is None:  # a kind this code no longer has
        return str(e.kind).replace("_", " ").capitalize()
    return describe_kind(e, eventdata.read(e.kind, e.data))


def build(
    raised_at: datetime,
    needs: Mapping[str, int],
    events: Iterable[EventFacts],
    deployments: Iterable[DeploymentFacts],
    person: str = "",
    people: Iterable[str] | None = None,
    went_per_role: Mapping[str, int] | None = None,
) -> Timeline:
    """The timeline of `events` (only `person`'s lines when given). `people`: everyone in the
    whole log, for the filter, when `events` are only a page of it. `went_per_role`: how
    many went in each role in all, when `deployments` are only those the login may see
    (else counted from them)."""
    events = sorted(events, key=lambda e: e.at)
    deployments = list(deployments)
    if people is None:
        people = {e.callsign for e in events if e.callsign}
    people = sorted({*people, *(d.callsign for d in deployments)})
    lines = tuple(
        Line(
            at=e.at,
            since=e.at - raised_at,
            t_plus=t_plus(e.at - raised_at),
            kind=e.kind,
            callsign=e.callsign,
            actor=e.actor,
            text=describe(e),
        )
        for e in events
        if not person or e.callsign == person
    )
    went = [d for d in deployments if d.went]
    if went_per_role is None:
        went_per_role = {}
        for d in went:
            went_per_role[d.role] = went_per_role.get(d.role, 0) + 1
    roles = list(dict.fromkeys([*needs, *(d.role for d in went), *went_per_role]))
    return Timeline(
        lines=lines,
        roles=tuple(
            RoleSummary(
                role=role,
                needed=int(needs.get(role, 0)),
                people=tuple(sorted((d for d in went if d.role == role), key=_accepted)),
                went=int(went_per_role.get(role, 0)),
            )
            for role in roles
        ),
        others=tuple(sorted((d for d in deployments if not d.went), key=_accepted)),
        people=tuple(people),
    )


def _accepted(d: DeploymentFacts):
    return d.accepted_at
