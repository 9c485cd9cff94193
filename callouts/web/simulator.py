"""The phone simulator's side of the wire: it plays Twilio.

Replies and keypresses are signed exactly as Twilio signs them (over
PUBLIC_BASE_URL + path) and handed to the project's own request handler, so
they pass through the same middleware, signature check and webhook code as
real traffic. Dispatching in-process rather than over HTTP works the same
under runserver, gunicorn and the test server, whatever PUBLIC_BASE_URL points
at (a tunnel, a proxy, or nothing listening at all). The request signals are
not sent, so the outer request's database connection is left alone.
"""

import secrets
from dataclasses import dataclass
from io import BytesIO
from urllib.parse import urlencode, urlsplit
from xml.etree import ElementTree

from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler, WSGIRequest
from twilio.request_validator import RequestValidator

_handler = None


def handler():
    global _handler
    if _handler is None:
        _handler = WSGIHandler()
    return _handler


def sign(url: str, params: dict) -> str:
    public = settings.PUBLIC_BASE_URL + url
    return RequestValidator(settings.TWILIO_AUTH_TOKEN).compute_signature(public, params)


def new_sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


@dataclass(frozen=True)
class Answer:
    status: int
    body: str


def post(url: str, params: dict, host: str) -> Answer:
    """POST form `params` to our own `url` (a path, with any query), signed as Twilio would."""
    payload = urlencode(params).encode()
    public = urlsplit(settings.PUBLIC_BASE_URL)
    path, _, query = url.partition("?")
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": query,
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "CONTENT_LENGTH": str(len(payload)),
        "HTTP_HOST": host,
        "HTTP_X_TWILIO_SIGNATURE": sign(url, params),
        "HTTP_USER_AGENT": "TwilioProxy/1.1 (Standby phone simulator)",
        "REMOTE_ADDR": "127.0.0.1",
        "SERVER_NAME": host.split(":")[0],
        "SERVER_PORT": "443" if public.scheme == "https" else "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.input": BytesIO(payload),
        "wsgi.url_scheme": public.scheme,
        "wsgi.errors": BytesIO(),
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }
    response = handler().get_response(WSGIRequest(environ))
    # Not response.close(): that sends request_finished, which would close the
    # outer request's database connection.
    body = b"".join(response) if response.streaming else response.content
    return Answer(response.status_code, body.decode("utf-8", "replace"))


def spoken(twiml: str) -> list[str]:
    """The text of every <Say> in a TwiML answer."""
    try:
        root = ElementTree.fromstring(twiml)
    except ElementTree.ParseError:
        return []
    return [" ".join((el.text or "").split()) for el in root.iter("Say") if el.text]


def gather_action(twiml: str) -> str | None:
    """Where the call posts the next key (path and query), or None when it hangs up."""
    try:
        root = ElementTree.fromstring(twiml)
    except ElementTree.ParseError:
        return None
    gather = root.find(".//Gather")
    if gather is None:
        return None
    action = urlsplit(gather.get("action", ""))
    return action.path + (f"?{action.query}" if action.query else "")
