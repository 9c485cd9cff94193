"""What the next escalation step sends, and to whom: a pure function of the incident and the time.

The caller loads plain data (the frozen steps, who was already asked and what
they answered, the candidates of the next step's audience) and saves what comes
back. Nothing here touches the database, so every rule is unit-tested directly.

Rules:
- only deployable people, and only for roles still missing that they can fill;
- never twice on the same step and channel (a re-run of a step skips them);
- nobody deployed on another live incident (accepted and not stood down);
- anyone who has answered (accepted, declined) or been stood down is not asked again;
- a channel marked unreachable for a person is not used for them;
- a person whose texts are stopped (they sent STOP) is reached by voice only: a step's SMS
  to them is a call instead;
- a step that reaches nobody is passed at once: waiting minutes for nobody helps no one;
- the escalation is exhausted when the last step's wait ends and a role is still short.
"""

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from callouts.frozen import FrozenStep

# Plain strings so that this module needs nothing from Django.
SMS, VOICE, BOTH = "sms", "voice", "both"
ON_CALL, FORCE, MUTUAL_AID, NAMED, UNANSWERED, MANAGERS = (
    "on_call",
    "force",
    "mutual_aid",
    "named",
    "unanswered",
    "managers",
)
ACCEPTED, DECLINED, STOOD_DOWN = "accepted", "declined", "stood_down"
# The queued task fires the first step at once; the escalator clock fires it
# itself only if the task has not run by then (a queue backlog, a dead worker).
FIRST_STEP_GRACE = timedelta(seconds=2)
ANSWERED = frozenset({ACCEPTED, DECLINED, STOOD_DOWN})

# When two missing roles are equally scarce, the rarer kind of role wins.
RARITY = ("adviser", "coordinator", "negotiator")


@dataclass(frozen=True)
class Candidate:
    """A person the next step's audience could reach.

    `roles` are the roles they could be asked for through this audience: the
    roles they are on call for (on-call audiences) or the roles they hold.
    """

    id: int
    roles: frozenset[str]
    deployable: bool = True
    busy: bool = False
    # They sent STOP: SMS cannot reach them, a call can.
    texts_stopped: bool = False


@dataclass(frozen=True)
class Asked:
    """Someone already called out for this incident."""

    person_id: int
    roles: frozenset[str]
    state: str = "asked"
    role: str = ""
    # (step, channel) they were messaged on in this round of the escalation.
    sent: frozenset[tuple[int, str]] = frozenset()
    sms_unreachable: bool = False
    voice_unreachable: bool = False

    def unreachable_on(self, channel: str) -> bool:
        return self.sms_unreachable if channel == SMS else self.voice_unreachable


@dataclass(frozen=True)
class Send:
    person_id: int
    channels: tuple[str, ...]
    roles: tuple[str, ...]


class Action(StrEnum):
    """What the escalation does next."""

    IDLE = "idle"  # not calling: nothing to do
    FILLED = "filled"  # every place taken: stand the rest down
    WAIT = "wait"  # the current step's wait has not ended
    EXHAUSTED = "exhausted"  # the last step's wait ended with a place still open
    FIRE = "fire"  # send the next step


@dataclass(frozen=True)
class Decision:
    action: Action
    step_index: int | None = None
    sends: tuple[Send, ...] = ()
    alerts: tuple[int, ...] = ()
    next_at: datetime | None = None
    missing: Mapping[str, int] = field(default_factory=dict)


def missing_roles(needs: Mapping[str, int], asked: Iterable[Asked]) -> dict[str, int]:
    """Places still open per role: needed minus accepted (only roles with a place open)."""
    filled = Counter(a.role for a in asked if a.state == ACCEPTED and a.role)
    return {role: n - filled[role] for role, n in needs.items() if n - filled[role] > 0}


def is_filled(missing: Mapping[str, int]) -> bool:
    """Every place taken: the one definition of filled, for a step and for an answer.

    `missing`: the places still open per role (missing_roles, or take_place's).
    """
    return not any(count > 0 for count in missing.values())


def take_place(missing: Mapping[str, int], role: str) -> dict[str, int]:
    """The places still open once someone takes one of `role`'s."""
    left = {r: n - (r == role) for r, n in missing.items()}
    return {r: n for r, n in left.items() if n > 0}


def channels_of(channel: str) -> tuple[str, ...]:
    return (SMS, VOICE) if channel == BOTH else (channel,)


def decide(
    *,
    status: str,
    needs: Mapping[str, int],
    steps: Sequence[FrozenStep],
    step_index: int,
    next_step_at: datetime | None,
    asked: Iterable[Asked],
    candidates: Iterable[Candidate],
    now: datetime,
) -> Decision:
    """The next thing to do. `candidates` are for step `step_index + 1`'s audience."""
    if status != "calling":
        return Decision(Action.IDLE)
    asked = list(asked)
    missing = missing_roles(needs, asked)
    if is_filled(missing):
        return Decision(Action.FILLED)
    if step_index >= 0 and next_step_at is not None and now < next_step_at:
        return Decision(Action.WAIT, next_at=next_step_at, missing=missing)
    index = step_index + 1
    if index >= len(steps):
        return Decision(Action.EXHAUSTED, missing=missing)
    step = steps[index]
    if step.audience == MANAGERS:
        alerts = tuple(dict.fromkeys(c.id for c in candidates))
        sends: tuple[Send, ...] = ()
    else:
        alerts = ()
        sends = plan_sends(step, index, missing, asked, candidates)
    wait = timedelta(minutes=step.wait_minutes) if sends or alerts else timedelta(0)
    return Decision(
        Action.FIRE,
        step_index=index,
        sends=sends,
        alerts=alerts,
        next_at=now + wait,
        missing=missing,
    )


