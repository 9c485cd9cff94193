"""Failed-login throttling, per username and per client address.

Counters live in Django's cache, shared by every web process and machine (a table in
the database by default, Redis with REDIS_URL); each counter expires by itself when its
window ends (fixed window, started by the first failure). Wrong passwords and wrong
two-factor codes are counted apart (`kind`), against the same limit and window.
"""

import hashlib

from django.conf import settings
from django.core.cache import cache

LOGIN, CODE = "login", "code"


def _keys(username: str, address: str, kind: str = LOGIN) -> list[str]:
    keys = []
    if username:
        digest = hashlib.sha256(username.strip().lower().encode()).hexdigest()
        keys.append(f"{kind}-fail:user:{digest}")
    if address:
        keys.append(f"{kind}-fail:addr:{address}")
    return keys


def client_address(request) -> str:
    # REMOTE_ADDR only: X-Forwarded-For is set by the client unless a trusted
    # proxy rewrites it, and trusting it would let anyone dodge the limit.
    return request.META.get("REMOTE_ADDR", "")


def is_blocked(username: str, address: str, kind: str = LOGIN) -> bool:
    limit = settings.LOGIN_THROTTLE_ATTEMPTS
    counts = cache.get_many(_keys(username, address, kind))
    return any(count >= limit for count in counts.values())


def record_failure(username: str, address: str, kind: str = LOGIN) -> None:
    for key in _keys(username, address, kind):
        # add() starts the window only if no counter exists yet.
        cache.add(key, 0, timeout=settings.LOGIN_THROTTLE_WINDOW)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=settings.LOGIN_THROTTLE_WINDOW)


def clear_user(username: str, kind: str = LOGIN) -> None:
    """A successful login forgives the username's failures (not the address's)."""
    cache.delete_many(_keys(username, "", kind))


def window_minutes() -> int:
    """How long a refusal lasts, as the refusal pages say it."""
    return max(1, settings.LOGIN_THROTTLE_WINDOW // 60)
