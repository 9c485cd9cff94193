"""The Twilio gateway, with the official SDK.

Reads TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM_NUMBER and optionally
TWILIO_API_BASE (another base URL for the REST API, e.g. the local stand-in in
bench/twilio_standin.py; edge and region stay unset then). Status callbacks and
call TwiML URLs are built from PUBLIC_BASE_URL.

Requests go through the SDK's own HTTP client (requests), one for the process: every
sending thread's client shares its session and so its kept-alive connections. Proxies
come from the environment (HTTPS_PROXY, NO_PROXY) as requests reads them.
"""

import functools

import requests
import urllib3
from django.conf import settings
from requests.adapters import HTTPAdapter
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from callouts.messaging import budget, errors
from callouts.messaging.gateways.base import (
    AmbiguousError,
    Gateway,
    GatewayError,
    PermanentError,
    RejectedError,
    Sent,
    TemporaryError,
    status_callback_url,
    voice_url,
)

# Shorter than the sending lease (CALLOUTS_SENDING_LEASE), so that once the lease
# is over no request of ours can still reach Twilio.
HTTP_TIMEOUT = 10
CALL_EVENTS = ["initiated", "ringing", "answered", "completed"]
# How far back a lost outcome is looked for: messages to one number since ours was saved.
LOOKUP_LIMIT = 1000


def classify(error: Exception) -> GatewayError:
    """A failed request as ours, by what it says about whether Twilio took the message."""
    if isinstance(error, TwilioRestException):
        kind = errors.classify(error.status, error.code)
        code = str(error.code or error.status or "")
        text = f"HTTP {error.status}: {error.msg}"
        return {
            errors.PERSON: PermanentError,
            errors.REQUEST: RejectedError,
            errors.PROVIDER: TemporaryError,
        }.get(kind, AmbiguousError)(text, code)
    if never_connected(error):
        return TemporaryError(f"{type(error).__name__}: {error}", "network")
    # A read timeout, or a connection dropped once the request was written: Twilio
    # may have taken it.
    return AmbiguousError(f"{type(error).__name__}: {error}", "timeout")


def never_connected(error: Exception) -> bool:
    """The request cannot have reached Twilio: the connection was refused or never made."""
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return True
    if not isinstance(error, requests.exceptions.ConnectionError):
        return False
    seen, cause = set(), error
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, urllib3.exceptions.NewConnectionError | ConnectionRefusedError):
            return True
        if isinstance(cause, urllib3.exceptions.MaxRetryError):
            cause = cause.reason
            continue
        nested = cause.args[0] if cause.args and isinstance(cause.args[0], Exception) else None
        cause = nested or cause.__cause__ or cause.__context__
    return False


@functools.cache
def http_client(pool_size: int) -> TwilioHttpClient:
    """The SDK's client, one for the process: every sending thread's client shares its
    session, whose pool keeps a connection open for each request the budget lets be in
    flight at once. Never retried by requests: whether a failed request may be sent
    again is the gateway's to decide (classify)."""
    client = TwilioHttpClient(timeout=HTTP_TIMEOUT)
    adapter = HTTPAdapter(pool_connections=1, pool_maxsize=pool_size, max_retries=0)
    client.session.mount("https://", adapter)
    client.session.mount("http://", adapter)
    return client


class TwilioGateway(Gateway):
    def __init__(self):
        base_url = settings.TWILIO_API_BASE.rstrip("/")
        self.client = Client(
            settings.TWILIO_ACCOUNT_SID,
            settings.TWILIO_AUTH_TOKEN,
            http_client=http_client(budget.size()),
        )
        if base_url:
            self.client.api.base_url = base_url
        self.from_number = settings.TWILIO_FROM_NUMBER
        # The SDK builds these lazily; build them now, before threads share the work.
        self.messages, self.calls = self.client.messages, self.client.calls

    def send_sms(self, message) -> Sent:
        try:
            created = self.messages.create(
                to=message.to_number,
                from_=self.from_number,
                body=message.body,
                status_callback=status_callback_url(message),
            )
        except (TwilioRestException, requests.RequestException) as e:
            raise classify(e) from e
        return Sent(created.sid, created.status or "queued")

    def place_call(self, message) -> Sent:
        try:
            created = self.calls.create(
                to=message.to_number,
                from_=self.from_number,
                url=voice_url(message),
                method="POST",
                status_callback=status_callback_url(message),
                status_callback_event=CALL_EVENTS,
                status_callback_method="POST",
                timeout=30,
            )
        except (TwilioRestException, requests.RequestException) as e:
            raise classify(e) from e
        return Sent(created.sid, created.status or "queued")

    def cancel_call(self, message):
        # "canceled" only stops a call that nobody has picked up: one in progress
        # is left to its script, which says the callout is no longer needed.
        try:
            self.client.calls(message.provider_sid).update(status="canceled")
        except (TwilioRestException, requests.RequestException) as e:
            raise classify(e) from e

    def find_sent(self, message, exclude=frozenset()) -> str | None:
        """A message (or call) of ours to that number since it was saved, if Twilio has one.

        Twilio lists newest first: we read back page by page until we pass the moment our
        message was saved, so however many messages that number has had since (an on-call
        phone during a storm has dozens), ours is among those read.
        """
        listing = self.calls if message.channel == "voice" else self.messages
        matches = []
        try:
            for sent in listing.stream(
                to=message.to_number, from_=self.from_number, page_size=100, limit=LOOKUP_LIMIT
            ):
                if not _after(sent.date_created, message):
                    break
                same = message.channel == "voice" or sent.body == message.body
                if same and sent.sid not in exclude:
                    matches.append(sent.sid)
        except (TwilioRestException, requests.RequestException) as e:
            raise classify(e) from e
        return matches[-1] if matches else None  # the oldest since ours was saved


def _after(created, message) -> bool:
    return created is None or created >= message.created_at.replace(microsecond=0)
