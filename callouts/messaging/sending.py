"""Handing saved messages to the gateway: at most once per message, retried when it is safe.

A message goes PENDING -> SENDING (committed, with a lease) -> provider call ->
SENT with the provider's sid. What happens on failure depends on whether the
provider can have taken it (callouts.messaging.errors):
- known not taken (refused, 429, 5xx): PENDING again after a short capped backoff,
  for as long as the message is still wanted (a callout whose incident still needs
  the person; any stand-down, answer or alert for up to CALLOUTS_GIVE_UP_AFTER);
- the person's number (invalid, STOP): FAILED, that channel marked unreachable;
- the request (empty body or number): FAILED, nobody marked unreachable;
- maybe taken (a timeout, a dropped connection, a worker killed mid-send): left
  SENDING. We never resend blindly from SENDING: when the lease (longer than the HTTP
  timeout, so nothing can still be in flight) runs out, the clock asks the provider
  whether it has a message of ours to that number (`find_sent`), and the status
  callback carries our own id, so either one adopts the sid. Only when the provider
  has nothing is it sent again. If the provider cannot be asked, we ask again with
  backoff, and after LOOKUP_LIMIT failures the message shows as UNKNOWN ("not known to
  have been reached") so that a coordinator phones the person; asking goes on.
"""

import contextlib
import logging
import queue
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from callouts import events, sql
from callouts.messaging import budget, health
from callouts.messaging.gateways import (
    AmbiguousError,
    PermanentError,
    RejectedError,
    TemporaryError,
    get_gateway,
)
from callouts.messaging.gateways.base import status_callback_url
from callouts.messaging.status import PROVIDER, mark_unreachable, move_on_if_nobody_reachable
from callouts.models import Callout, Incident, Message

log = logging.getLogger(__name__)

S = Message.Status
# Failed lookups at the provider before a lost outcome shows as "not known to have been
# reached" (about half a minute of asking).
LOOKUP_LIMIT = 4
RETRY_CAP_SECONDS = 10
LOOKUP_CAP_SECONDS = 60


def lease() -> timedelta:
    return timedelta(seconds=getattr(settings, "CALLOUTS_SENDING_LEASE", 30))


def backoff(attempts: int, cap: int = RETRY_CAP_SECONDS) -> timedelta:
    """2, 4, 8, 10, 10… seconds: short, because a callout is urgent, and a provider outage
    is noticed to be over within the cap (then everything waiting goes at once)."""
    return timedelta(seconds=min(2 ** max(attempts, 1), cap))


def give_up_after() -> timedelta:
    return timedelta(hours=getattr(settings, "CALLOUTS_GIVE_UP_AFTER_HOURS", 6))


def threads() -> int:
    """Sending threads in this process: as many as the provider budget (budget.py)."""
    return budget.size()


# A 429 (Twilio's 20429, too many concurrent requests) was never processed: it is tried
# again at once, in the same thread, after a short jittered pause, this many times,
# before the message waits out a backoff like any other refusal.
THROTTLED = {"429", "20429"}
THROTTLE_RETRIES = 3

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _executor() -> ThreadPoolExecutor:
    """Threads that only talk to the provider (no database), kept for their HTTP sessions."""
    global _pool
    with _pool_lock:
        if _pool is None or _pool._max_workers != threads():
            _pool = ThreadPoolExecutor(max_workers=threads(), thread_name_prefix="send")
        return _pool


def warm_up(**_):
    """Start the sending threads and their gateways when a queue worker starts (post_spawn).

    Callouts are rare: without this a worker's first incident would also pay for
    starting 64 threads and building 64 SDK clients.
    """
    # The first reverse() in a process imports the whole URLconf (0.4 s here);
    # 64 threads doing that at once for their status-callback URLs took seconds.
    status_callback_url(Message(pk=0))
    count = threads()
    ready = threading.Barrier(count, timeout=5)

    def start():
        get_gateway()
        with contextlib.suppress(threading.BrokenBarrierError):
            ready.wait()

    for _ in range(count):
        _executor().submit(start)


