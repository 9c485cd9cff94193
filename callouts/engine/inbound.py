"""An inbound SMS: taken in once by the webhook, then understood, recorded and answered.

The webhook only inserts the Message (its provider_sid is unique, so the same
MessageSid delivered twice is taken in once), due at once, and answers Twilio:
a few milliseconds however many replies arrive together. The escalator clock,
which looks every quarter second, hands due replies to the queue in batches;
there the slow part happens (the incident's row lock, the counts, the
stand-downs). The answer goes back as an SMS of its own, saved before it is
sent like every other. A handled message is marked HANDLED in the same
transaction as its effects, so a task run twice, or killed halfway, acts once;
one whose task is lost falls due again after the grace.

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
import functools
import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg
from django.conf import settings
from django.db import IntegrityError, InterfaceError, OperationalError, connection, transaction
from django.utils import timezone

from cadre.models import Negotiator
from callouts import events, locking, rows
from callouts.engine import answers
from callouts.messaging import outbox, replies, sending, spool, texts
from callouts.models import Callout, Channel, Incident, Message
from config import wakeup

log = logging.getLogger(__name__)
S = Message.Status
IN = Message.Direction.IN
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
        if not _insert(created_at=received_at, **fields):
            return False  # a duplicate MessageSid
    except IntegrityError:
        return False
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


def _insert(created_at: datetime | None = None, **fields) -> bool:
    """One statement in autocommit: INSERT ... ON CONFLICT (provider_sid) DO NOTHING;
    False when this MessageSid was taken in before.

    The statement is made once from the model (its columns, in order), and so are the
    values of the columns an inbound SMS leaves at their defaults; each SMS converts only
    its own values, as the ORM would (each field's conversion for this database):
    compiling the ORM's insert for every SMS was about a seventh of the webhook's CPU.
    `created_at`: when the webhook got it, for a message from the spool (auto_now_add
    would say now). Inside someone else's transaction, a savepoint keeps a failure from
    spoiling that transaction.
    """
    sql, columns, constants = _insert_sql(connection.vendor)
    now = timezone.now()
    values = []
    for field in columns:
        name = field.attname
        if name in fields:
            value = fields[name]
        elif name in constants:
            values.append(constants[name])
            continue
        elif name == "created_at" and created_at is not None:
            value = created_at
        elif _stamped(field):
            value = now
        else:
            value = field.get_default()  # a callable default: anew for each message
        values.append(field.get_db_prep_save(value, connection))
    savepoint = transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext()
    with savepoint, connection.cursor() as cursor:
        cursor.execute(sql, values)
        return cursor.fetchone() is not None


def _stamped(field) -> bool:
    return getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)


@functools.cache
def _insert_sql(vendor: str) -> tuple[str, list, dict]:
    """Message's INSERT for this database (`vendor`: the cache's key), its fields, and the
    converted value of each field whose default is a constant (Model.__init__'s default)."""
    sql, columns = rows.insert_statement(Message, 1, vendor, skip_conflict_on="provider_sid")
    constants = {
        field.attname: field.get_db_prep_save(field.get_default(), connection)
        for field in columns
        if not _stamped(field) and not (field.has_default() and callable(field.default))
    }
    return sql, columns, constants


def receive_keypress(call, digit: str, kind: str) -> answers.Outcome:
    """A key pressed during a callout call: kept as an inbound message, then recorded."""
    with transaction.atomic():
        keyed = Message.objects.create(
            direction=Message.Direction.IN,
            channel=Channel.VOICE,
            purpose=Message.Purpose.INBOUND,
            incident=call.incident,
            callout=call.callout,
            negotiator=call.negotiator,
            from_number=call.to_number,
            body=f"Pressed {digit}",
            status=S.RECEIVED,
        )
        events.log(
            call.incident_id,
            events.K.KEY_PRESSED,
            at=keyed.created_at,
            negotiator=call.negotiator_id,
            channel=Channel.VOICE,
            key=digit,
            understood=kind,
        )
        return answers.record(call.callout_id, kind, None, Channel.VOICE, keyed)


def reply_chunk() -> int:
    """Replies per task (and per pull): several workers share a burst, each task pays its
    overhead once."""
    return settings.CALLOUTS_REPLY_CHUNK


def takeover_after() -> timedelta:
    """A reply handed to a task that has not started it this long after (its task waits in
    the queue behind busy workers) may be taken by a reply task that is pulling."""
    return timedelta(milliseconds=settings.CALLOUTS_REPLY_TAKEOVER_MS)


def claim_replies(now, limit: int, stale: bool = False) -> list[int]:
    """Up to `limit` inbound SMS due for handling, oldest first, claimed for the grace.

    With `stale` (a reply task pulling more), also replies claimed more than
    takeover_after() ago
    and not handled yet: a task of the clock's still waiting for a worker. Handling is
    idempotent and ordered per phone (`handle`), so a reply claimed twice is harmless;
    if its task is lost it falls due again after the grace.
    """
    if limit <= 0:
        return []
    grace = outbox.dispatch_grace()
    due = now + max(grace - takeover_after(), timedelta(0)) if stale else now
    with transaction.atomic():
        # Two pulling tasks take different replies (SQLite: one writer at a time anyway).
        ids = list(
            _unhandled()
            .select_for_update(no_key=True, skip_locked=True)
            .filter(next_attempt_at__lte=due)
            .order_by("pk")
            .values_list("pk", flat=True)[:limit]
        )
        if ids:
            Message.objects.filter(pk__in=ids).update(next_attempt_at=now + grace)
    return ids


def replies_waiting(since) -> bool:
    """Whether a reply due since then is still waiting for a task to take it."""
    return _unhandled().filter(next_attempt_at__lte=since).exists()


def replies_in_hand(now) -> int:
    """Replies claimed for a task and not yet handled (queued or being handled)."""
    return _unhandled().filter(next_attempt_at__gt=now).count()


def _unhandled():
    """Inbound messages taken in and not yet handled."""
    return Message.objects.filter(direction=IN, status=S.RECEIVED)


# A reply task goes on taking replies still waiting after its own, a chunk at a time, for
# up to this many seconds (well inside the queue's timeout): under a storm the workers
# feed themselves and no reply waits for a queue hop or a clock tick.
PULL_SECONDS = 5.0


def handle_many(message_ids: list[int], pull: bool = True) -> int:
    """The reply task: understand, record and answer these SMS (and any earlier from the same
    phones); then, with `pull`, more that are waiting, until none are or PULL_SECONDS pass.

    Each reply is handled in a transaction of its own, its answer saved in it; once it
    commits, the answer is claimed and handed to the sending threads at once, and the
    task moves on to the next reply while it is in flight: the answers of a batch go
    out side by side, each outcome saved as it returns. A task run twice, or killed
    halfway, answers nothing twice: a handled reply is HANDLED in the transaction of its
    answer, and an answer is claimed before it is sent.
    """
    lease = sending.lease()
    if connection.in_atomic_block:
        # Inside someone else's transaction (a test): send once it commits.
        with outbox.collecting(lease) as collected:
            handled = sum(handle(pk) for pk in message_ids)
        transaction.on_commit(lambda: sending.send_collected(collected))
        return handled
    batch = sending.Batch()
    handled = 0
    deadline = time.monotonic() + PULL_SECONDS
    ids = sorted(message_ids)
    while ids:
        for pk in ids:
            collected, count = locking.retrying(_handle_collecting, pk, lease)
            handled += count
            batch.add_collected(collected)
            batch.record_ready()
        if not pull or time.monotonic() > deadline:
            break
        ids = claim_replies(timezone.now(), reply_chunk(), stale=True)
    batch.finish()
    return handled


def _handle_collecting(message_id: int, lease) -> tuple[outbox.Collected, int]:
    """`handle`, collecting what it queues; run again as a whole on a lock conflict (a reply
    to one incident and another's stand-down), with nothing kept from the attempt undone."""
    with outbox.collecting(lease) as collected:
        return collected, handle(message_id)


# The SMS not yet handled from the phone that sent this one, up to it, oldest first.
UNHANDLED_FROM_SAME_PHONE = (
    "direction = %s AND channel = %s AND status = %s AND id <= %s AND from_number = "
    f"(SELECT sent.from_number FROM {Message._meta.db_table} sent "
    "WHERE sent.id = %s AND sent.direction = %s) "
    "ORDER BY id"
)


def handle(message_id: int) -> int:
    """Handle this message and every earlier unhandled one from the same number, in order.

    Replies from one phone must take effect in the order they were sent ("Y"
    then "ETA 10"), whichever worker picks which up first: the rows are locked
    and handled oldest first, and a second worker waits, then finds them done.
    Their events go into the log in one insert at the end.
    """
    with transaction.atomic(), events.gathered():
        pending = rows.select(
            Message,
            UNHANDLED_FROM_SAME_PHONE,
            [IN, Channel.SMS, S.RECEIVED, message_id, message_id, IN],
            lock=True,
        )
        for message in pending:
            _handle(message)
        return len(pending)


def _handle(inbound):
    person, live = _sender(inbound.from_number)
    if person is None:
        answer, incident = texts.UNKNOWN_NUMBER, None
    else:
        answer, incident = _understand(person, live, inbound, replies.parse(inbound.body))
    inbound.negotiator = person
    inbound.incident = incident
    inbound.status = S.HANDLED
    inbound.next_attempt_at = None
    rows.update(inbound, ("negotiator", "incident", "status", "next_attempt_at"))
    if answer:
        outbox.answer(
            channel=Channel.SMS,
            purpose=Message.Purpose.REPLY,
            negotiator=person,
            incident=incident,
            to_number=inbound.from_number,
            body=answer,
        )
    return answer


def _sender(number):
    """Who sent it, and their callouts to live incidents, oldest first: one statement.

    Each callout's incident carries only its id and reference (what the answer may need;
    the rest is read under the incident's lock when the reply is recorded, and any other
    field read from it is fetched then).
    """
    person_shape = rows.shape(Negotiator, connection.vendor)
    callout_shape = rows.shape(Callout, connection.vendor)
    split = len(person_shape)
    with connection.cursor() as cursor:
        cursor.execute(_sender_statement(connection.vendor), [*Incident.LIVE, number])
        found = cursor.fetchall()
    if not found:
        return None, []
    person = person_shape.make(found[0][:split])  # a mobile is one person's (unique)
    live = []
    for row in found:
        callout = callout_shape.make(row[split:-1])
        if callout is not None:
            callout.negotiator = person
            callout.incident = Incident.from_db(
                connection.alias, ["id", "reference"], [callout.incident_id, row[-1]]
            )
            live.append(callout)
    return person, live


@functools.cache
def _sender_statement(vendor: str) -> str:
    quote = connection.ops.quote_name
    people, callouts = Negotiator._meta.db_table, Callout._meta.db_table
    incidents = Incident._meta.db_table
    live = ", ".join(["%s"] * len(Incident.LIVE))
    return (
        f"SELECT {rows.shape(Negotiator, vendor).columns('n')}, "
        f"{rows.shape(Callout, vendor).columns('c')}, i.{quote('reference')} "
        f"FROM {quote(people)} n "
        f"LEFT JOIN {quote(callouts)} c ON c.negotiator_id = n.id AND c.incident_id IN "
        f"(SELECT id FROM {quote(incidents)} WHERE status IN ({live})) "
        f"LEFT JOIN {quote(incidents)} i ON i.id = c.incident_id "
        "WHERE n.mobile = %s "
        "ORDER BY c.asked_at, c.id"
    )


def body_is_yes(body: str) -> bool:
    return "".join(ch for ch in body.upper() if ch.isalnum()) == "YES"


KEYWORDS = {replies.OPT_OUT: "stop", replies.OPT_IN: "start", replies.HELP: "help"}


def _update(callouts, **changes):
    if callouts:
        Callout.objects.filter(pk__in=[c.pk for c in callouts]).update(**changes)


def _heard(inbound, person, reply, incident_ids):
    """The reply, as sent and as understood, in the log of each incident it is about."""
    events.insert(
        events.build(
            incident_id,
            events.K.REPLY_RECEIVED,
            at=inbound.created_at,
            negotiator=person,
            channel=Channel.SMS,
            text=events.scrub(inbound.body, 160),
            understood=reply.kind,
            eta=reply.eta_minutes,
            reference=reply.reference,
        )
        for incident_id in incident_ids
    )


def _understand(person, live, inbound, reply):
    everywhere = [c.incident_id for c in live]
    if reply.kind in KEYWORDS:
        # Twilio blocks (or unblocks) the number itself on STOP and START; we record the
        # keyword on their live callouts (the board shows it), and stop trying SMS on STOP.
        _heard(inbound, person, reply, everywhere)
        changes = {"keyword": KEYWORDS[reply.kind]}
        if reply.kind != replies.HELP:
            changes["sms_unreachable"] = reply.kind == replies.OPT_OUT
        _update(live, **changes)
        return (texts.HELP if reply.kind == replies.HELP else None), None
    if reply.kind == replies.ACCEPT and body_is_yes(inbound.body):
        # YES is also one of Twilio's opt-in words: the number can take SMS again. Only
        # callouts that say otherwise are touched (no lock taken on the others before
        # the incident's, see callouts.locking).
        _update([c for c in live if c.sms_unreachable], sms_unreachable=False)
    if reply.kind == replies.UNKNOWN:
        _heard(inbound, person, reply, everywhere)
        return texts.NOT_UNDERSTOOD, None
    callout, answer = _which_callout(person, live, reply)
    if callout is None:
        _heard(inbound, person, reply, everywhere)
        return answer, None
    _heard(inbound, person, reply, [callout.incident_id])
    outcome = answers.record(
        callout.pk,
        reply.kind,
        reply.eta_minutes,
        Channel.SMS,
        inbound,
        callout.incident_id,
        negotiator=person,
    )
    return outcome.text, callout.incident


def _which_callout(person, live, reply):
    if reply.reference:
        key = reply.reference
        matching = [c for c in live if replies.reference_key(c.incident.reference) == key]
        if not matching:
            recent = (
                Callout.objects.filter(negotiator=person)
                .select_related("incident")
                .order_by("-asked_at")[:20]
            )
            matching = [
                c for c in recent if replies.reference_key(c.incident.reference) == reply.reference
            ]
        if len(matching) == 1:
            return matching[0], None
        return None, texts.unknown_reference_sms([c.incident.reference for c in live])
    if len(live) == 1:
        return live[0], None
    if len(live) > 1:
        return None, texts.which_incident_sms([c.incident.reference for c in live])
    latest = (
        Callout.objects.filter(negotiator=person).select_related("incident").order_by("-asked_at")
    ).first()
    if latest is not None:
        # Their incident has been stood down or closed: answered with "not needed".
        return latest, None
    return None, texts.NO_CALLOUT
