"""Failed-login throttling, per username and per client address.

Counters are rows in the database (cadre.models.FailureCount), shared by every web
process and machine. Each attempt is counted BEFORE the password or code is checked, by
an UPDATE ... SET count = count + 1 under the key's unique row, and the count read back
in the same transaction: of 40 simultaneous guesses, only the first LOGIN_THROTTLE_ATTEMPTS
are checked. The window is fixed, started by the first failure and never extended by a
later one: the refusal says how many minutes are really left. An attempt that turns out
not to be a wrong guess is given back (`give_back`); a right one forgives the username's
failures (`succeeded`). Wrong passwords and wrong two-factor codes are counted apart
(`kind`), against the same limit and window.
"""

import hashlib
import math
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone

from cadre.models import FailureCount

LOGIN, CODE = "login", "code"


def _user_key(username: str, kind: str) -> str | None:
    if not username:
        return None
    digest = hashlib.sha256(username.strip().lower().encode()).hexdigest()
    return f"{kind}-fail:user:{digest}"


def _keys(username: str, address: str, kind: str = LOGIN) -> list[str]:
    keys = [_user_key(username, kind)]
    if address:
        keys.append(f"{kind}-fail:addr:{address}"[:200])
    return [key for key in keys if key]


def client_address(request) -> str:
    # REMOTE_ADDR only: X-Forwarded-For is set by the client unless a trusted
    # proxy rewrites it, and trusting it would let anyone dodge the limit.
    return request.META.get("REMOTE_ADDR", "")


def _window() -> timedelta:
    return timedelta(seconds=settings.LOGIN_THROTTLE_WINDOW)


def minutes_left(started_at: datetime, now: datetime, window_seconds: int) -> int:
    """Whole minutes (rounded up, at least 1) until a window begun at `started_at` ends."""
    ends = started_at + timedelta(seconds=window_seconds)
    return max(1, math.ceil((ends - now).total_seconds() / 60))


def _count_one(key: str, now: datetime) -> FailureCount:
    """Add this attempt to `key`'s counter (a new window if none is running); the row as
    it stands after it, locked until the caller's transaction ends."""
    rows = FailureCount.objects.filter(key=key)
    since = now - _window()
    for _ in range(3):
        if rows.filter(started_at__gt=since).update(count=F("count") + 1):
            break
        if rows.filter(started_at__lte=since).update(count=1, started_at=now):
            break
        try:
            with transaction.atomic():
                FailureCount.objects.create(key=key, count=1, started_at=now)
            break
        except IntegrityError:
            continue  # made (or restarted) by a simultaneous attempt: count in it
    return rows.get()


def attempt(username: str, address: str, kind: str = LOGIN) -> int:
    """Count an attempt before its password or code is checked: 0 if it may be checked,
    else the minutes left until the first failure's window ends (refuse it)."""
    now = timezone.now()
    limit = settings.LOGIN_THROTTLE_ATTEMPTS
    with transaction.atomic():
        counters = [_count_one(key, now) for key in sorted(_keys(username, address, kind))]
    over = [c for c in counters if c.count > limit]
    if not over:
        return 0
    # Refused until every window that refuses has ended: the one that started last.
    started = max(c.started_at for c in over)
    return minutes_left(started, now, settings.LOGIN_THROTTLE_WINDOW)


def give_back(username: str, address: str, kind: str = LOGIN) -> None:
    """The attempt checked no password or code (a form error elsewhere): uncount it."""
    FailureCount.objects.filter(key__in=_keys(username, address, kind)).update(
        count=Greatest(F("count") - 1, 0)
    )


def succeeded(username: str, address: str, kind: str = LOGIN) -> None:
    """A right password or code forgives the username's failures; the address's keep
    counting (someone holding one password guesses no faster at others), this one given
    back."""
    user_key = _user_key(username, kind)
    if user_key:
        FailureCount.objects.filter(key=user_key).delete()
    give_back("", address, kind)


def forget_expired(now: datetime | None = None) -> int:
    """Delete counters whose window has ended (they would restart anyway): the table keeps
    only the last window's addresses and usernames."""
    since = (now or timezone.now()) - _window()
    deleted, _ = FailureCount.objects.filter(started_at__lte=since).delete()
    return deleted