def send(message_id) -> bool:
    return send_many([message_id]) == 1


def send_many(message_ids) -> int:
    """Send messages side by side: a step's 300 SMS must not go one after another.

    The claim (PENDING -> SENDING) is one committed transaction before any
    provider call; the threads then only make the provider calls, within the
    budget; each outcome is saved as soon as it is back. Returns how many the
    provider took.
    """
    batch = Batch()
    batch.add(message_ids)
    return batch.finish()


def claim_chunk() -> int:
    """Messages claimed per transaction by Batch.add: a step of up to the usual budget is
    claimed at once; a larger one starts sending its first hundred while the next are
    claimed."""
    return settings.CALLOUTS_CLAIM_CHUNK


def send_collected(collected) -> int:
    """What a reply's transaction queued (outbox.collecting), once it has committed."""
    batch = Batch()
    batch.add_collected(collected)
    return batch.finish()


# Outcomes saved together by record_ready: as soon as this many are back, or this many
# seconds after the last save (finish saves every one as it comes).
SAVE_AT_ONCE = 10
SAVE_WITHIN = 0.1
# finish saves no more often than this: outcomes back meanwhile are saved together. A wave
# of 100 answers trickles back over ~0.1 s; saved as each came, their 30-odd transactions
# took the interpreter lock from the threads starting the next wave's requests.
GATHER_FOR = 0.05


class Batch:
    """Messages in flight from one task: claimed, handed to the sending threads, recorded.

    `add` claims (one committed transaction) and hands the claimed messages to the
    sending threads at once; `record_ready` saves the outcomes already back (without
    waiting), `finish` waits for the rest. Outcomes are saved by the task's own thread
    (the sending threads never touch the database), a few at a time as they return,
    each message's state and its event in one transaction. A task killed before an
    outcome is saved leaves that message SENDING: reconciled when its lease ends, never
    resent blindly.
    """

    def __init__(self):
        self.results: queue.SimpleQueue = queue.SimpleQueue()
        self.outstanding = 0
        self.taken = 0
        self.errors: list[Exception] = []
        # One message in flight per number: two answers to one phone reach it in order.
        self.busy: set[str] = set()
        self.waiting: dict[str, list] = {}
        self.saved_at = time.monotonic()

    def add(self, message_ids) -> int:
        """Claim and start these, claim_chunk() at a time: the first requests go out while the
        rest are claimed. How many were claimed."""
        message_ids = list(message_ids)
        added = 0
        chunk = claim_chunk()
        for start in range(0, len(message_ids), chunk):
            claimed = claim(message_ids[start : start + chunk], timezone.now())
            self.start_claimed(claimed)
            added += len(claimed)
        return added

    def add_collected(self, collected):
        """Claim what the reply's transaction queued; start the answers it created claimed."""
        self.add(collected.ids)
        self.start_claimed(collected.claimed)

    def start_claimed(self, claimed):
        for message in claimed:
            self.outstanding += 1
            if message.to_number in self.busy:
                self.waiting.setdefault(message.to_number, []).append(message)
            else:
                self._start(message)

    def _start(self, message):
        self.busy.add(message.to_number)
        if threads() <= 1:
            self.results.put((message, _call(message)))
        else:
            _executor().submit(self._send, message)

    def _send(self, message):
        self.results.put((message, _call(message)))

    def record_ready(self) -> int:
        """Save the outcomes already back, when there are a few or they have waited a moment
        (saving each alone costs a transaction); returns how many were saved."""
        now = time.monotonic()
        if self.results.qsize() < SAVE_AT_ONCE and now - self.saved_at < SAVE_WITHIN:
            return 0
        self.saved_at = now
        done = self._drain([])
        self._save(done)
        return len(done)

    def save_next(self) -> None:
        """Wait for the next outcome, then save it and any others back."""
        if self.outstanding:
            self._save(self._drain([self.results.get()]))

    def finish(self) -> int:
        """Wait for every message in flight, saving each outcome as it comes; how many taken."""
        while self.outstanding:
            first = self.results.get()
            pause = GATHER_FOR - (time.monotonic() - self.saved_at)
            if pause > 0 and self.outstanding > 1:
                time.sleep(pause)
            self.saved_at = time.monotonic()
            self._save(self._drain([first]))
        if self.taken or self.errors:
            health.record(self.taken, self.errors)
        taken, self.taken, self.errors = self.taken, 0, []
        return taken

    def _drain(self, done: list) -> list:
        """`done` and every outcome already back, without waiting."""
        while True:
            try:
                done.append(self.results.get_nowait())
            except queue.Empty:
                return done

    def _save(self, done):
        if not done:
            return
        self.outstanding -= len(done)
        # These outcomes and their events in one transaction: the sids of those taken in two
        # statements, however many (the sending threads hold the interpreter lock most of
        # the time, so each statement here waits for it), one insert for the events.
        with transaction.atomic():
            taken = _record_sent([(m, o) for m, o in done if not isinstance(o, Exception)])
            recorded = [
                _record(message, outcome)
                if isinstance(outcome, Exception)
                else _taken(message, message.pk in taken)
                for message, outcome in done
            ]
            events.insert(event for _, event in recorded)
        for (message, outcome), (sent, _) in zip(done, recorded, strict=True):
            waiting = self.waiting.get(message.to_number)
            if waiting:
                self._start(waiting.pop(0))
            else:
                self.busy.discard(message.to_number)
            if isinstance(outcome, Exception):
                self.errors.append(outcome)
            if sent:
                self.taken += 1
                get_gateway().after_send(message)
            elif isinstance(outcome, PermanentError) and message.purpose == Message.Purpose.CALLOUT:
                # That person's number: if nobody on this step can be reached, move on now.
                move_on_if_nobody_reachable(message.incident_id, message.step)


