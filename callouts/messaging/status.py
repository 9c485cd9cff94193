"""Message status from the provider's callbacks (and the simulator), applied in order.

Callbacks can arrive late, twice or out of order: a status never moves back
(a late "sent" after "delivered" is ignored). An unknown sid is ignored.

The webhook takes a callback in first (`take_in`: a StatusCallback row), then applies it
(`apply_taken`), which deletes the row in the same transaction. Applying locks the
message's callout, then the message (the order of callouts.locking: a stand-down holding
the incident and its callouts never waits for a callback in a circle); a lock conflict is
retried, and one that outlasts the retries leaves the row for the escalator clock
(`claim_due`, then the apply_statuses task). A callback taken in is never lost.
"""

import logging
from datetime import timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from callouts import events, locking
from callouts.messaging import errors
from callouts.models import Callout, Message, StatusCallback

log = logging.getLogger(__name__)

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
    found = _which(sid, message_id)
    if found is None:
        return False
    pk, callout_id, purpose = found
    with transaction.atomic():
        # The order of callouts.locking: the callout (when its status follows), then the
        # message. Which message and callout a callback is about never changes: read first,
        # unlocked.
        callout = None
        if callout_id and purpose == Message.Purpose.CALLOUT:
            callout = Callout.objects.select_for_update(no_key=True).get(pk=callout_id)
        message = Message.objects.select_for_update(no_key=True).get(pk=pk)
        if message.provider_sid and sid and message.provider_sid != sid:
            return False  # found by our id, but the provider's id is another message's
        if message.status == target:
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
        if callout is not None:
            unanswered = _callout_follows(message, callout, target, str(error_code or ""))
        events.insert([_event(message, target, error_code, unanswered, now)])
        return True


def _which(sid, message_id):
    """(pk, callout_id, purpose) of the outgoing message a callback is about, or None."""
    out = Message.objects.filter(direction=Message.Direction.OUT)
    fields = ("pk", "callout_id", "purpose")
    found = out.filter(provider_sid=sid).values_list(*fields).first() if sid else None
    if found is None and message_id and str(message_id).isdigit():
        found = out.filter(pk=int(message_id)).values_list(*fields).first()
    return found


# The webhook applies a callback as soon as it has taken it in; the clock looks only at
# those still here this long after (their applying failed, or its process died).
CLOCK_GRACE = timedelta(seconds=5)
# A callback the clock has handed to the queue falls due again after this, if still here.
HOLD = timedelta(seconds=30)
# Tries before giving up on a callback that fails for another reason than a lock conflict.
GIVE_UP_AFTER = 10


def take_in(sid: str, provider_status: str, *, message_id=None, error_code="") -> StatusCallback:
    """Keep the callback as it came (one insert, in its own transaction)."""
    return StatusCallback.objects.create(
        sid=sid[:64],
        status=(provider_status or "")[:20],
        message_ref=str(message_id or "")[:20],
        error_code=str(error_code or "")[:20],
        next_attempt_at=timezone.now() + CLOCK_GRACE,
    )


def apply_taken(callback_id: int) -> bool:
    """Apply a callback taken in, and delete it, in one transaction (again on a lock
    conflict, see callouts.locking); False when it was applied already (or changed nothing)."""
    return locking.retrying(_apply_taken, callback_id)


def _apply_taken(callback_id: int) -> bool:
    with transaction.atomic():
        # Deleted first: this row is the unit of work, locked before the callout and the
        # message; a second applier of the same row waits here, then finds it gone.
        callback = StatusCallback.objects.filter(pk=callback_id).first()
        if callback is None or not StatusCallback.objects.filter(pk=callback_id).delete()[0]:
            return False
        return apply(
            callback.sid,
            callback.status,
            message_id=callback.message_ref or None,
            error_code=callback.error_code,
        )


def claim_due(now, limit: int = 200) -> list[int]:
    """Callbacks still waiting past the grace, claimed for HOLD: the clock queues them."""
    due = StatusCallback.objects.filter(next_attempt_at__lte=now)
    if not due.exists():
        return []  # every tick: no transaction (on SQLite, the write lock) for nothing
    with transaction.atomic():
        ids = list(
            due.select_for_update(skip_locked=True)
            .order_by("pk")
            .values_list("pk", flat=True)[:limit]
        )
        if ids:
            StatusCallback.objects.filter(pk__in=ids).update(
                next_attempt_at=now + HOLD, attempts=F("attempts") + 1
            )
    return ids


def apply_many(callback_ids: list[int]) -> int:
    """The apply_statuses task: callbacks the webhook could not apply; each on its own."""
    applied = 0
    for pk in callback_ids:
        try:
            applied += apply_taken(pk)
        except Exception:
            log.exception("status callback %s could not be applied; it stays for later", pk)
            _later(pk)
    return applied


def _later(pk):
    """Try again after a backoff; after GIVE_UP_AFTER tries, stop trying (kept, logged)."""
    callback = StatusCallback.objects.filter(pk=pk).first()
    if callback is None:
        return
    if callback.attempts >= GIVE_UP_AFTER:
        log.error("status callback %s (%s %s): given up, kept", pk, callback.sid, callback.status)
        callback.next_attempt_at = None
    else:
        wait = timedelta(seconds=min(300, 2**callback.attempts))
        callback.next_attempt_at = timezone.now() + wait
    callback.save(update_fields=["next_attempt_at"])


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


def _callout_follows(message, callout, target, error_code) -> bool:
    """The callout (locked) follows its message's status; True when the call went unanswered."""
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
        incident = locking.incident(incident_id)
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
