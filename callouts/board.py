"""What the incident board and the API show about an incident's callouts.

Pure: it takes plain facts (loaded by callouts.queries) and returns rows and
counts, so that the page, the partial and the JSON API all say the same thing.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from callouts.frozen import FrozenStep

# Display labels, in the words coordinators use on the radio.
STATE_LABELS = {
    "asked": "Asked",
    "delivered": "SMS delivered",
    "accepted": "Accepted",
    "declined": "Declined",
    "no_answer": "No answer",
    "unreachable": "Unreachable",
    "stood_down": "Stood down",
    # Not answers: what we know of reaching them while the provider is in trouble.
    "not_reached": "Not reached yet",
    "unknown": "Not known if reached",
    # Stood down, then called again: no step has asked them again yet.
    "not_asked_again": "Not asked again yet",
}
# Provider statuses that mean the message reached the handset (or the call was picked up).
REACHED = {"delivered", "in-progress", "completed"}
# Provider statuses after which that channel will not reach the person.
FAILED = {"failed", "undelivered"}


@dataclass(frozen=True)
class CalloutFacts:
    """One Callout row, flattened; `channels` maps channel → latest outgoing callout status."""

    callsign: str
    state: str
    asked_roles: tuple[str, ...] = ()
    role: str = ""
    eta_minutes: int | None = None
    asked_at: datetime | None = None
    answered_at: datetime | None = None
    arrived_at: datetime | None = None
    stood_down_at: datetime | None = None
    late: bool = False
    sms_unreachable: bool = False
    voice_unreachable: bool = False
    channels: Mapping[str, str] = field(default_factory=dict)
    # Channel → error code of that latest message ("" when none).
    errors: Mapping[str, str] = field(default_factory=dict)
    full_name: str = ""
    mobile: str = ""
    callout_id: int | None = None
    # The last carrier keyword they sent since being asked: "stop", "start" or "help".
    keyword: str = ""
    # From their deployment, the permanent record: they accepted a place and did not
    # withdraw. Whatever their callout's state becomes later, they went.
    went: bool = False
    accepted_at: datetime | None = None
    # Their ETA as a moment, counted from the message that gave it.
    eta_at: datetime | None = None
    # What they last said, as they said it ("maybe", "Y 20", "pressed 1"): "" when nothing.
    last_reply: str = ""
    # They sent STOP (now or before this incident): reached by voice only.
    texts_stopped: bool = False
    last_reply_at: datetime | None = None
    # When they were last stood down (told they are not needed), whatever happened after.
    called_off_at: datetime | None = None
    # When each callout message went to them (created), any round, oldest first.
    asked_times: tuple[datetime, ...] = ()
    # Channel → when its latest callout message was created.
    channel_times: Mapping[str, datetime] = field(default_factory=dict)


TEXTS_STOPPED_LABEL = "texts stopped — voice only"

KEYWORD_LABELS = {
    "stop": "sent STOP: no more SMS",
    "start": "sent START: SMS back on",
    "help": "asked for HELP",
}


@dataclass(frozen=True)
class Row:
    callsign: str
    state: str
    state_label: str
    asked_roles: tuple[str, ...]
    role: str
    eta_minutes: int | None
    eta_at: datetime | None
    asked_at: datetime | None
    answered_at: datetime | None
    arrived_at: datetime | None
    response_time: timedelta | None
    late: bool
    unreachable_on: tuple[str, ...]
    full_name: str
    mobile: str
    callout_id: int | None
    keyword: str = ""
    # Why they may not have heard, for a coordinator deciding whether to phone them.
    note: str = ""
    went: bool = False
    accepted_at: datetime | None = None
    stood_down_at: datetime | None = None
    last_reply: str = ""
    texts_stopped: bool = False
    # Stood down, then called again: what they said before the stand-down, no longer current.
    reasked: bool = False
    earlier_reply: str = ""
    called_off_at: datetime | None = None
    # How the call to them is going, while they have not answered ("call ringing").
    call: str = ""

    @property
    def keyword_label(self) -> str:
        if self.texts_stopped and self.keyword == "stop":
            return ""  # said by the texts-stopped badge
        return KEYWORD_LABELS.get(self.keyword, "")

    @property
    def texts_stopped_label(self) -> str:
        return TEXTS_STOPPED_LABEL if self.texts_stopped else ""

    @property
    def answer_label(self) -> str:
        """Their answer, as they read it on their own page: no delivery news as an answer."""
        if GROUP_OF_STATE.get(self.state) in ("waiting", "again"):
            return "Not answered yet"
        return self.state_label


@dataclass(frozen=True)
class RoleCount:
    role: str
    needed: int
    filled: int

    @property
    def missing(self) -> int:
        return max(self.needed - self.filled, 0)


# Everyone who is not coming, in the groups a coordinator reads at 3 a.m., in this order.
GROUPS = (
    ("waiting", "Still to answer"),
    ("again", "Stood down, to be asked again"),
    ("declined", "Declined"),
    ("unreachable", "Unreachable"),
    ("not_needed", "Not needed"),
)
GROUP_OF_STATE = {
    "asked": "waiting",
    "delivered": "waiting",
    "no_answer": "waiting",
    "not_reached": "waiting",
    "unknown": "waiting",
    "not_asked_again": "again",
    "declined": "declined",
    "unreachable": "unreachable",
    "stood_down": "not_needed",
    "accepted": "not_needed",  # accepted without a place (late): they are not coming
}


def counts(row: Row, live: bool) -> bool:
    """Whether the row fills a place: they went; while live, not if they were stood down
    before the incident was called again."""
    return row.went and not (live and row.stood_down_at is not None)


@dataclass(frozen=True)
class Board:
    rows: tuple[Row, ...]
    roles: tuple[RoleCount, ...]
    # Live incidents count only people still out (see `counts`).
    live: bool = False

    @property
    def filled(self) -> bool:
        return all(r.missing == 0 for r in self.roles)

    @property
    def short(self) -> tuple[RoleCount, ...]:
        """The roles with places still open, in the order of the need."""
        return tuple(r for r in self.roles if r.missing)

    @property
    def going(self) -> tuple[Row, ...]:
        """Who went (or is going): from the deployments, whatever happened after."""
        return tuple(r for r in self.rows if counts(r, self.live))

    @property
    def groups(self) -> tuple[tuple[str, str, tuple[Row, ...]], ...]:
        """Everyone else, grouped (key, label, rows), empty groups left out; within a group
        in the order they were asked."""
        going = {id(r) for r in self.going}
        grouped: dict[str, list[Row]] = {key: [] for key, _ in GROUPS}
        for row in self.rows:
            if id(row) not in going:
                grouped[GROUP_OF_STATE.get(row.state, "waiting")].append(row)
        return tuple((key, label, tuple(grouped[key])) for key, label in GROUPS if grouped[key])

    @property
    def by_role(self) -> tuple[tuple[RoleCount, tuple[Row, ...]], ...]:
        """Each needed role with the people who went in it, first to accept first."""
        return tuple(
            (
                need,
                tuple(
                    sorted(
                        (r for r in self.going if r.role == need.role),
                        key=lambda r: (r.accepted_at is None, r.accepted_at or datetime.min),
                    )
                ),
            )
            for need in self.roles
        )


# Past this many, a group of "everyone else" shows this many and says how many more: a
# regional callout asks hundreds, and the board is fetched again every 2 s, on phones too
# (300 asked: 97 KB a fetch, 9 KB shown 25 a group).
GROUP_SHOWN = 25


def needs_a_look(row: Row) -> bool:
    """Not known to be reached, a channel failed, a keyword (STOP), or late: a phone call."""
    return row.state in ("not_reached", "unknown") or bool(
        row.unreachable_on or row.keyword or row.late or row.texts_stopped
    )


def shown(groups, at_most: int | None):
    """Each group as (key, label, rows shown, how many in all): at most `at_most` rows (every
    row with None), those needing a look before the rest, shown in the order asked."""
    out = []
    for key, label, rows in groups:
        if at_most is None or len(rows) <= at_most:
            out.append((key, label, rows, len(rows)))
            continue
        first = sorted(range(len(rows)), key=lambda i: (not needs_a_look(rows[i]), i))[:at_most]
        out.append((key, label, tuple(rows[i] for i in sorted(first)), len(rows)))
    return tuple(out)


def unreachable_channels(facts: CalloutFacts) -> tuple[str, ...]:
    failed = {ch for ch, status in facts.channels.items() if status in FAILED}
    if facts.sms_unreachable:
        failed.add("sms")
    if facts.voice_unreachable:
        failed.add("voice")
    return tuple(sorted(failed))


def state_of(facts: CalloutFacts) -> str:
    """The state a coordinator should see.

    Stored answers win; an unanswered callout shows "delivered" once any channel
    reached the handset, and "unreachable" once every channel used has failed.
    """
    if facts.state != "asked":
        return facts.state
    if reasked(facts) and not asked_again_times(facts):
        return "not_asked_again"
    failed = unreachable_channels(facts)
    used = set(facts.channels) or set(failed)
    if used and used <= set(failed):
        return "unreachable"
    if any(status in REACHED for status in facts.channels.values()):
        return "delivered"
    if any(status == "unknown" for status in facts.channels.values()):
        return "unknown"
    if facts.channels and all(_waiting(facts, ch) for ch in facts.channels):
        return "not_reached"
    return "asked"


def _waiting(facts: CalloutFacts, channel: str) -> bool:
    """Not yet taken by the provider, after it failed it (an outage, not their phone)."""
    return facts.channels[channel] in WAITING and bool(facts.errors.get(channel))


WAITING = {"pending", "sending"}
CHANNEL_NAMES = {"sms": "SMS", "voice": "call"}


def note_for(facts: CalloutFacts, state: str) -> str:
    if state == "unknown":
        unknown = [CHANNEL_NAMES.get(c, c) for c, s in facts.channels.items() if s == "unknown"]
        return f"provider cannot say whether the {' or '.join(unknown)} went: phone them"
    if state == "not_reached":
        codes = sorted({facts.errors[c] for c in facts.channels if facts.errors.get(c)})
        channels = " and ".join(CHANNEL_NAMES.get(c, c) for c in sorted(facts.channels))
        return f"{channels} not sent yet: provider failing ({', '.join(codes)}), retrying"
    return ""


def state_label(state: str, has_gone: bool, channels: Mapping[str, str] | None = None) -> str:
    if state == "stood_down":
        return "Went, stood down" if has_gone else "Stood down, not needed"
    if state == "delivered" and (channels or {}).get("sms") not in REACHED:
        return "Picked up the call"
    return STATE_LABELS.get(state, state)


# Callout states in which they have not answered (Callout.OPEN_STATES).
OPEN = {"asked", "delivered", "no_answer", "unreachable"}


def reasked(facts: CalloutFacts) -> bool:
    """Stood down, then asked again (the incident called again, or its needs raised): their
    callout is open once more after a stand-down."""
    return facts.state in OPEN and facts.called_off_at is not None


def asked_again_times(facts: CalloutFacts) -> tuple[datetime, ...]:
    return tuple(t for t in facts.asked_times if t > facts.called_off_at)


def since_called_off(facts: CalloutFacts) -> CalloutFacts:
    """For someone asked again, only what happened after their stand-down: the channels of
    the messages asking them again (none yet: none at all)."""
    newer = {ch for ch, t in facts.channel_times.items() if t > facts.called_off_at}
    return replace(
        facts,
        channels={ch: s for ch, s in facts.channels.items() if ch in newer},
        errors={ch: e for ch, e in facts.errors.items() if ch in newer},
    )


# How a call to someone who has not answered is going, by the provider's call status.
CALL_LABELS = {
    "pending": "calling",
    "sending": "calling",
    "sent": "calling",
    "ringing": "call ringing",
    "in-progress": "on the call now",
    "completed": "call ended, no key pressed",
    "busy": "line busy",
    "no-answer": "call not answered",
    "cancelled": "call cancelled",
}


def call_label(state: str, channels: Mapping[str, str]) -> str:
    """The call's progress for someone still to answer ("" when there is no call, or it
    failed: `unreachable_on` says so, or the state already says they picked up)."""
    status = channels.get("voice")
    if status is None or GROUP_OF_STATE.get(state) != "waiting":
        return ""
    if state == "delivered" and channels.get("sms") not in REACHED and status == "in-progress":
        return ""
    return CALL_LABELS.get(status, "")


def row_for(facts: CalloutFacts) -> Row:
    again = reasked(facts)
    earlier_reply = ""
    answered, asked_at, last_reply = facts.answered_at, facts.asked_at, facts.last_reply
    if again:
        # What came before the stand-down is history: asked when asked again, no answer yet.
        facts = since_called_off(facts)
        asked_at = min(asked_again_times(facts), default=None)
        answered = None
        if not facts.last_reply_at or facts.last_reply_at <= facts.called_off_at:
            earlier_reply, last_reply = last_reply, ""
    state = state_of(facts)
    response = None
    if answered and asked_at:
        response = max(answered - asked_at, timedelta(0))
    has_gone = facts.went
    eta_at = facts.eta_at
    if eta_at is None and has_gone and facts.eta_minutes is not None and answered:
        eta_at = answered + timedelta(minutes=facts.eta_minutes)
    if facts.arrived_at or facts.stood_down_at or not has_gone:
        # Once they are there, stood down, or not going, no ETA is worth showing.
        eta_at = None
    return Row(
        callsign=facts.callsign,
        state=state,
        state_label=state_label(state, has_gone, facts.channels),
        asked_roles=tuple(facts.asked_roles),
        role=facts.role,
        eta_minutes=facts.eta_minutes,
        eta_at=eta_at,
        asked_at=asked_at,
        answered_at=answered,
        arrived_at=facts.arrived_at,
        response_time=response,
        late=facts.late,
        # Stopped texts are not a failed SMS: the badge says why there are none.
        unreachable_on=tuple(
            ch for ch in unreachable_channels(facts) if not (facts.texts_stopped and ch == "sms")
        ),
        full_name=facts.full_name,
        mobile=facts.mobile,
        callout_id=facts.callout_id,
        keyword=facts.keyword,
        note=note_for(facts, state),
        went=has_gone,
        accepted_at=facts.accepted_at or (answered if has_gone else None),
        stood_down_at=facts.stood_down_at,
        last_reply=last_reply,
        reasked=again,
        earlier_reply=earlier_reply,
        called_off_at=facts.called_off_at,
        call=call_label(state, facts.channels),
        texts_stopped=facts.texts_stopped,
    )


def filled_counts(
    needs: Mapping[str, int], rows: Iterable[Row], live: bool = False
) -> tuple[RoleCount, ...]:
    """Places filled per needed role: those who went, counted in the role they filled.

    From the deployments, so standing down or closing never empties the count (while live,
    see `counts`).
    """
    filled: dict[str, int] = {}
    for row in rows:
        if counts(row, live) and row.role:
            filled[row.role] = filled.get(row.role, 0) + 1
    return tuple(
        RoleCount(role=role, needed=int(count), filled=filled.get(role, 0))
        for role, count in needs.items()
    )


def build(needs: Mapping[str, int], callouts: Iterable[CalloutFacts], live=False) -> Board:
    rows = tuple(row_for(f) for f in callouts)
    return Board(rows=rows, roles=filled_counts(needs, rows, live), live=live)


@dataclass(frozen=True)
class Timing:
    """How fast an incident was answered, for the history list."""

    asked: int
    answered: int
    went: int
    to_first_acceptance: timedelta | None
    to_filled: timedelta | None


def timing(raised_at: datetime, filled_at: datetime | None, board: Board) -> Timing:
    accepted = [r.accepted_at for r in board.going if r.accepted_at]
    first = min(accepted) - raised_at if accepted else None
    return Timing(
        asked=len(board.rows),
        answered=sum(1 for r in board.rows if r.answered_at),
        went=len(board.going),
        to_first_acceptance=first,
        to_filled=(filled_at - raised_at) if filled_at else None,
    )


def duration(delta: timedelta | None) -> str:
    """ "4 min 05 s", short enough for a table cell; "" when unknown."""
    if delta is None:
        return ""
    seconds = max(int(delta.total_seconds()), 0)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {seconds:02d} s"
    return f"{seconds} s"


AUDIENCE_LABELS = {
    "on_call": "those on call",
    "force": "every deployable member not yet asked",
    "mutual_aid": "on call in neighbouring forces",
    "named": "named people",
    "unanswered": "everyone asked who has not answered",
    "managers": "alert coordinators and supervisors",
}
CHANNEL_LABELS = {"sms": "SMS", "voice": "voice call", "both": "SMS and voice"}


def step_label(step: FrozenStep | None) -> str:
    """One frozen step in words, e.g. "SMS to those on call"."""
    if step is None:
        return ""
    audience = AUDIENCE_LABELS.get(step.audience, step.audience)
    if step.audience == "managers":
        return audience.capitalize()
    channel = CHANNEL_LABELS.get(step.channel, step.channel)
    return f"{channel} to {audience}"


STOPPED = {
    "filled": "every place is filled",
    "exhausted": "the last step's wait ended with places still open",
    "stood_down": "the incident was stood down",
    "closed": "the incident was closed",
}


@dataclass(frozen=True)
class Progress:
    number: int  # 1-based; 0 before the first step fires
    total: int
    current: str
    following: str
    # Why the escalation is over ("" while calling): then there is no next step to describe.
    stopped: str = ""


def progress(steps: Sequence[FrozenStep], step_index: int, status: str = "calling") -> Progress:
    current = steps[step_index] if 0 <= step_index < len(steps) else None
    nxt = steps[step_index + 1] if step_index + 1 < len(steps) else None
    stopped = STOPPED.get(status, "")
    return Progress(
        number=step_index + 1 if current else 0,
        total=len(steps),
        current=step_label(current),
        following="" if stopped else step_label(nxt),
        stopped=stopped,
    )


# Told a human it is not filling (callouts.engine.unfilled): the board says who, when, how.

UNFILLED_WHY = {"exhausted": "Policy exhausted", "deadline": "Still short after {after} min"}
CHANNEL_WORDS = {"sms": "SMS", "voice": "call"}
SENT_WORDS = {
    "pending": "waiting to go",
    "sending": "going",
    "unknown": "not known to have gone",
    "ringing": "ringing",
    "in-progress": "answered",
    "completed": "answered",
    "busy": "busy",
    "no-answer": "not answered",
    "cancelled": "cancelled",
}


@dataclass(frozen=True)
class ToldPerson:
    callsign: str
    labels: str  # "on-call coordinator, supervisor"
    how: str  # "SMS delivered, call not answered"


@dataclass(frozen=True)
class Telling:
    at: datetime
    why: str
    missing: str
    people: tuple[ToldPerson, ...]
    gaps: str  # who could not be found ("no coordinator on call")


def _role_order(role: str):
    order = ("negotiator", "coordinator", "adviser")
    return (order.index(role) if role in order else len(order), role)


def _how(channels: Iterable[str], statuses: Mapping[str, str]) -> str:
    parts = []
    for channel in channels:
        word = CHANNEL_WORDS.get(channel, channel)
        status = statuses.get(channel)
        parts.append(f"{word} {SENT_WORDS.get(status, status)}" if status else word)
    return " and ".join(parts) if not statuses else ", ".join(parts)


def tellings(
    events: Iterable[tuple[datetime, Mapping]], statuses: Mapping[str, Mapping[str, str]]
) -> tuple[Telling, ...]:
    """The UNFILLED events (time, data) oldest first, as the board shows them.

    `statuses`: callsign -> channel -> the status of their newest such message; shown on the
    newest telling only (an older one's messages are not told apart from it).
    """
    events = list(events)
    out = []
    for number, (at, data) in enumerate(events):
        newest = number == len(events) - 1
        missing = data.get("missing", {})
        out.append(
            Telling(
                at=at,
                why="; ".join(
                    UNFILLED_WHY.get(r, r).format(after=data.get("after", "?"))
                    for r in data.get("reasons", ())
                ),
                missing=", ".join(
                    f"{missing[r]} {r}{'s' if missing[r] != 1 else ''}"
                    for r in sorted(missing, key=_role_order)
                ),
                people=tuple(
                    ToldPerson(
                        callsign=t.get("callsign", ""),
                        labels=t.get("as", ""),
                        how=_how(
                            data.get("channels", ()),
                            statuses.get(t.get("callsign", ""), {}) if newest else {},
                        ),
                    )
                    for t in data.get("told", ())
                ),
                gaps=data.get("gaps", ""),
            )
        )
    return tuple(out)
