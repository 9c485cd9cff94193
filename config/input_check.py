"""Text no one types is refused at the door: NUL bytes and lone surrogates.

PostgreSQL cannot store a NUL byte in text (nor look one up), and a lone surrogate
("\\ud800" in JSON) cannot be encoded as UTF-8 for the database, a log line or a page:
either one reaching a query or a template was a 500. No person or phone sends them, so
`refuse_unsafe_input`, early in settings.MIDDLEWARE (before the webhook shortcut, so
Twilio's webhooks pass it too), answers 400 when the path, a query parameter, a form
field or file name, a header, or (under /api/) a string of the JSON body holds one:
JSON under /api/, a short plain page elsewhere. Nothing behind it sees such text.

The SMS webhook is the hot path: its check is a few regular-expression searches over the
joined path, headers, query and form values (about 10 µs of the webhook's ~1 ms).
"""

import json
import logging
import re

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import HttpResponseBadRequest, JsonResponse

log = logging.getLogger("standby.security")

UNSAFE = re.compile("[\x00\ud800-\udfff]")
API_PREFIX = "/api/"
MESSAGE = "NUL bytes and unpaired surrogates are not accepted in any text"


def unsafe_text(*texts) -> bool:
    """Whether any of `texts` holds a NUL byte or a lone surrogate."""
    return any(UNSAFE.search(text) for text in texts if text)


def json_strings(data):
    """Every string (keys too) in decoded JSON, without recursion (any depth)."""
    waiting = [data]
    while waiting:
        item = waiting.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            waiting.extend(item.keys())
            waiting.extend(item.values())
        elif isinstance(item, list):
            waiting.extend(item)


def unsafe_json(body: bytes) -> bool:
    # A cheap look first: JSON writes both as \u escapes (a raw NUL is not JSON at all).
    if b"\\u" not in body and b"\x00" not in body:
        return False
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return b"\x00" in body  # not JSON: the view says so, unless it holds a NUL
    return unsafe_text("".join(json_strings(data)))


def _joined(querydict) -> str:
    return "".join(k + "".join(values) for k, values in querydict.lists())


def where_unsafe(request) -> str:
    """Where the request holds a NUL or lone surrogate ("" if nowhere)."""
    if unsafe_text(request.path_info):
        return "path"
    headers = "".join(v for k, v in request.META.items() if k.startswith("HTTP_"))
    if unsafe_text(headers):
        return "header"
    try:
        if unsafe_text(_joined(request.GET)):
            return "query parameter"
    except TooManyFieldsSent:
        return ""  # the view (or Django) refuses it with its own 400
    if request.path_info.startswith(API_PREFIX):
        # The API reads JSON bodies only (callouts.web.api), never request.POST.
        try:
            body = request.body
        except RequestDataTooBig:
            return ""  # the API answers 413
        return "JSON body" if unsafe_json(body) else ""
    if request.method in ("POST", "PUT", "PATCH"):
        # Parsing errors here are Django's own 400s, as when CSRF or a view reads it.
        files = "".join(f.name or "" for f in request.FILES.values())
        if unsafe_text(_joined(request.POST), files):
            return "form field"
    return ""


def refuse_unsafe_input(get_response):
    def middleware(request):
        where = where_unsafe(request)
        if not where:
            return get_response(request)
        log.warning(
            "Refused a request with a NUL or lone surrogate in a %s: %s %s",
            where,
            request.method,
            ascii(request.path_info)[:200],
        )
        if request.path_info.startswith(API_PREFIX):
            return JsonResponse({"error": f"{MESSAGE} (found in a {where})"}, status=400)
        return HttpResponseBadRequest(
            f"Bad request: {MESSAGE} (found in a {where}).\n",
            content_type="text/plain; charset=utf-8",
        )

    return middleware
