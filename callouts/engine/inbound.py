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
"""

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from cadre.models import Negotiator
from callouts import events
from callouts.engine import answers
from callouts.messaging import outbox, replies, texts
from callouts.models import Callout, Channel, Incident, Message

S = Message.Status


def receive_sms(sid: str, from_number: str, to_number: str, body: str) -> bool:
    """Take in one SMS, due for handling at once; False when this MessageSid was taken in before."""
    now = timezone.now()
    try:
        _insert(
            direction=Message.Direction.IN,
            channel=Channel.SMS,
            purpose=Message.Purpose.INBOUND,
            to_number=to_number[:20],
            from_number=from_number[:20],
            body=body[:1600],
            provider_sid=sid or None,
            status=S.RECEIVED,
            status_at=now,
            next_attempt_at=now,
        )
    except IntegrityError:
        return False
    return True


def _insert(**fields) -> Message:
    """One statement in autocommit: no transaction to open and close around it.

    Inside someone else's transaction, a savepoint keeps a duplicate MessageSid
    from spoiling it.
    """
    if connection.in_atomic_block:
        with transaction.atomic():
            return Message.objects.create(**fields)
    return Message.objects.create(**fields)


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


def handle_many(message_ids: list[int]) -> int:
    """The reply task: understand, record and answer these SMS (and any earlier from the same
    phones)."""
    return sum(handle(pk) for pk in message_ids)


def handle(message_id: int) -> int:
    """Handle this message and every earlier unhandled one from the same number, in order.

    Replies from one phone must take effect in the order they were sent ("Y"
    then "ETA 10"), whichever worker picks which up first: the rows are locked
    and handled oldest first, and a second worker waits, then finds them done.
    """
    with transaction.atomic():
        number = (
            Message.objects.filter(pk=message_id, direction=Message.Direction.IN)
            .values_list("from_number", flat=True)
            .first()
        )
        if number is None:
            return 0
        pending = list(
            Message.objects.select_for_update()
            .filter(
                direction=Message.Direction.IN,
                channel=Channel.SMS,
                status=S.RECEIVED,
                from_number=number,
                pk__lte=message_id,
            )
            .order_by("pk")
        )
        for message in pending:
            _handle(message)
        return len(pending)


def _handle(inbound):
    person = Negotiator.objects.filter(mobile=inbound.from_number).first()
    if person is None:
        answer, incident = texts.UNKNOWN_NUMBER, None
    else:
        answer, incident = _understand(person, inbound, replies.parse(inbound.body))
    inbound.negotiator = person
    inbound.incident = incident
    inbound.status = S.HANDLED
    inbound.next_attempt_at = None
    inbound.save(update_fields=["negotiator", "incident", "status", "next_attempt_at"])
    if answer:
        reply = outbox.create(
            channel=Channel.SMS,
            purpose=Message.Purpose.REPLY,
            negotiator=person,
            incident=incident,
            to_number=inbound.from_number,
            body=answer,
        )
        outbox.queue([reply])
    return answer


def body_is_yes(body: str) -> bool:
    return "".join(ch for ch in body.upper() if ch.isalnum()) == "YES"


def live_callouts(person):
    return list(
        Callout.objects.filter(negotiator=person, incident__status__in=Incident.LIVE)
        .select_related("incident")
        .order_by("asked_at")
    )


KEYWORDS = {replies.OPT_OUT: "stop", replies.OPT_IN: "start", replies.HELP: "help"}


def _live(person):
    return Callout.objects.filter(negotiator=person, incident__status__in=Incident.LIVE)


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


def _understand(person, inbound, reply):
    if reply.kind in KEYWORDS:
        # Twilio blocks (or unblocks) the number itself on STOP and START; we record the
        # keyword on their live callouts (the board shows it), and stop trying SMS on STOP.
        live = _live(person)
        _heard(inbound, person, reply, list(live.values_list("incident_id", flat=True)))
        changes = {"keyword": KEYWORDS[reply.kind]}
        if reply.kind != replies.HELP:
            changes["sms_unreachable"] = reply.kind == replies.OPT_OUT
        live.update(**changes)
        return (texts.HELP if reply.kind == replies.HELP else None), None
    if reply.kind == replies.ACCEPT and body_is_yes(inbound.body):
        # YES is also one of Twilio's opt-in words: the number can take SMS again.
        _live(person).update(sms_unreachable=False)
    if reply.kind == replies.UNKNOWN:
        _heard(inbound, person, reply, _live(person).values_list("incident_id", flat=True))
        return texts.NOT_UNDERSTOOD, None
    callout, answer = _which_callout(person, reply)
    if callout is None:
        _heard(inbound, person, reply, _live(person).values_list("incident_id", flat=True))
        return answer, None
    _heard(inbound, person, reply, [callout.incident_id])
    outcome = answers.record(
        callout.pk, reply.kind, reply.eta_minutes, Channel.SMS, inbound, callout.incident_id
    )
    return outcome.text, callout.incident


def _which_callout(person, reply):
    live = live_callouts(person)
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
