"""An inbound SMS taken in: once by the webhook, or from the spool while the database is down.

The webhook only inserts the Message (its provider_sid is unique, so the same
MessageSid delivered twice is taken in once), due at once, and answers Twilio:
a few milliseconds however many replies arrive together. Understanding, recording
and answering it happen later, in the reply task (callouts.engine.inbound).

When the database is down (or no connection comes within the pool's timeout), the
webhook keeps the SMS in the spool on its own disk (callouts.messaging.spool) and
answers Twilio as usual. The spool is taken in as soon as the database answers
again, oldest first and each message once: by the next webhook request, before its
own message; by a thread of the web process that spooled, every SPOOL_RETRY_SECONDS
until the spool is empty; and by the escalator's clock (config/jobs.py), when it
runs on the same machine. A spooled message keeps the time it reached the webhook
(created_at and status_at).

Order: handling goes by pk per phone, so on one server a spooled reply always gets
a lower pk than any reply taken in after it (a request takes in the spool, under
its lock, before inserting its own message, and spools its own message too while
the spool cannot be emptied). Across web servers that is not guaranteed: a reply
spooled on one server and taken in after a later reply from the same phone reached
another server is handled after it.
"""

import contextlib
import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime

import psycopg
from django.conf import settings
from django.db import IntegrityError, InterfaceError, OperationalError, connection, transaction
from django.utils import timezone

from callouts.messaging import spool
from callouts.models import Channel, Message
from config import wakeup

log = logging.getLogger(__name__)
S = Message.Status
# The database is down, restarting, or no pooled connection came in time (PoolTimeout
# is a psycopg.OperationalError; Django wraps most of these in its own classes).
DATABASE_DOWN = (OperationalError, InterfaceError, psycopg.OperationalError, psycopg.InterfaceError)
# Spooled messages taken in per hold of the spool's lock: a webhook request waiting
# for the lock, then taking in a batch itself, stays well inside Twilio's 15 s.
SPOOL_BATCH = 200

TAKEN, DUPLICATE, SPOOLED = "taken", "duplicate", "spooled"


def take_in_sms(sid: str, from_number: str, to_number: str, body: str) -> str:
    """The SMS webhook's part: store the SMS, or spool it while the database is down.

    TAKEN, DUPLICATE (this MessageSid was taken in before) or SPOOLED.
    """
    received_at = timezone.now()
    if time.monotonic() < _database_down_until:
        # It was down a moment ago: spool at once rather than make every request of an
        # outage wait out the pool's timeout (gunicorn's threads would queue past Twilio's
        # 15 s). The spool's own retry takes everything in once it answers again.
        return _spool(sid, from_number, to_number, body, received_at)
    if spool.may_hold_messages():
        # Messages spooled earlier go in first, so that replies keep their order. If another
        # request or the retry thread is taking them in (it may be waiting out the pool's
        # timeout), this one joins the spool behind them rather than queue on the lock.
        try:
            drained = take_in_spool(wait=False)
        except Exception:
            # This message must not be lost to a fault in the spool's folder.
            log.exception("taking in the spool failed")
            drained = Drained()
        if drained.database_down:
            _note_database_down()
        if drained.database_down or drained.left or drained.busy:
            return _spool(sid, from_number, to_number, body, received_at)
    try:
        new = receive_sms(sid, from_number, to_number, body)
    except DATABASE_DOWN as error:
        log.warning("database unavailable (%s)", error)
        _note_database_down()
        return _spool(sid, from_number, to_number, body, received_at)
    return TAKEN if new else DUPLICATE


# Until when (time.monotonic()) this process goes straight to the spool.
_database_down_until = 0.0


def _note_database_down():
    global _database_down_until
    pause = getattr(settings, "SPOOL_DIRECT_SECONDS", 2)
    _database_down_until = time.monotonic() + pause


def _spool(sid, from_number, to_number, body, received_at) -> str:
    path = spool.keep(sid, from_number, to_number, body, received_at)
    log.warning("SMS %s kept in the spool: %s", sid, path)
    _retry_spool_soon()
    return SPOOLED


