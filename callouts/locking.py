"""Row locks of callouts: one order everywhere, and a transaction that meets a conflict runs again.

THE ORDER. A transaction that locks (or updates) rows of an incident takes them in this order:

    1. the Incident row                          (`incident`)
    2. its Callouts, several at once by pk       (`in_order`)
    3. its outgoing Messages, several by pk      (`in_order`)

A path may start lower (a status callback locks no incident: its callout, then its message)
but never goes back up: holding a callout it locks no incident, holding a message no
callout. An inbound SMS being handled is locked before anything (only the reply task locks
it). A person's Negotiator row (texts stopped or back on, by the reply task) comes after
their callouts. Every lock is FOR NO KEY UPDATE, the mode an UPDATE takes: a foreign-key check (an
Event, Message, Response or Deployment inserted for the incident or callout) takes KEY
SHARE, which never waits for it, so inserting never counts as taking a lock. Nothing here
takes FOR UPDATE (it would block those inserts and put them in the circle).

Standing down takes the incident, then its callouts by pk, then its pending messages by pk;
a status callback its callout, then its message: neither can wait for the other in a circle.

A conflict PostgreSQL still reports (a deadlock across incidents, a serialization failure, a
lock timeout) rolls the transaction back; `retrying` runs the whole of it again.
"""

import functools
import logging
import random
import time

from django.db import OperationalError, connection

log = logging.getLogger(__name__)

# SQLSTATEs of a transaction that lost a lock conflict and may simply run again: deadlock
# detected, serialization failure, lock not available (lock_timeout, NOWAIT).
CONFLICTS = {"40P01", "40001", "55P03"}
ATTEMPTS = 5


def incident(pk):
    """The Incident row, locked (FOR NO KEY UPDATE); None when there is no such incident.

    First of the order: take it before any callout or message of the incident.
    """
    from callouts.models import Incident

    return Incident.objects.select_for_update(no_key=True).filter(pk=pk).first()


def in_order(queryset) -> list[int]:
    """Lock these rows one model at a time in pk order (FOR NO KEY UPDATE); their pks.

    For several callouts, or several messages, before a bulk update(): an UPDATE locks rows
    in whatever order its plan reads them, and two of those can wait for each other.
    """
    return list(
        queryset.select_for_update(no_key=True, of=("self",))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def is_conflict(error: BaseException) -> bool:
    """A lock conflict the database resolved by failing this transaction (run it again)."""
    cause = error.__cause__ or error.__context__
    return isinstance(error, OperationalError) and getattr(cause, "sqlstate", None) in CONFLICTS


def retrying(function, *args, attempts: int = ATTEMPTS, **kwargs):
    """Run `function` (which opens its own transaction) again when it loses a lock conflict.

    Up to `attempts` times, a few milliseconds apart (randomised, so that two that met do
    not meet again); the last conflict is raised. Inside someone else's transaction it
    runs once: only the outermost transaction can be run again.
    """
    if connection.in_atomic_block:
        return function(*args, **kwargs)
    for attempt in range(1, attempts + 1):
        try:
            return function(*args, **kwargs)
        except OperationalError as error:
            if not is_conflict(error) or attempt == attempts:
                raise
            log.warning(
                "%s lost a lock conflict (attempt %d of %d): %s",
                getattr(function, "__qualname__", function),
                attempt,
                attempts,
                str(error).splitlines()[0],
            )
            time.sleep(random.uniform(0.005, 0.02) * attempt)
    raise AssertionError("unreachable")


def retried(function):
    """`retrying` as a decorator, for a function that is one whole transaction."""

    @functools.wraps(function)
    def wrapped(*args, **kwargs):
        return retrying(function, *args, **kwargs)

    return wrapped
