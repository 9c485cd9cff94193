"""An inbound SMS taken in (callouts.engine.intake): understood, recorded and answered.

The escalator clock, which looks every quarter second, hands due replies to the queue
in batches; there the slow part happens (the incident's row lock, the counts, the
stand-downs). The answer goes back as an SMS of its own, saved before it is sent like
every other. A handled message is marked HANDLED in the same transaction as its
effects, so a task run twice, or killed halfway, acts once; one whose task is lost
falls due again after the grace.

Which callout a reply is about is decided by engine.reply_target (pure), what it
changes by engine.answering (pure, saved by engine.answers). A keypress on a callout
call is recorded here too.
"""

import functools
import time
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from cadre import services as cadre_services
from cadre.models import Negotiator
from callouts import events, locking, rows
from callouts.engine import answers, opt_out, reply_target
from callouts.messaging import outbox, replies, sending, texts
from callouts.models import Callout, Channel, Incident, Message

S = Message.Status
IN = Message.Direction.IN


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


def _update(callouts, **changes):
    if callouts and changes:
        Callout.objects.filter(pk__in=[c.pk for c in callouts]).update(**changes)


def _keyword(person, live, inbound, reply) -> opt_out.Change:
    """Apply what a carrier keyword changes (engine.opt_out decides): the person's texts
    stopped or back on (through cadre's service, by the system), the keyword and whether SMS
    reaches them on their live callouts."""
    change = opt_out.change(
        reply.kind, is_yes=body_is_yes(inbound.body), stopped=person.texts_stopped
    )
    fields = {}
    if change.keyword:
        fields["keyword"] = change.keyword
    if change.sms_unreachable is not None:
        fields["sms_unreachable"] = change.sms_unreachable
    if fields:
        # Only callouts that change are touched: a YES takes no lock on the others before
        # the incident's (see callouts.locking).
        _update(
            [c for c in live if change.keyword or c.sms_unreachable != change.sms_unreachable],
            **fields,
        )
    if change.texts_stopped is not None:
        # The person's row last, below their callouts in the lock order (callouts.locking).
        at = inbound.created_at if change.texts_stopped else None
        cadre_services.record_texts_stopped(person, at, by=None)
    return change


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
    """The answer to send (None: none) and the incident the reply was about (None: none)."""
    change = _keyword(person, live, inbound, reply)
    if change.only_keyword:
        _heard(inbound, person, reply, [c.incident_id for c in live])
        return (texts.HELP if change.send_help else None), None
    answer, incident = _answer(person, live, inbound, reply)
    # Texts stopped: the provider would refuse the answer. Their answer is recorded all the
    # same, and shown on the board.
    return (answer if change.may_text else None), incident


def _answer(person, live, inbound, reply):
    everywhere = [c.incident_id for c in live]
    if reply.kind == replies.UNKNOWN:
        _heard(inbound, person, reply, everywhere)
        return _not_understood(live, reply), None
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


def _not_understood(live, reply) -> str:
    """A question back naming the words that work: for their one live callout (or the one
    the reference names), whether they have accepted it or not; with several, the reference."""
    about = [
        c
        for c in live
        if not reply.reference or replies.reference_key(c.incident.reference) == reply.reference
    ]
    if len(about) == 1:
        callout = about[0]
        accepted = callout.state == Callout.State.ACCEPTED
        return texts.not_understood_sms(callout.incident.reference, accepted)
    if len(about) > 1:
        return texts.which_incident_sms([c.incident.reference for c in about])
    return texts.NOT_UNDERSTOOD


def _which_callout(person, live, reply):
    """The callout the reply is about, or None and the question to send back."""
    reference = reply.reference or ""
    facts = [_asked(c) for c in live]
    earlier = []
    wanted = reply_target.earlier_wanted(facts, reference)
    if wanted:
        earlier = list(
            Callout.objects.filter(negotiator=person)
            .select_related("incident")
            .order_by("-asked_at")[:wanted]
        )
    choice = reply_target.choose(facts, reference, [_asked(c) for c in earlier])
    T = reply_target.Target
    match choice.target:
        case T.CALLOUT:
            mine = {c.pk: c for c in [*earlier, *live]}
            return mine[choice.callout_id], None
        case T.WHICH_INCIDENT:
            return None, texts.which_incident_sms(list(choice.references))
        case T.UNKNOWN_REFERENCE:
            return None, texts.unknown_reference_sms(list(choice.references))
    return None, texts.NO_CALLOUT


def _asked(callout) -> reply_target.Asked:
    reference = callout.incident.reference
    return reply_target.Asked(callout.pk, reference, replies.reference_key(reference))
