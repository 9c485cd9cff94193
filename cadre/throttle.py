"""Failed-login throttling, per username and per client address.

Counters live in Django's cache: a failed login costs no database write, and
each counter expires by itself when its window ends (fixed window, started by
the first failure). With the default in-process cache each web process counts
on its own; set REDIS_URL to share the counters between processes.
"""

import hashlib

from django.conf import settings
from django.core.cache import cache


def _keys(username: str, address: str) -> list[str]:
    keys = []
    if username:
        digest = hashlib.sha256(username.strip().lower().encode()).hexdigest()
        keys.append(f"login-fail:user:{digest}")
    if address:
        keys.append(f"login-fail:addr:{address}")
    return keys


def client_address(request) -> str:
    # REMOTE_ADDR only: X-Forwarded-For is set by the client unless a trusted
    # proxy rewrites it, and trusting it would let anyone dodge the limit.
    return request.META.get("REMOTE_ADDR", "")


def is_blocked(username: str, address: str) -> bool:
    limit = settings.LOGIN_THROTTLE_ATTEMPTS
    counts = cache.get_many(_keys(username, address))
    return any(count >= limit for count in counts.values())


def record_failure(username: str, address: str) -> None:
    for key in _keys(username, address):
        # add() starts the window only if no counter exists yet.
        cache.add(key, 0, timeout=settings.LOGIN_THROTTLE_WINDOW)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=settings.LOGIN_THROTTLE_WINDOW)


def clear_user(username: str) -> None:
    """A successful login forgives the username's failures (not the address's)."""
    cache.delete_many(_keys(username, ""))