def _call(message):
    """One provider request within the budget; a 429 is tried again (it was never processed)."""
    for attempt in range(THROTTLE_RETRIES + 1):
        try:
            with budget.budget().slot():
                return get_gateway().send(message)
        except TemporaryError as e:
            if e.code not in THROTTLED or attempt == THROTTLE_RETRIES:
                return e
        except (PermanentError, RejectedError, AmbiguousError) as e:
            return e
        except Exception as e:
            # Nobody knows whether it reached the provider: reconciled, never resent blindly.
            log.exception("gateway failed for message %s", message.pk)
            return AmbiguousError(str(e)[:300], "error")
        time.sleep(random.uniform(0.05, 0.25) * (attempt + 1))


def _failed_event(message, error):
    return events.for_message(
        message,
        events.K.MESSAGE_FAILED,
        error_code=error.code,
        error=events.scrub(str(error)),
    )


def _record(message, outcome) -> tuple[bool, object]:
    """Save one failure; (False, the event for the log or None)."""
    if isinstance(outcome, PermanentError):
        _give_up(message, outcome)
        return False, _failed_event(message, outcome)
    if isinstance(outcome, RejectedError):
        _reject(message, outcome)
        return False, _failed_event(message, outcome)
    if isinstance(outcome, AmbiguousError):
        _outcome_unknown(message, outcome)
        return False, None
    gave_up = _retry_later(message, outcome)
    return False, _failed_event(message, outcome) if gave_up else None


def _taken(message, saved: bool) -> tuple[bool, object]:
    """A message the provider took; its event, unless someone else recorded it first."""
    return saved, events.for_message(message, events.K.MESSAGE_SENT) if saved else None


# A page sent by hand from the board (no step) goes while places are open: the escalation
# may have run out of steps (exhausted) and the coordinator is asking someone themselves.
PAGE_WANTED = (Incident.Status.CALLING, Incident.Status.EXHAUSTED)


def _still_wanted(message) -> bool:
    if message.purpose != Message.Purpose.CALLOUT:
        return True
    statuses = PAGE_WANTED if message.step is None else (Incident.Status.CALLING,)
    return message.incident.status in statuses and message.callout.state in Callout.OPEN_STATES


