"""An inbound SMS: recorded once, understood, answered.

All in one transaction with the inbound Message row, whose provider_sid is
unique: the same MessageSid delivered twice takes effect once, and a crash
halfway leaves nothing, so Twilio's retry does the whole thing again.
"""

from django.db import IntegrityError, transaction
from django.utils import timezone

from cadre.models import Negotiator
from callouts import answers, replies, texts
from callouts.models import Callout, Channel, Incident, Message


def handle_sms(sid: str, from_number: str, to_number: str, body: str) -> str | None:
    """Take in one SMS; the answer to send back (None: say nothing)."""
    try:
        with transaction.atomic():
            return _handle(sid, from_number, to_number, body)
    except IntegrityError:
        # The same MessageSid is being (or was) handled by another request.
        return _previous_answer(sid)


def _previous_answer(sid) -> str | None:
    inbound = Message.objects.filter(provider_sid=sid).first()
    if inbound is None:
        return None
    answer = (
        Message.objects.filter(
            direction=Message.Direction.OUT,
            purpose=Message.Purpose.REPLY,
            to_number=inbound.from_number,
            created_at__gte=inbound.created_at,
        )
        .order_by("created_at", "pk")
        .first()
    )
    return answer.body if answer else None


def _handle(sid, from_number, to_number, body):
    # A repeated MessageSid fails the insert below on the unique provider_sid, and
    # handle_sms answers it as before: no look-up first on every message.
    person = Negotiator.objects.filter(mobile=from_number).first()
    inbound = Message.objects.create(
        direction=Message.Direction.IN,
        channel=Channel.SMS,
        purpose=Message.Purpose.INBOUND,
        negotiator=person,
        to_number=to_number[:20],
        from_number=from_number[:20],
        body=body[:1600],
        provider_sid=sid or None,
        status=Message.Status.RECEIVED,
        status_at=timezone.now(),
    )
    if person is None:
        answer = texts.UNKNOWN_NUMBER
    else:
        answer, incident = _understand(person, inbound, replies.parse(body))
        if incident is not None:
            inbound.incident = incident
            inbound.save(update_fields=["incident"])
    if answer:
        Message.objects.create(
            direction=Message.Direction.OUT,
            channel=Channel.SMS,
            purpose=Message.Purpose.REPLY,
            negotiator=person,
            incident=inbound.incident,
            to_number=from_number[:20],
            body=answer,
            status=Message.Status.SENT,
            sent_at=timezone.now(),
        )
    return answer


def body_is_yes(body: str) -> bool:
    return "".join(ch for ch in body.upper() if ch.isalnum()) == "YES"


def live_callouts(person):
    return list(
        Callout.objects.filter(negotiator=person, incident__status__in=Incident.LIVE)
        .select_related("incident")
        .order_by("asked_at")
    )


def _understand(person, inbound, reply):
    if reply.kind in (replies.OPT_OUT, replies.OPT_IN):
        # Twilio blocks (or unblocks) the number itself; we record it, show it to
        # coordinators, and stop trying SMS for this person's live callouts.
        Callout.objects.filter(negotiator=person, incident__status__in=Incident.LIVE).update(
            sms_unreachable=reply.kind == replies.OPT_OUT
        )
        return None, None
    if reply.kind == replies.ACCEPT and body_is_yes(inbound.body):
        # YES is also one of Twilio's opt-in words: the number can take SMS again.
        Callout.objects.filter(negotiator=person, incident__status__in=Incident.LIVE).update(
            sms_unreachable=False
        )
    if reply.kind == replies.HELP:
        return texts.HELP, None
    if reply.kind == replies.UNKNOWN:
        return texts.NOT_UNDERSTOOD, None
    callout, answer = _which_callout(person, reply)
    if callout is None:
        return answer, None
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
