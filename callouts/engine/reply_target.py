"""Which callout a reply is about: a pure function of the person's callouts and the reply.

engine/inbound.py loads their callouts to live incidents (and, only when those do not
decide it, their latest callouts of any incident), asks `choose`, and records the answer
on the callout chosen or asks the question chosen. No Django import: the rules are
table-tested directly (tests/callouts/test_reply_target.py).

Rules:
- a reply naming an incident ("Y TANGO-27") is about that incident's callout: one of
  their live ones, else one of their latest EARLIER (stood down or closed, answered "not
  needed"); a reference of none of theirs is answered with their live incidents' references;
- a reply naming none is about their one live callout; with several, they are asked which;
- with none live it is about their latest callout (answered "not needed"), else about
  nothing: they have never been called out.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

# How many of their latest callouts a reference is looked for in, beyond the live ones.
EARLIER = 20


@dataclass(frozen=True)
class Asked:
    """One of the person's callouts: its id, its incident's reference as shown, and the
    reference's key (callouts.messaging.replies.reference_key)."""

    callout_id: int
    reference: str
    key: str


class Target(StrEnum):
    CALLOUT = "callout"  # about callout_id
    WHICH_INCIDENT = "which_incident"  # several live: ask which (texts.which_incident_sms)
    UNKNOWN_REFERENCE = "unknown_reference"  # texts.unknown_reference_sms
    NO_CALLOUT = "no_callout"  # never called out (texts.NO_CALLOUT)


@dataclass(frozen=True)
class Choice:
    target: Target
    callout_id: int | None = None
    # Their live incidents' references, for the question back.
    references: tuple[str, ...] = ()


def earlier_wanted(live: Sequence[Asked], reference: str) -> int:
    """How many of their latest callouts (of any incident, newest first) `choose` needs:
    0 when their live callouts decide it, so that nothing more is read."""
    if reference:
        return 0 if any(c.key == reference for c in live) else EARLIER
    return 0 if live else 1


def choose(live: Sequence[Asked], reference: str, earlier: Sequence[Asked] = ()) -> Choice:
    """`live`: their callouts to live incidents, oldest first; `reference`: the key of the
    reference the reply names ("" for none); `earlier`: their latest callouts, newest first,
    as many as earlier_wanted says."""
    references = tuple(c.reference for c in live)
    if reference:
        matching = [c for c in live if c.key == reference]
        if not matching:
            matching = [c for c in earlier if c.key == reference]
        if len(matching) == 1:
            return Choice(Target.CALLOUT, matching[0].callout_id)
        return Choice(Target.UNKNOWN_REFERENCE, references=references)
    if len(live) == 1:
        return Choice(Target.CALLOUT, live[0].callout_id)
    if live:
        return Choice(Target.WHICH_INCIDENT, references=references)
    if earlier:
        # Their incident has been stood down or closed: answered with "not needed".
        return Choice(Target.CALLOUT, earlier[0].callout_id)
    return Choice(Target.NO_CALLOUT)
