"""Logs for an operations team: one JSON object a line in production, phone numbers masked,
and a request id on every line a request causes.

Standard library only: a Formatter, a Filter and a middleware.
"""

import contextvars
import json
import logging
import re
import uuid
from datetime import UTC, datetime

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
# E.164 and UK national forms: +447700900123, 07700 900123. The last three digits stay, so
# a line can still be matched with a person by someone who already knows the number.
PHONE = re.compile(r"(?<![\w+])(\+?\d[\d ]{8,16}\d)(?!\w)")
SECRET_WORDS = re.compile(r"(?i)(token|password|secret|authorization)(['\"]?\s*[:=]\s*)(\S+)")


def mask(text: str) -> str:
    text = PHONE.sub(lambda m: "•" * 4 + re.sub(r"\D", "", m.group(1))[-3:], text)
    return SECRET_WORDS.sub(lambda m: m.group(1) + m.group(2) + "[hidden]", text)


class MaskingFilter(logging.Filter):
    """Masks phone numbers and secrets in every record, and stamps the request id."""

    def filter(self, record):
        record.request_id = _request_id.get()
        message = mask(record.getMessage())
        record.msg, record.args = message, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = mask(logging.Formatter().formatException(record.exc_info))
        return True


class JsonFormatter(logging.Formatter):
    FIELDS = ("incident", "reference")

    def format(self, record):
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if getattr(record, "request_id", ""):
            line["request_id"] = record.request_id
        for name in self.FIELDS:
            if hasattr(record, name):
                line[name] = getattr(record, name)
        if record.exc_text:
            line["exception"] = record.exc_text
        return json.dumps(line, ensure_ascii=False)


def request_id_middleware(get_response):
    """Each request gets an id (or keeps the proxy's X-Request-ID), on its log lines and in
    its response, so one request can be followed through the logs."""

    def middleware(request):
        given = request.headers.get("X-Request-ID", "")
        request_id = given if re.fullmatch(r"[\w.-]{1,64}", given) else uuid.uuid4().hex[:16]
        token = _request_id.set(request_id)
        try:
            response = get_response(request)
        finally:
            _request_id.reset(token)
        response["X-Request-ID"] = request_id
        return response

    return middleware