def claim(message_ids, now) -> list[Message]:
    """Lock, check, mark SENDING with a lease, commit: whoever claims a message sends it.

    Rows another claimer holds are skipped, not waited for; callout messages no
    longer wanted (filled, stood down, answered) are cancelled instead.
    """
    with transaction.atomic():
        rows = list(
            Message.objects.select_for_update(no_key=True, of=("self",), skip_locked=True)
            .select_related("incident", "callout")
            .filter(
                pk__in=list(message_ids),
                direction=Message.Direction.OUT,
                status=S.PENDING,
            )
            .order_by("pk")
        )
        wanted = [m for m in rows if _still_wanted(m)]
        unwanted = [m.pk for m in rows if not _still_wanted(m)]
        if unwanted:
            Message.objects.filter(pk__in=unwanted).update(
                status=S.CANCELLED, next_attempt_at=None, status_at=now
            )
        _mark_sending(wanted, now)
    return wanted


def claim_made(messages, now) -> list[Message]:
    """Claim messages inside the transaction that made them (so nobody else can hold them):
    marked SENDING with the lease in one statement, as `claim` would leave them."""
    messages = list(messages)
    if messages:
        _mark_sending(messages, now)
    return messages


def _mark_sending(messages, now) -> None:
    """SENDING with the lease, one attempt more: in the database and on the instances."""
    Message.objects.filter(pk__in=[m.pk for m in messages]).update(
        status=S.SENDING, attempts=F("attempts") + 1, next_attempt_at=now + lease()
    )
    for message in messages:
        message.status = S.SENDING
        message.attempts += 1


def _record_sent(taken) -> set[int]:
    """[(message, Sent)] the provider took: their sids saved; the ids of those saved.

    Only messages still SENDING: a status callback that came before us has adopted the
    sid itself (it carries our id) and moved the status on. One statement however many
    (callouts.sql.RECORD_SENT).
    """
    rows = [(m.pk, _sent_status(sent), sent.sid) for m, sent in taken]
    still = sql.record_sent(rows, timezone.now(), S.SENDING)
    for (message, _), (pk, status, sid) in zip(taken, rows, strict=True):
        if pk in still:
            message.provider_sid, message.status = sid, status
    return still


def _sent_status(sent) -> str:
    status = PROVIDER.get(sent.status, S.SENT)
    return status if status in (S.SENT, S.RINGING) else S.SENT


def _retry_later(message, error):
    """The provider did not take it: again soon, until it is no longer wanted.

    A callout stops when its incident no longer needs the person (the claim cancels
    it); anything else is kept for CALLOUTS_GIVE_UP_AFTER_HOURS.
    """
    now = timezone.now()
    give_up = message.created_at < now - give_up_after()
    if give_up:
        log.error(
            "gave up on message %s after provider failures since %s", message.pk, message.created_at
        )
    Message.objects.filter(pk=message.pk, status=S.SENDING).update(
        status=S.FAILED if give_up else S.PENDING,
        next_attempt_at=None if give_up else now + backoff(message.attempts),
        error_code=error.code[:20],
        error_message=str(error)[:300],
        status_at=now,
    )
    return give_up


def _reject(message, error):
    """The request was wrong: sending it again cannot help, and the person is not to blame."""
    log.error("provider refused message %s: %s", message.pk, error)
    Message.objects.filter(pk=message.pk, status=S.SENDING).update(
        status=S.FAILED,
        next_attempt_at=None,
        error_code=error.code[:20],
        error_message=str(error)[:300],
        status_at=timezone.now(),
    )


def _outcome_unknown(message, error):
    """Maybe taken: stays SENDING; when its lease ends the clock asks the provider."""
    Message.objects.filter(pk=message.pk, status=S.SENDING).update(
        error_code=error.code[:20], error_message=str(error)[:300]
    )


