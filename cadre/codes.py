"""One-time codes as people type and read them (pure: no database).

A code from an authenticator app is six digits; a recovery code is eight letters and
digits, shown as two groups of four (``k3jd-7mq2``). People type them with spaces,
hyphens and either case; `read` makes them what the devices store. The secret key of an
authenticator is written out in groups of four for typing into an app by hand.
"""

import re
from base64 import b32encode
from dataclasses import dataclass

APP_CODE = re.compile(r"\d{6}")
# django-otp's StaticToken.random_token(): 5 random bytes as lower-case base32.
RECOVERY_CODE = re.compile(r"[a-z2-7]{8}")
RECOVERY_CODES = 10
# Typed by hand; anything longer is not a code (and is never looked up).
MAX_TYPED = 32


@dataclass(frozen=True)
class Typed:
    code: str
    recovery: bool  # a recovery code rather than an authenticator's


def read(text: str) -> Typed | None:
    """What was typed, as the device keeps it, or None when it is neither kind of code."""
    if len(text) > MAX_TYPED:
        return None
    code = re.sub(r"[\s-]", "", text).lower()
    if APP_CODE.fullmatch(code):
        return Typed(code, recovery=False)
    if RECOVERY_CODE.fullmatch(code):
        return Typed(code, recovery=True)
    return None


def shown(recovery_code: str) -> str:
    """A recovery code as printed: two groups of four."""
    return f"{recovery_code[:4]}-{recovery_code[4:]}"


def key_groups(key: bytes) -> list[str]:
    """An authenticator's secret key in base32 (what apps take when typed), in fours."""
    text = b32encode(key).decode().rstrip("=")
    return [text[i : i + 4] for i in range(0, len(text), 4)]
