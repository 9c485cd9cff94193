"""One interface for sending SMS and placing calls; Twilio and the simulator implement it."""

import functools
from dataclasses import dataclass

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse


@dataclass(frozen=True)
class Sent:
    """The provider took the message: its id and first status (queued, sent...)."""

    sid: str
    status: str


class GatewayError(Exception):
    def __init__(self, message: str, code: str = ""):
        super().__init__(message)
        self.code = str(code or "")


class TemporaryError(GatewayError):
    """The provider did not take it (refused connection, 429, 5xx, our account): try again."""


class PermanentError(GatewayError):
    """This number cannot be reached on this channel (invalid, opted out, not a mobile)."""


class RejectedError(GatewayError):
    """The request itself was refused (empty body or number): sending again cannot help."""


class AmbiguousError(GatewayError):
    """The provider may have taken it (a timeout, a dropped connection): reconcile, never
    resend blindly."""


class Gateway:
    def send_sms(self, message) -> Sent:
        raise NotImplementedError

    def place_call(self, message) -> Sent:
        raise NotImplementedError

    def find_sent(self, message, exclude=frozenset()) -> str | None:
        """The provider's id for `message` if it did take it (for a send whose outcome was lost);
        ids in `exclude` already belong to other messages of ours."""
        return None

    def cancel_call(self, message):
        """Stop a call that has not been answered yet (queued or ringing)."""

    def after_send(self, message):
        """Called once the send is saved (the simulator moves the status along)."""

    def send(self, message) -> Sent:
        if message.channel == "voice":
            return self.place_call(message)
        return self.send_sms(message)


def public_url(name: str, *args, query: str = "") -> str:
    path = reverse(name, args=args) if args else _path(name, *_urls())
    url = settings.PUBLIC_BASE_URL + path
    return f"{url}?{query}" if query else url


def _urls():
    """What a reversed path depends on besides its name."""
    return settings.ROOT_URLCONF, get_urlconf(), get_script_prefix()


@functools.lru_cache(maxsize=64)
def _path(name: str, *urls) -> str:
    # Each SMS carries its status-callback URL: reversing it anew was a tenth of the CPU
    # of the request in a sending thread.
    return reverse(name)


def status_callback_url(message) -> str:
    # Our own id rides along, so a callback tells us the provider's sid even
    # when the worker died before saving it.
    return public_url("twilio_status", query=f"m={message.pk}")


def voice_url(message) -> str:
    return public_url("twilio_voice", message.pk)
