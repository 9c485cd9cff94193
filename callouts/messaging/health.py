"""Whether the provider is taking our messages, kept from each batch of sends.

One row (ProviderHealth). A batch in which nothing was taken and the provider was at
fault (refused, 5xx, 429, timeouts) marks it failing; the next batch with anything
taken marks it recovered and releases every message waiting out a backoff, so that
they go at once (the clock sends stand-downs first). The log says each change once.
"""

import logging

from django.utils import timezone

from callouts.messaging.gateways import AmbiguousError, TemporaryError
from callouts.models import Message, ProviderHealth

log = logging.getLogger("callouts.provider")
NAME = "provider"


def record(taken: int, failures) -> None:
    now = timezone.now()
    if taken:
        recovered = ProviderHealth.objects.filter(name=NAME, failing_since__isnull=False).update(
            failing_since=None, last_ok_at=now
        )
        if recovered:
            released = release_waiting(now)
            log.warning("provider recovered: %s waiting message(s) go out now", released)
        return
    provider_faults = [e for e in failures if isinstance(e, TemporaryError | AmbiguousError)]
    if not provider_faults:
        return
    last = provider_faults[-1]
    fields = {
        "last_error": str(last)[:300],
        "last_error_code": last.code[:20],
        "last_error_at": now,
    }
    row, _ = ProviderHealth.objects.get_or_create(name=NAME)
    if ProviderHealth.objects.filter(pk=row.pk, failing_since__isnull=True).update(
        failing_since=now, **fields
    ):
        log.warning("provider failing: %s", last)
    else:
        ProviderHealth.objects.filter(pk=row.pk).update(**fields)


def release_waiting(now) -> int:
    """Messages waiting out a backoff after a provider failure are due now."""
    return Message.objects.filter(
        direction=Message.Direction.OUT,
        status=Message.Status.PENDING,
        attempts__gt=0,
        next_attempt_at__gt=now,
    ).update(next_attempt_at=now)


def current() -> ProviderHealth | None:
    """The provider's state if it is failing, else None (one indexed read)."""
    return ProviderHealth.objects.filter(name=NAME, failing_since__isnull=False).first()


def waiting_count() -> int:
    """Outgoing messages not yet taken because the provider failed them."""
    return (
        Message.objects.filter(
            direction=Message.Direction.OUT, status=Message.Status.PENDING, attempts__gt=0
        )
        .exclude(error_code="")
        .count()
    )


def unknown_count() -> int:
    """Messages the provider could not tell us about: their people may not have been reached."""
    return Message.objects.filter(
        next_attempt_at__isnull=False, status=Message.Status.UNKNOWN
    ).count()
