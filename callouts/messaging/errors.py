"""What a provider error means for us, decided once for the REST answers and the status
callbacks alike, from Twilio's documented error codes (twilio.com/docs/api/errors).

Pure. Four kinds:
- PERSON:   this number cannot be reached on this channel (invalid, opted out with STOP,
            not a mobile, unknown handset). Only these mark a person unreachable.
- REQUEST:  the request itself is wrong (an empty body or `To`, our sender not allowed to
            send there): sending it again cannot help, and it is not the person's fault.
- PROVIDER: the provider did not take it (429 too many requests, 5xx, our account or
            credentials refused). Known not to have reached the provider: retried.
- UNKNOWN:  the provider may or may not have taken it (a timeout, a connection dropped
            after the request was written). Never sent again blindly: reconciled first.
"""

PERSON, REQUEST, PROVIDER, UNKNOWN = "person", "request", "provider", "unknown"

PERSON_CODES = {
    13223: "invalid phone number format",
    13224: "not a valid number to call",
    21211: "invalid 'To' number",
    21214: "'To' number cannot be reached",
    21217: "not a valid number to call",
    21407: "number not supported for this message",
    21610: "the person replied STOP",
    21612: "cannot send to this number",
    21614: "not a mobile number",
    30003: "handset unreachable",
    30004: "message blocked by the handset",
    30005: "unknown handset",
    30006: "landline or unreachable carrier",
}
REQUEST_CODES = {
    21215: "calls to this country are not allowed on our account",
    21408: "SMS to this region are not allowed on our account",
    21602: "message body is empty",
    21603: "'From' number missing",
    21604: "'To' number missing",
    21606: "our 'From' number cannot send SMS",
    21608: "trial account: number not verified",
    21617: "message body too long",
}
PROVIDER_CODES = {
    20003: "our credentials were refused",
    20005: "our account is not active",
    20429: "too many requests",
    20500: "provider error",
    20503: "provider unavailable",
}


def classify(http_status: int | None, code: int | str | None) -> str:
    """A REST answer: HTTP status and Twilio error code."""
    code = _number(code)
    if code in PERSON_CODES:
        return PERSON
    if code in PROVIDER_CODES:
        return PROVIDER
    if code in REQUEST_CODES:
        return REQUEST
    if http_status is None:
        return UNKNOWN
    if http_status == 429 or http_status >= 500 or http_status in (401, 403):
        return PROVIDER
    if 400 <= http_status < 500:
        return REQUEST
    return UNKNOWN


def is_person_specific(code: int | str | None) -> bool:
    """A failed or undelivered status callback: is it about this person's number?"""
    return _number(code) in PERSON_CODES


def describe(code: int | str | None) -> str:
    number = _number(code)
    for table in (PERSON_CODES, REQUEST_CODES, PROVIDER_CODES):
        if number in table:
            return table[number]
    return ""


def _number(code) -> int | None:
    try:
        return int(code)
    except (TypeError, ValueError):
        return None
