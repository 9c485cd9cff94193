"""Handing saved messages to the gateway: at most once per message, retried when it is safe.

A message goes PENDING -> SENDING (committed, with a lease) -> provider call ->
SENT with the provider's sid. The ambiguous window is a worker killed after the
provider took the message but before the sid was saved. We never resend blindly
from SENDING: when the lease (longer than the HTTP timeout, so nothing can still
be in flight) runs out, the clock asks the provider whether it has a message of
ours to that number (`find_sent`), and the status callback carries our own id, so
either one adopts the sid. Only when the provider has nothing is it sent again.
"""

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from callouts.gateways import PermanentError, TemporaryError, get_gateway
from callouts.models import Callout, Incident, Message
from callouts.status import mark_unreachable

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
S = Message.Status


def lease() -> timedelta:
    return timedelta(seconds=getattr(settings, "CALLOUTS_SENDING_LEASE", 30))


def backoff(attempts: int) -> timedelta:
    """2, 4, 8, 16, 32 seconds: short, because a callout is urgent."""
    return timedelta(seconds=min(2**attempts, 60))


def threads() -> int:
    if settings.Q_CLUSTER.get("sync"):
        # Tests run tasks inside the test's transaction; other threads would not see it.
        return 1
    return getattr(settings, "CALLOUTS_SEND_THREADS", 32)


def send_many(message_ids) -> int:
    """Send a step's messages side by side: 60 SMS must not go one after another."""
    ids = list(message_ids)
    workers = min(threads(), len(ids))
    if workers <= 1:
        return sum(bool(send(pk)) for pk in ids)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return sum(pool.map(_send_in_thread, ids))


def _send_in_thread(pk) -> bool:
    try:
        return bool(send(pk, release_connection=True))
    except Exception:
        log.exception("sending message %s failed", pk)
        return False
    finally:
        connection.close()


def _still_wanted(message) -> bool:
    if message.purpose != Message.Purpose.CALLOUT:
        return True
    incident = message.incident
    open_states = (
        Callout.State.ASKED,
        Callout.State.DELIVERED,
        Callout.State.NO_ANSWER,
        Callout.State.UNREACHABLE,
    )
    return incident.status == Incident.Status.CALLING and message.callout.state in open_states


def claim(message_id, now) -> Message | None:
    """Lock, check, mark SENDING with a lease: the one caller that gets it sends it."""
    with transaction.atomic():
        message = (
            Message.objects.select_for_update(of=("self",))
            .select_related("incident", "callout")
            .filter(pk=message_id, direction=Message.Direction.OUT)
            .first()
        )
        if message is None or message.status != S.PENDING:
            return None
        if not _still_wanted(message):
            message.status = S.CANCELLED
            message.next_attempt_at = None
            message.save(update_fields=["status", "next_attempt_at"])
            return None
        message.status = S.SENDING
        message.attempts += 1
        message.next_attempt_at = now + lease()
        message.save(update_fields=["status", "attempts", "next_attempt_at"])
        return message


def send(message_id, release_connection=False) -> bool:
    now = timezone.now()
    message = claim(message_id, now)
    if message is None:
        return False
    if release_connection:
        # Back to the pool while we wait for the provider: 60 sends side by side
        # must not need 60 database connections.
        connection.close()
    gateway = get_gateway()
    try:
        sent = gateway.send(message)
    except TemporaryError as e:
        _retry_later(message, e)
        return False
    except PermanentError as e:
        _give_up(message, e)
        return False
    except Exception as e:  # an unknown failure is retried, never lost
        log.exception("gateway failed for message %s", message.pk)
        _retry_later(message, TemporaryError(str(e)[:300]))
        return False
    _record_sent(message, sent.sid, sent.status)
    gateway.after_send(message)
    return True


def _record_sent(message, sid, provider_status):
    from callouts.status import PROVIDER

    status = PROVIDER.get(provider_status, S.SENT)
    now = timezone.now()
    updated = Message.objects.filter(pk=message.pk, status=S.SENDING).update(
        status=status if status in (S.SENT, S.RINGING) else S.SENT,
        provider_sid=sid,
        sent_at=now,
        status_at=now,
        next_attempt_at=None,
    )
    if updated:
        message.provider_sid = sid
        message.status = status


def _retry_later(message, error):
    now = timezone.now()
    give_up = message.attempts >= MAX_ATTEMPTS
    Message.objects.filter(pk=message.pk, status=S.SENDING).update(
        status=S.FAILED if give_up else S.PENDING,
        next_attempt_at=None if give_up else now + backoff(message.attempts),
        error_code=error.code[:20],
        error_message=str(error)[:300],
        status_at=now,
    )


def _give_up(message, error):
    now = timezone.now()
    with transaction.atomic():
        Message.objects.filter(pk=message.pk, status=S.SENDING).update(
            status=S.FAILED,
            next_attempt_at=None,
            error_code=error.code[:20],
            error_message=str(error)[:300],
            status_at=now,
        )
        if message.callout_id:
            callout = Callout.objects.select_for_update().get(pk=message.callout_id)
            fields = mark_unreachable(callout, message.channel)
            callout.save(update_fields=fields)


def reconcile(message_id) -> bool:
    """A SENDING message past its lease: adopt the provider's sid, or make it sendable again."""
    now = timezone.now()
    with transaction.atomic():
        message = Message.objects.select_for_update().filter(pk=message_id).first()
        if message is None or message.status != S.SENDING:
            return False
        # Only the clock calls this, once the lease is over: nothing can still be in flight.
        try:
            sid = get_gateway().find_sent(message)
        except Exception:  # ask again on the next tick
            log.exception("could not look up message %s at the provider", message.pk)
            message.next_attempt_at = now + backoff(1)
            message.save(update_fields=["next_attempt_at"])
            return False
        if sid:
            message.status = S.SENT
            message.provider_sid = sid
            message.sent_at = message.sent_at or now
            message.next_attempt_at = None
        else:
            message.status = S.PENDING
            message.next_attempt_at = now
        message.status_at = now
        message.save()
    if not sid:
        return send(message_id)
    return True
