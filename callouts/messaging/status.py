"""Message status from the provider's callbacks (and the simulator), applied in order.

Callbacks can arrive late, twice or out of order: a status never moves back
(a late "sent" after "delivered" is ignored). An unknown sid is ignored.
"""

from django.db import transaction
from django.utils import timezone

from callouts import events
from callouts.messaging import errors
from callouts.models import Callout, Message

S = Message.Status
PROVIDER = {
    "queued": S.SENT,
    "accepted": S.SENT,
    "scheduled": S.SENT,
    "sending": S.SENT,
    "sent": S.SENT,
    "initiated": S.SENT,
    "delivered": S.DELIVERED,
    "read": S.DELIVERED,
    "undelivered": S.UNDELIVERED,
    "failed": S.FAILED,
    "ringing": S.RINGING,
    "in-progress": S.IN_PROGRESS,
    "answered": S.IN_PROGRESS,
    "completed": S.COMPLETED,
    "busy": S.BUSY,
    "no-answer": S.NO_ANSWER,
    "canceled": S.CANCELLED,
}
RANK = {
    S.PENDING: 0,
    S.SENDING: 1,
    S.UNKNOWN: 1,
    S.SENT: 2,
    S.RINGING: 3,
    S.IN_PROGRESS: 4,
}
FINAL = 5
CALL_ENDED = {S.COMPLETED, S.BUSY, S.NO_ANSWER, S.FAILED, S.CANCELLED}


def rank(status: str) -> int:
    return RANK.get(status, FINAL)


def apply(sid: str, provider_status: str, *, message_id=None, error_code="") -> bool:
    """Apply one callback; True when it changed something."""
    target = PROVIDER.get((provider_status or "").strip().lower())
    if target is None:
        return False
    with transaction.atomic():
        rows = Message.objects.select_for_update().filter(direction=Message.Direction.OUT)
        message = rows.filter(provider_sid=sid).first() if sid else None
        if message is None and message_id and str(message_id).isdigit():
            message = rows.filter(pk=int(message_id)).first()
            if message is not None and message.provider_sid and message.provider_sid != sid:
                return False
        if message is None or message.status == target:
            return False
        if rank(target) < rank(message.status) or rank(message.status) == FINAL:
            return False
        now = timezone.now()
        if not message.provider_sid and sid:
            # The worker died after the provider took it: adopt the provider's id.
            message.provider_sid = sid
            message.sent_at = message.sent_at or now
        message.status = target
        message.status_at = now
        message.next_attempt_at = None
        if error_code:
            message.error_code = str(error_code)[:20]
        message.save()
        unanswered = False
        if message.callout_id and message.purpose == Message.Purpose.CALLOUT:
            unanswered = _callout_follows(message, target, str(error_code or ""))
        events.insert([_event(message, target, error_code, unanswered, now)])
        return True


def _event(message, target, error_code, unanswered, at):
    """The log's line for a status change, or None for one not worth a line."""
    K = events.K
    if target in (S.FAILED, S.UNDELIVERED):
        return events.for_message(
            message, K.MESSAGE_FAILED, at=at, status=target, error_code=error_code
        )
    if target == S.DELIVERED:
        return events.for_message(message, K.MESSAGE_DELIVERED, at=at)
    if message.channel != "voice":
        return None
    if target == S.IN_PROGRESS:
        return events.for_message(message, K.CALL_ANSWERED, at=at)
    if unanswered or target in (S.BUSY, S.NO_ANSWER):
        return events.for_message(
            message, K.CALL_UNANSWERED, at=at, status=target, error_code=error_code
        )
    return None


def _callout_follows(message, target, error_code) -> bool:
    """The callout follows its message's status; True when the call went unanswered."""
    callout = Callout.objects.select_for_update().get(pk=message.callout_id)
    fields = []
    unanswered = False
    if target == S.DELIVERED and callout.state == Callout.State.ASKED:
        callout.state = Callout.State.DELIVERED
        fields.append("state")
    elif (
        message.channel == "voice"
        and target in CALL_ENDED
        and callout.state in (Callout.State.ASKED, Callout.State.DELIVERED)
    ):
        # Only a keypress answers; an answering machine that picked up did not.
        callout.state = Callout.State.NO_ANSWER
        fields.append("state")
        unanswered = True
    permanent = target in (S.FAILED, S.UNDELIVERED) and errors.is_person_specific(error_code)
    if permanent:
        fields += mark_unreachable(callout, message.channel)
    if fields:
        callout.save(update_fields=sorted(set(fields)))
    if permanent:
        transaction.on_commit(
            lambda: move_on_if_nobody_reachable(message.incident_id, message.step)
        )
    return unanswered


def mark_unreachable(callout, channel) -> list[str]:
    """Flag the channel; the person is unreachable once every channel tried has failed."""
    setattr(callout, "voice_unreachable" if channel == "voice" else "sms_unreachable", True)
    fields = ["voice_unreachable" if channel == "voice" else "sms_unreachable"]
    tried = set(
        Message.objects.filter(callout=callout, purpose=Message.Purpose.CALLOUT).values_list(
            "channel", flat=True
        )
    )
    dead = {c for c in tried if getattr(callout, f"{c}_unreachable")}
    open_states = (Callout.State.ASKED, Callout.State.DELIVERED, Callout.State.NO_ANSWER)
    if tried and tried <= dead and callout.state in open_states:
        callout.state = Callout.State.UNREACHABLE
        fields.append("state")
    return fields


def move_on_if_nobody_reachable(incident_id, step) -> bool:
    """When every callout message of the current step has failed, the next step is due now.

    Escalation goes on without waiting out the step's minutes for people we cannot reach.
    """
    from callouts.models import Incident

    with transaction.atomic():
        incident = Incident.objects.select_for_update().filter(pk=incident_id).first()
        if incident is None or incident.status != Incident.Status.CALLING:
            return False
        if step is None or incident.step_index != step:
            return False
        messages = Message.objects.filter(
            incident=incident, step=step, purpose=Message.Purpose.CALLOUT
        )
        if messages.exclude(status__in=[S.FAILED, S.UNDELIVERED]).exists():
            return False
        now = timezone.now()
        if incident.next_step_at is None or incident.next_step_at > now:
            incident.next_step_at = now
            incident.save(update_fields=["next_step_at"])
        return True
