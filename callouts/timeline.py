"""An incident's timeline, the debrief document: its events as lines in order, with the time
since raising, and who went per role. Pure: plain facts in (loaded by callouts.queries),
lines and summaries out.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from callouts import deployed

ROLE_NAMES = {"negotiator": "negotiator", "coordinator": "coordinator", "adviser": "adviser"}
CHANNELS = {"sms": "SMS", "voice": "call", "both": "SMS and call"}
PURPOSES = {
    "callout": "Callout",
    "stand_down": "Stand-down",
    "reply": "Answer",
    "alert": "Alert",
    "reminder": "Reminder",
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
    "on_call": "those on call",
    "force": "every deployable member not yet asked",
    "mutual_aid": "on call in neighbouring forces",
    "named": "named people",
    "unanswered": "everyone asked who has not answered",
    "managers": "coordinators and supervisors",
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


def _message(e: EventFacts) -> str:
    purpose = PURPOSES.get(e.data.get("purpose", ""), "Message")
    text = f"{purpose} {CHANNELS.get(e.channel, e.channel)}"
    return text + (f" (step {e.data['step']})" if e.data.get("step") else "")


def _by(e: EventFacts) -> str:
    return f" by {e.actor}" if e.actor else ""


def describe(e: EventFacts) -> str:
    """One event in words, as a debrief would read it."""
    d = e.data
    k = e.kind
    if k == "raised":
        policy = f"; policy {d['policy']}" if d.get("policy") else ""
        return f"Raised{_by(e)}: needs {_needs(d.get('needs', {}))}{policy}"
    if k == "step_fired":
        again = f" (round {d['round'] + 1})" if d.get("round") else ""
        audience = AUDIENCES.get(d.get("audience", ""), d.get("audience", ""))
        channel = CHANNELS.get(e.channel, e.channel)
        text = f"Step {d.get('step')}{again}: {channel} to {audience}, {d.get('asked', 0)} asked"
        return text + (f", {d['alerted']} alerted" if d.get("alerted") else "")
    if k == "message_queued":
        return f"{_message(e)} queued"
    if k == "message_sent":
        return f"{_message(e)} sent" + (" (found at the provider)" if d.get("found") else "")
    if k == "message_delivered":
        return f"{_message(e)} delivered"
    if k == "message_failed":
        error = " ".join(str(x) for x in (d.get("error_code"), d.get("error")) if x)
        return f"{_message(e)} failed" + (f": {error}" if error else "")
    if k == "call_answered":
        return "Call picked up (only a key press is an answer)"
    if k == "key_pressed":
        return f"Pressed {d.get('key')} on the call: {UNDERSTOOD.get(d.get('understood'), '')}"
    if k == "call_unanswered":
        return "Call not answered" + (f" ({d['status']})" if d.get("status") else "")
    if k == "reply_received":
        understood = UNDERSTOOD.get(d.get("understood", ""), d.get("understood", ""))
        return f"Replied “{d.get('text', '')}”: understood as {understood}{_eta(d.get('eta'))}"
    if k == "accepted":
        return f"Accepted as {_role(e.role)}{_eta(d.get('eta'))}"
    if k == "late":
        if d.get("over") in ("stood_down", "closed"):
            return "Accepted after the incident was over: told not needed"
        return "Accepted late: no place left, stood down"
    if k == "declined":
        return "Declined" + (" (after it was over)" if d.get("over") else "")
    if k == "eta":
        return f"ETA updated to {d.get('eta')} min"
    if k == "arrived":
        return "Arrived"
    if k == "withdrawn":
        return f"Withdrew from the {_role(e.role)} place: open again"
    if k == "needs_raised":
        return f"Needs raised{_by(e)}: {d.get('count')} more {_role(e.role)}"
    if k == "called_again":
        return f"Called again{_by(e)}: still short of {_needs(d.get('missing', {}))}"
    if k == "filled":
        going = ", ".join(f"{c} ({_role(r)})" for c, r in d.get("going", {}).items())
        return "Filled" + (f": {going}" if going else "")
    if k == "exhausted":
        return f"Exhausted: still short of {_needs(d.get('missing', {}))}"
    if k == "alert":
        where = " (recorded on the board: nobody to text)" if d.get("on_board") else ""
        return f"Alert “{d.get('text', '')}”{where}"
    if k == "person_stood_down":
        if d.get("went"):
            return f"Stood down after going ({_role(e.role)}){_by(e)}"
        return f"Stood down, not needed{_by(e)}"
    if k == "stood_down":
        told = f": {d['told']} told" if d.get("told") is not None else ""
        return f"Incident stood down{_by(e)}{told}"
    if k == "closed":
        return f"Incident closed{_by(e)}"
    return k.replace("_", " ").capitalize()


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