def receive_sms(
    sid: str, from_number: str, to_number: str, body: str, received_at: datetime | None = None
) -> bool:
    """Take in one SMS, due for handling at once; False when this MessageSid was taken in before.

    `received_at`: when the webhook got it, for one taken in from the spool.
    """
    now = timezone.now()
    fields = {
        "direction": Message.Direction.IN,
        "channel": Channel.SMS,
        "purpose": Message.Purpose.INBOUND,
        "to_number": to_number[:20],
        "from_number": from_number[:20],
        "body": body[:1600],
        "provider_sid": sid or None,
        "status": S.RECEIVED,
        "status_at": received_at or now,
        "next_attempt_at": now,
    }
    try:
        _insert(created_at=received_at, **fields)
    except IntegrityError:
        return False  # a duplicate MessageSid
    # Wake the clock (PostgreSQL NOTIFY) rather than wait for its next tick. Its own
    # statement, not the insert's: PostgreSQL commits NOTIFYs one at a time, database-wide,
    # so a NOTIFY in the insert's transaction would queue every other webhook's insert
    # behind this one's WAL flush; on its own it writes no WAL and commits at once.
    wakeup.notify(wakeup.REPLIES, at_most_every=wakeup.coalesce())
    return True


@dataclass
class Drained:
    taken: int = 0
    duplicates: int = 0
    rejected: int = 0
    left: bool = False  # messages still waiting (the database went, or more than a batch)
    database_down: bool = False
    busy: bool = False  # another process holds the spool's lock


def take_in_spool(wait: bool = False) -> Drained:
    """Take the spooled SMS in, oldest first, each once; a clock job (config/jobs.py).

    A file is removed only after its insert committed. A file that is not an SMS, or
    whose insert fails for another reason than the database being down, is set aside
    (spool/rejected/) and logged, so that it holds up nothing behind it.
    """
    drained = Drained()
    if not spool.may_hold_messages():
        return drained
    with spool.locked(wait) as held:
        if not held:
            drained.busy = True
            return drained
        paths = spool.pending()
        for index, path in enumerate(paths[:SPOOL_BATCH]):
            try:
                item = spool.read(path)
            except FileNotFoundError:
                continue
            except ValueError:
                log.error("spooled file %s is not an SMS: set aside", path.name)
                spool.reject(path)
                drained.rejected += 1
                continue
            try:
                new = receive_sms(
                    item.sid, item.from_number, item.to_number, item.body, item.received_at
                )
            except DATABASE_DOWN as error:
                # Once per outage at WARNING; a retry every second need not repeat it.
                (log.info if _spool_blocked.is_set() else log.warning)(
                    "database unavailable (%s): %d SMS stay in the spool", error, len(paths) - index
                )
                _spool_blocked.set()
                drained.database_down = drained.left = True
                return drained
            except Exception:
                log.exception("spooled SMS %s could not be taken in: set aside", path.name)
                spool.reject(path)
                drained.rejected += 1
                continue
            spool.remove(path)
            if new:
                drained.taken += 1
            else:
                drained.duplicates += 1
        drained.left = len(paths) > SPOOL_BATCH
    if drained.taken or drained.duplicates:
        (log.warning if _spool_blocked.is_set() else log.info)(
            "took in %d spooled SMS (%d duplicates dropped)", drained.taken, drained.duplicates
        )
        _spool_blocked.clear()
    return drained


# Set while taking in the spool fails for the database (this process's view).
_spool_blocked = threading.Event()


_retrying = threading.Lock()
_retry_running = False


def _retry_spool_soon() -> None:
    """Have a thread of this process take the spool in once the database is back.

    The escalator may run on another machine, and the next webhook request may be
    a long time coming: the last reply an incident needs may be the one spooled.
    """
    global _retry_running
    every = settings.SPOOL_RETRY_SECONDS
    if every <= 0:
        return
    with _retrying:
        if _retry_running:
            return
        _retry_running = True
    threading.Thread(
        target=_retry_until_empty, args=(every,), name="standby-spool", daemon=True
    ).start()


def _retry_until_empty(every: float) -> None:
    global _retry_running
    while True:
        time.sleep(every)
        try:
            drained = take_in_spool()
        except Exception:
            log.exception("taking in the spool failed; trying again")
            continue
        finally:
            with contextlib.suppress(Exception):
                connection.close()  # this thread's connection, back to the pool
        if drained.left or drained.busy:
            continue
        with _retrying:
            # A message spooled since the listing keeps this thread going.
            if not spool.pending():
                _retry_running = False
                return


def _insert(created_at: datetime | None = None, **fields) -> None:
    """One INSERT, in autocommit; IntegrityError when this MessageSid was taken in before
    (provider_sid is unique).

    `created_at`: when the webhook got it, for a message from the spool (auto_now_add
    says now, so it is set by a second statement, in the same transaction). Inside
    someone else's transaction, a savepoint keeps a failure from spoiling that transaction.
    """
    if created_at is None and not connection.in_atomic_block:
        Message.objects.create(**fields)
        return
    with transaction.atomic():
        message = Message.objects.create(**fields)
        if created_at is not None:
            Message.objects.filter(pk=message.pk).update(created_at=created_at)