def _give_up(message, error):
    now = timezone.now()
    with transaction.atomic():
        # The callout before its message (callouts.locking).
        callout = None
        if message.callout_id:
            callout = Callout.objects.select_for_update(no_key=True).get(pk=message.callout_id)
        Message.objects.filter(pk=message.pk, status=S.SENDING).update(
            status=S.FAILED,
            next_attempt_at=None,
            error_code=error.code[:20],
            error_message=str(error)[:300],
            status_at=now,
        )
        if callout is not None:
            fields = mark_unreachable(callout, message.channel)
            callout.save(update_fields=fields)


def reconcile_many(message_ids) -> int:
    """The reconcile task: messages the clock found SENDING past their lease."""
    return sum(bool(reconcile(pk)) for pk in message_ids)


def reconcile(message_id) -> bool:
    """A SENDING message past its lease: adopt the provider's sid, or make it sendable again."""
    now = timezone.now()
    with transaction.atomic():
        message = Message.objects.select_for_update(no_key=True).filter(pk=message_id).first()
        if message is None or message.status not in (S.SENDING, S.UNKNOWN):
            return False
        # Only the clock calls this, once the lease is over: nothing can still be in flight.
        try:
            sid = get_gateway().find_sent(message, exclude=_sids_taken_near(message))
        except Exception as e:
            _lookup_failed(message, e, now)
            return False
        if sid:
            if message.status == S.UNKNOWN:
                log.warning("message %s: the provider did take it after all", message.pk)
            message.status = S.SENT
            message.provider_sid = sid
            message.sent_at = message.sent_at or now
            message.next_attempt_at = None
            events.insert([events.for_message(message, events.K.MESSAGE_SENT, found=True)])
        else:
            message.status = S.PENDING
            message.next_attempt_at = now
        message.status_at = now
        message.save()
    if not sid:
        return send(message_id)
    return True


def _sids_taken_near(message) -> set[str]:
    """Provider ids already adopted by our other messages to that number: never adopt twice."""
    return set(
        Message.objects.filter(
            to_number=message.to_number,
            direction=Message.Direction.OUT,
            created_at__gte=message.created_at - lease(),
            provider_sid__isnull=False,
        )
        .exclude(pk=message.pk)
        .values_list("provider_sid", flat=True)
    )


def _lookup_failed(message, error, now):
    """Ask again with backoff; past LOOKUP_LIMIT, the board says "not known to be reached"."""
    message.lookups += 1
    message.next_attempt_at = now + backoff(message.lookups, cap=LOOKUP_CAP_SECONDS)
    fields = ["lookups", "next_attempt_at"]
    if message.status == S.SENDING and message.lookups >= LOOKUP_LIMIT:
        message.status, message.status_at = S.UNKNOWN, now
        message.error_message = f"Could not ask the provider: {error}"[:300]
        fields += ["status", "status_at", "error_message"]
        log.warning(
            "message %s to %s: not known whether the provider took it (%s); still asking",
            message.pk,
            message.to_number,
            error,
        )
    message.save(update_fields=fields)


def cancel_ringing(incident_id: int, round: int) -> int:
    """Calls of this round still queued or ringing when the incident filled or was stood down.

    Best effort: a call the provider will not cancel (already answered, already
    over) is left to its script, which says the callout is no longer needed.
    """
    calls = Message.objects.filter(
        incident_id=incident_id,
        round=round,
        direction=Message.Direction.OUT,
        channel="voice",
        purpose=Message.Purpose.CALLOUT,
        status__in=(S.SENT, S.RINGING),
        provider_sid__isnull=False,
    )
    gateway = get_gateway()
    cancelled = 0
    for call in calls:
        try:
            gateway.cancel_call(call)
        except (TemporaryError, PermanentError) as e:
            log.warning("could not cancel call %s: %s", call.provider_sid, e)
            continue
        cancelled += Message.objects.filter(pk=call.pk, status__in=(S.SENT, S.RINGING)).update(
            status=S.CANCELLED, status_at=timezone.now()
        )
    return cancelled
