"""The incident's log: append-only events, written by whoever makes the change, in its
transaction.

At the bottom of the house (it needs only the models), so services, the engine and
messaging all write through it. Hot paths build events unsaved and insert them in one
statement (`insert`). Never a phone number: people are named by their negotiator record.
"""

import contextlib
import threading

from django.utils import timezone

from cadre import phones
from callouts import eventdata, rows
from callouts.models import Event, Message

K = Event.Kind


def scrub(text: str, limit: int = 300) -> str:
    """Text for the log with phone numbers taken out (a provider's error names the number it
    refused; a reply may give one), by the one scrubber the exports use too."""
    return phones.scrub(str(text or ""))[:limit]


def build(incident, kind, *, at=None, actor=None, negotiator=None, role="", channel="", **data):
    """An unsaved event; `incident` and `negotiator` may be instances or ids; `data` as
    callouts.eventdata names it for the kind."""
    return Event(
        incident_id=getattr(incident, "pk", incident),
        kind=kind,
        at=at or timezone.now(),
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        negotiator_id=getattr(negotiator, "pk", negotiator),
        role=role or "",
        channel=channel or "",
        data=eventdata.build(kind, data),
    )


def log(incident, kind, **fields) -> Event:
    event = build(incident, kind, **fields)
    if getattr(_gathering, "events", None) is not None:
        _gathering.events.append(event)
    else:
        event.save()
    return event


def insert(events) -> list[Event]:
    """Many events in one statement (a step's 60 messages are one insert, not 60)."""
    events = [e for e in events if e is not None and e.incident_id]
    if getattr(_gathering, "events", None) is not None:
        _gathering.events.extend(events)
        return events
    return rows.insert(events)


_gathering = threading.local()


@contextlib.contextmanager
def gathered():
    """Events logged inside are inserted together, in one statement, as the block ends.

    For a hot path that is one transaction: a reply logs what was said, what it did and
    the answer queued, three inserts that become one. The block must end inside the
    transaction that made the changes; on an error nothing is inserted (the
    transaction is undone anyway). Nested blocks leave it to the outermost.
    """
    if getattr(_gathering, "events", None) is not None:
        yield
        return
    _gathering.events = gathered_events = []
    try:
        yield
        rows.insert(gathered_events)
    finally:
        _gathering.events = None


def for_message(message, kind, at=None, **data) -> Event | None:
    """An event about one of an incident's messages (None for messages of no incident)."""
    if not message.incident_id:
        return None
    return build(
        message.incident_id,
        kind,
        at=at,
        negotiator=message.negotiator_id,
        channel=message.channel,
        purpose=message.purpose,
        step=message.step + 1 if message.step is not None else None,
        **data,
    )


def queued(messages) -> list[Event]:
    """Messages just saved for sending (the caller has inserted them)."""
    return insert(
        for_message(m, K.MESSAGE_QUEUED)
        for m in messages
        if m is not None and m.direction == Message.Direction.OUT
    )
