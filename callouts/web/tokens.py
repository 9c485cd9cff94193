"""Control-room API tokens: shown once, stored only as a SHA-256 hash."""

import hashlib
import secrets
from datetime import timedelta

from django.utils import timezone

from callouts import queries, services
from callouts.models import ApiToken

PREFIX = "sby_"
# last_used_at is written at most this often, not on every request.
TOUCH_EVERY = timedelta(minutes=1)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(user, name="") -> tuple[ApiToken, str]:
    """A new token for `user`; the plain token is returned here and never again."""
    prefix = secrets.token_hex(4)
    token = f"{PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    # Made by an administrator's command (create_api_token): the system acts.
    record = services.save_api_token(user, name, prefix, digest(token), by=None)
    return record, token


def authenticate(token: str):
    """The live token's user, or None."""
    if not token.startswith(PREFIX):
        return None
    record = queries.live_api_token(digest(token))
    if record is None:
        return None
    now = timezone.now()
    if record.last_used_at is None or now - record.last_used_at > TOUCH_EVERY:
        services.note_api_token_used(record, now, by=record.user)
    return record.user


def revoke(prefix: str) -> int:
    """Revoke the tokens starting with `prefix` (with or without "sby_"); how many."""
    prefix = prefix.removeprefix(PREFIX).split("_")[0]
    if not prefix:
        return 0
    return services.revoke_api_tokens(prefix, by=None)
