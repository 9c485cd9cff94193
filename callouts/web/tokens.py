"""Control-room API tokens: shown once, stored only as a SHA-256 hash."""

import hashlib
import secrets
from datetime import timedelta

from django.utils import timezone

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
    record = ApiToken.objects.create(user=user, name=name, prefix=prefix, key_hash=digest(token))
    return record, token


def authenticate(token: str):
    """The live token's user, or None."""
    if not token.startswith(PREFIX):
        return None
    record = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=digest(token), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if record is None:
        return None
    now = timezone.now()
    if record.last_used_at is None or now - record.last_used_at > TOUCH_EVERY:
        ApiToken.objects.filter(pk=record.pk).update(last_used_at=now)
    return record.user


def revoke(prefix: str) -> int:
    """Revoke the tokens starting with `prefix` (with or without "sby_"); how many."""
    prefix = prefix.removeprefix(PREFIX).split("_")[0]
    if not prefix:
        return 0
    return ApiToken.objects.filter(prefix=prefix, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