def plan_sends(
    step: FrozenStep,
    index: int,
    missing: Mapping[str, int],
    asked: Iterable[Asked],
    candidates: Iterable[Candidate],
) -> tuple[Send, ...]:
    audience = step.audience
    by_person = {a.person_id: a for a in asked}
    sends = []
    seen = set()
    for person in candidates:
        if person.id in seen:
            continue
        seen.add(person.id)
        prior = by_person.get(person.id)
        if not person.deployable or person.busy:
            continue
        if prior is not None and prior.state in ANSWERED:
            continue
        if audience == UNANSWERED and prior is None:
            continue
        if audience == FORCE and prior is not None and prior.sent:
            continue
        roles = tuple(r for r in by_rarity(missing) if r in person.roles)
        if not roles:
            continue
        wanted = channels_of(step.channel)
        if person.texts_stopped:
            wanted = (VOICE,)
        channels = tuple(
            ch
            for ch in wanted
            if prior is None or ((index, ch) not in prior.sent and not prior.unreachable_on(ch))
        )
        if channels:
            sends.append(Send(person.id, channels, roles))
    return tuple(sends)


def by_rarity(roles: Iterable[str]) -> list[str]:
    return sorted(roles, key=lambda r: (RARITY.index(r) if r in RARITY else len(RARITY), r))


def choose_role(
    holds: Iterable[str], missing: Mapping[str, int], supply: Mapping[str, int]
) -> str | None:
    """The one place an acceptance fills: a missing role they hold, the scarcer when several.

    `supply` is how many people could still fill each role; fewer means scarcer.
    Ties go to the rarer kind of role (adviser, then coordinator, then negotiator).
    None when every role they hold is already filled: the acceptance is late.
    """
    open_roles = [r for r in holds if missing.get(r, 0) > 0]
    if not open_roles:
        return None
    return min(
        open_roles,
        key=lambda r: (supply.get(r, 0), RARITY.index(r) if r in RARITY else len(RARITY), r),
    )


# Telling a human that an incident is not filling: why, and whom.


class Unfilled(StrEnum):
    """Why a human is told an incident is not filling (each at most once per incident)."""

    EXHAUSTED = "exhausted"  # the policy has no step left
    DEADLINE = "deadline"  # still short at the policy's "tell a human" time


SHORT = frozenset({"calling", "exhausted"})


def tell_human(
    *,
    status: str,
    missing: Mapping[str, int],
    deadline: datetime | None,
    told: Iterable[str],
    now: datetime,
) -> tuple[Unfilled, ...]:
    """The reasons to tell a human now, none when there is nothing (new) to tell.

    `status`: the incident's (an exhausted policy is the status "exhausted"); `missing`: the
    places still open; `deadline`: when a human is told if it is still short (None: no
    deadline, or already told for it); `told`: the reasons they were told already.
    """
    if status not in SHORT or is_filled(missing):
        return ()
    told = set(told)
    reasons = []
    if status == "exhausted" and Unfilled.EXHAUSTED not in told:
        reasons.append(Unfilled.EXHAUSTED)
    if deadline is not None and now >= deadline and Unfilled.DEADLINE not in told:
        reasons.append(Unfilled.DEADLINE)
    return tuple(reasons)


@dataclass(frozen=True)
class Told:
    """Someone to tell, and why they are among those told (labels, e.g. "supervisor")."""

    person_id: int
    labels: tuple[str, ...]


ON_CALL_COORDINATOR, SUPERVISOR, RAISED_IT = "on-call coordinator", "supervisor", "raised it"


def whom_to_tell(
    *,
    on_call_coordinators: Iterable[int],
    supervisors: Iterable[int],
    raised_by: int | None = None,
    supervisor_logins: int = 0,
) -> tuple[tuple[Told, ...], str]:
    """Whom to text and call (each person once, whatever they are), and what is missing.

    `supervisors`: the people records (with a mobile) of the force's supervisors;
    `supervisor_logins`: how many supervisor logins there are, with a phone or not;
    `raised_by`: the person who raised it, when they have a record. The second value is
    "" or what was not found, for the board ("no coordinator on call").
    """
    labels: dict[int, list[str]] = {}
    for label, people in (
        (ON_CALL_COORDINATOR, on_call_coordinators),
        (SUPERVISOR, supervisors),
        (RAISED_IT, [raised_by] if raised_by is not None else []),
    ):
        for pk in people:
            if label not in labels.setdefault(pk, []):
                labels[pk].append(label)
    told = tuple(Told(pk, tuple(found)) for pk, found in labels.items())
    gaps = []
    if not any(ON_CALL_COORDINATOR in t.labels for t in told):
        gaps.append("no coordinator on call")
    if not any(SUPERVISOR in t.labels for t in told):
        gaps.append(
            "no supervisor with a phone number on record"
            if supervisor_logins
            else "no supervisor in the force"
        )
    return told, "; ".join(gaps)
