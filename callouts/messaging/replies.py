"""What an SMS reply means. Pure: text in, a Reply out.

Accept: Y, YES, 1, ATTEND (and a few like them), optionally with an ETA in
minutes: "Y 20", "yes 20 mins", "Y, ETA 20". Decline: N, NO, 2, DECLINE.
Status after accepting: "ETA 15", "ARRIVED". Any case, stray spaces and
punctuation. An incident reference may appear anywhere ("Y TANGO-27", "KNT TANGO 27 N").
Anything else is not understood: a guess could send someone who is not coming.

Carrier keywords (STOP, HELP, START...) are matched as Twilio matches them: the
whole message is the keyword.
"""

import re
import unicodedata
from dataclasses import dataclass

from callouts import rules
from callouts.messaging.reference import WORDS

ACCEPT, DECLINE, ETA, ARRIVED = "accept", "decline", "eta", "arrived"
OPT_OUT, OPT_IN, HELP, UNKNOWN = "opt_out", "opt_in", "help", "unknown"

ACCEPT_WORDS = {"Y", "YES", "YEP", "YEAH", "1", "ATTEND", "ATTENDING", "ACCEPT"}
DECLINE_WORDS = {"N", "NO", "NOPE", "2", "DECLINE", "DECLINED", "UNAVAILABLE"}
ARRIVED_WORDS = {"ARRIVED", "ARRIVE", "ONSCENE"}
MINUTE_WORDS = {"M", "MIN", "MINS", "MINUTE", "MINUTES"}
# Twilio's own keywords on long codes; it still forwards them to us.
OPT_OUT_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
OPT_IN_WORDS = {"START", "UNSTOP"}
HELP_WORDS = {"HELP", "INFO"}

KEYWORDS = ACCEPT_WORDS | DECLINE_WORDS | ARRIVED_WORDS | MINUTE_WORDS | {"ETA"}
MAX_ETA_MINUTES = 600

REFERENCE = re.compile(
    r"(?:\b([A-Z0-9]{1,12})[\s\-_./]*)?\b(" + "|".join(WORDS) + r")[\s\-_./]*(\d{2,3})\b"
)


NEGATIVE = re.compile(r"[-\u2212]\s*\d")


# Twilio's ids: two letters and 32 hex digits; room for others of that shape, not for more.
SID = re.compile(r"[A-Za-z]{2}[0-9A-Za-z_-]{1,62}")
# A sender: E.164, or an alphanumeric sender id of at most 11 characters.
SENDER = re.compile(r"\+[1-9]\d{6,14}|[A-Za-z0-9 ]{1,11}")
MAX_BODY = 1600


def inbound_problem(sid: str, sender: str, to: str, body: str) -> str:
    """Why an inbound SMS webhook's fields cannot be a message someone sent ("" if they can)."""
    if not SID.fullmatch(sid or ""):
        return "MessageSid is not a Twilio message id"
    if not SENDER.fullmatch(sender or ""):
        return "From is not a phone number or sender id"
    if to and not SENDER.fullmatch(to):
        return "To is not a phone number"
    if rules.CONTROL.search(body or ""):
        return "Body holds control characters"
    if len(body or "") > MAX_BODY:
        return "Body is longer than an SMS can be"
    return ""


def not_ours(account_sid: str, to: str | None, *, account: str, numbers) -> str:
    """Why a signed webhook is not for this installation ("" if it is): another Twilio
    account's (`account_sid` given and not `account`), or an SMS sent `to` a number that is
    not one of `numbers` (None: not an SMS, not looked at)."""
    if account_sid and account_sid != account:
        return "AccountSid is not our Twilio account"
    if to is not None and to not in numbers:
        return "To is not one of our numbers"
    return ""


@dataclass(frozen=True)
class Reply:
    kind: str
    eta_minutes: int | None = None
    # "TANGO-27": the part of a reference that identifies it; the force code is optional.
    reference: str | None = None


def reference_key(reference: str) -> str:
    """The WORD-NN tail of a full reference, as `parse` returns it."""
    parts = reference.upper().split("-")
    return "-".join(parts[-2:])


def parse(text: str) -> Reply:
    # Full-width and other compatibility forms ("Ｙ ２０") read as what they look like.
    upper = unicodedata.normalize("NFKC", text or "").upper()
    whole = re.sub(r"[^A-Z0-9]", "", upper)
    if whole in OPT_OUT_WORDS:
        return Reply(OPT_OUT)
    if whole in OPT_IN_WORDS:
        return Reply(OPT_IN)
    if whole in HELP_WORDS:
        return Reply(HELP)

    reference = None
    match = REFERENCE.search(upper)
    if match:
        reference = f"{match.group(2)}-{match.group(3)}"
        code = match.group(1)
        # What looked like a force code may be the answer itself ("Y TANGO 27", "20 TANGO 27").
        start = match.start(2) if code and (code in KEYWORDS or code.isdigit()) else match.start()
        upper = upper[:start] + " " + upper[match.end() :]
    if NEGATIVE.search(upper):
        # "Y -5" or "ETA -5": the minus is not noise, and no ETA is negative.
        return Reply(UNKNOWN, None, reference)
    # "Y20" is "Y 20"; punctuation is noise.
    spaced = re.sub(r"([A-Z])(\d)|(\d)([A-Z])", r"\1\3 \2\4", upper)
    tokens = re.sub(r"[^A-Z0-9]+", " ", spaced).split()
    kind, eta = _meaning(tokens)
    return Reply(kind, eta, reference)


def _meaning(tokens: list[str]) -> tuple[str, int | None]:
    if not tokens:
        return UNKNOWN, None
    head, rest = tokens[0], tokens[1:]
    if head in ACCEPT_WORDS:
        eta = _eta(rest)
        if eta is False:
            return UNKNOWN, None
        return ACCEPT, eta
    if head in DECLINE_WORDS and not rest:
        return DECLINE, None
    if head == "ETA":
        eta = _eta(rest)
        if eta is None or eta is False:  # not `in (None, False)`: 0 == False
            return UNKNOWN, None
        return ETA, eta
    if head in ARRIVED_WORDS and not rest:
        return ARRIVED, None
    if tokens == ["ON", "SCENE"]:
        return ARRIVED, None
    return UNKNOWN, None


def _eta(tokens: list[str]) -> int | None | bool:
    """Minutes from ["20"], ["ETA", "20", "MINS"]...; None when absent, False when not an ETA."""
    tokens = [t for t in tokens if t != "ETA"]
    if not tokens:
        return None
    number, unit = tokens[0], tokens[1:]
    if not number.isdigit() or any(u not in MINUTE_WORDS for u in unit) or len(unit) > 1:
        return False
    minutes = int(number)
    if minutes > MAX_ETA_MINUTES:
        return False
    return minutes
