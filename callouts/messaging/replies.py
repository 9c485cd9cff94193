"""What an SMS reply means. Pure: text in, a Reply out.

Accept: Y, YES, 1, ATTEND (and a few like them), optionally with an ETA: "Y 20",
"yes 20 mins", "Y, ETA 20", "Y 1hr", "yes half an hour", "Y 1h30", "Y 20 min away",
"Yes, be there in an hour". On its way: "Yes on my way", "omw 20", "en route".
Decline: N, NO, 2, DECLINE, "can't", "not available", with an apology or a reason after it
("No sorry", "N - at hospital", "Sorry, no"). Status after accepting: "ETA 15",
"ETA 1hr", "ARRIVED". Any case, stray spaces and punctuation. An incident reference may
appear anywhere ("Y TANGO-27", "KNT TANGO 27 N").

Anything else is not understood, and never guessed: a guess could send someone who is not
coming, or leave a place open for someone who is. A decline's reason is read only when
nothing in it could mean coming ("No problem, on my way", "No, in an hour", "N maybe" are
not understood); an acceptance takes nothing after it but an ETA and words of being on the
way ("Y or N", "Y maybe", "Yes but not till 6" are not understood). A time in words needs
its unit ("twenty mins", not "twenty"); a vague one ("a couple of hours", "soon") is not one.

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

ACCEPT_WORDS = {"Y", "YES", "YEP", "YEAH", "YUP", "1", "ATTEND", "ATTENDING", "ACCEPT"}
DECLINE_WORDS = {"N", "NO", "NOPE", "NAH", "2", "DECLINE", "DECLINED", "UNAVAILABLE"}
# Declines that are more than one word, or words that only decline in front.
DECLINE_PHRASES = (
    ("NOT", "AVAILABLE"),
    ("CANT",),
    ("CANNOT",),
    ("CAN", "NOT"),
    ("UNABLE",),
)
ARRIVED_WORDS = {"ARRIVED", "ARRIVE", "ONSCENE"}
MINUTE_WORDS = {"M", "MIN", "MINS", "MINUTE", "MINUTES"}
HOUR_WORDS = {"H", "HR", "HRS", "HOUR", "HOURS"}
# Said before a decline or after it: no meaning of their own.
APOLOGY_WORDS = {"SORRY", "SRY", "SOZ", "APOLOGIES", "AFRAID"}
# Being on the way: an acceptance on its own ("omw"), or after one ("Yes on my way").
ON_MY_WAY = (
    ("ON", "MY", "WAY"),
    ("ON", "THE", "WAY"),
    ("ON", "WAY"),
    ("OMW",),
    ("OTW",),
    ("EN", "ROUTE"),
    ("ENROUTE",),
    ("COMING",),
    ("LEAVING", "NOW"),
)
# What may stand beside an acceptance and its ETA without changing it.
ACCEPT_FILLERS = (
    *ON_MY_WAY,
    ("ILL", "BE", "THERE"),
    ("WILL", "BE", "THERE"),
    ("BE", "THERE"),
    ("WITH", "YOU"),
    ("IM",),
    ("I", "AM"),
    ("ETA",),
    ("NOW",),
    ("OK",),
    ("OKAY",),
    ("SURE",),
    ("THANKS",),
    ("THX",),
    *((word,) for word in sorted(ACCEPT_WORDS) if not word.isdigit()),
)
# Around a time only: "in 20", "about an hour", "20 min away" ("Y away" is not a time).
BEFORE_TIME = {"IN", "ABOUT", "AROUND", "ROUGHLY", "APPROX", "APPROXIMATELY"}
AFTER_TIME = {"AWAY"}
# In a decline's reason, any of these may mean coming, or not sure: not understood.
NOT_A_REASON = (
    {"ETA", "OMW", "OTW", "WAY", "ROUTE", "ENROUTE", "COMING"}
    | {"PROBLEM", "PROBLEMS", "PROB", "PROBS", "WORRIES", "WORRY", "BOTHER", "SWEAT"}
    | {"OK", "OKAY", "SURE", "FINE", "CAN", "COULD", "WILL", "ILL", "SHOULD"}
    | {"MAYBE", "PERHAPS", "POSSIBLY", "PROBABLY", "UNSURE", "IF", "OR", "UNLESS"}
    | {"LATER", "SOON", "ONCE", "AFTER", "WHEN", "TILL", "UNTIL", "HALF", "QUARTER"}
    | {"ARRIVED", "ACCEPT", "ATTEND", "ATTENDING", "ONSCENE"}
    | ACCEPT_WORDS
    | MINUTE_WORDS
    | HOUR_WORDS
)
# "No, not coming": a negation takes the word after it out of the reason.
NEGATIONS = {"NOT", "CANT", "CANNOT", "WONT", "UNABLE"}
NEGATED = {"COMING", "COME", "ATTENDING", "ATTEND", "AVAILABLE", "ABLE", "FREE", "THERE"}
# Twilio's own keywords on long codes; it still forwards them to us.
OPT_OUT_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
OPT_IN_WORDS = {"START", "UNSTOP"}
HELP_WORDS = {"HELP", "INFO"}

# fmt: off
UNITS = (
    "ZERO", "ONE", "TWO", "THREE", "FOUR", "FIVE", "SIX", "SEVEN", "EIGHT", "NINE", "TEN",
    "ELEVEN", "TWELVE", "THIRTEEN", "FOURTEEN", "FIFTEEN", "SIXTEEN", "SEVENTEEN", "EIGHTEEN",
    "NINETEEN",
)
# fmt: on
NUMBER_WORDS = {word: value for value, word in enumerate(UNITS)}
TENS = {"TWENTY": 20, "THIRTY": 30, "FORTY": 40, "FOURTY": 40, "FIFTY": 50, "SIXTY": 60}

# Words the parser reads: before a reference, one of these is part of the answer, not a
# force code ("Y TANGO 27", "omw TANGO 27").
KEYWORDS = (
    ACCEPT_WORDS
    | DECLINE_WORDS
    | ARRIVED_WORDS
    | MINUTE_WORDS
    | HOUR_WORDS
    | APOLOGY_WORDS
    | NOT_A_REASON
    | BEFORE_TIME
    | AFTER_TIME
    | NEGATIONS
    | NEGATED
    | set(NUMBER_WORDS)
    | set(TENS)
    | {word for phrase in (*ACCEPT_FILLERS, *DECLINE_PHRASES) for word in phrase}
    | {"A", "AN", "AND", "OF", "QUARTERS"}
)
MAX_ETA_MINUTES = 600

REFERENCE = re.compile(
    r"(?:\b([A-Z0-9]{1,12})[\s\-_./]*)?\b(" + "|".join(WORDS) + r")[\s\-_./]*(\d{2,3})\b"
)
# A number with its unit run together ("1HR", "20MINS") is not a force code.
NUMBER_AND_UNIT = re.compile(r"\d+[A-Z]+")

NEGATIVE = re.compile(r"[-\u2212]\s*\d")
# "1.5 hours", "1,5hrs": read as minutes before punctuation is dropped.
DECIMAL_HOURS = re.compile(r"\b(\d{1,2})[.,](\d{1,2})\s*(?:HOURS|HOUR|HRS|HR|H)\b")
APOSTROPHES = re.compile(r"['\u2018\u2019\u02bc`]")


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
    # Full-width and other compatibility forms ("Ｙ ２０") read as what they look like;
    # "can't" is CANT, "I'm" IM.
    upper = APOSTROPHES.sub("", unicodedata.normalize("NFKC", text or "").upper())
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
        # What looked like a force code may be part of the answer ("Y TANGO 27",
        # "20 TANGO 27", "Y 1HR TANGO 27").
        answer = code and (code in KEYWORDS or code.isdigit() or NUMBER_AND_UNIT.fullmatch(code))
        start = match.start(2) if answer else match.start()
        upper = upper[:start] + " " + upper[match.end() :]
    if NEGATIVE.search(upper):
        # "Y -5" or "ETA -5": the minus is not noise, and no ETA is negative.
        return Reply(UNKNOWN, None, reference)
    upper = DECIMAL_HOURS.sub(_decimal_hours, upper)
    # "Y20" is "Y 20", "1hr30" is "1 HR 30"; punctuation is noise.
    spaced = re.sub(r"(?<=[A-Z])(?=\d)|(?<=\d)(?=[A-Z])", " ", upper)
    tokens = re.sub(r"[^A-Z0-9]+", " ", spaced).split()
    kind, eta = _meaning(tokens)
    return Reply(kind, eta, reference)


def _decimal_hours(match) -> str:
    hours = float(f"{match.group(1)}.{match.group(2)}")
    return f" {round(hours * 60)} MIN "


def _meaning(tokens: list[str]) -> tuple[str, int | None]:
    if not tokens:
        return UNKNOWN, None
    if tokens[0] in APOLOGY_WORDS:
        # "Sorry, no": an apology in front of a decline, and only of a decline.
        rest = tokens[1:]
        if _decline_head(rest) is None:
            return UNKNOWN, None
        tokens = rest
    head, rest = tokens[0], tokens[1:]
    if head in ACCEPT_WORDS:
        return _accepted(rest)
    if _starts_with(tokens, ON_MY_WAY):
        return _accepted(tokens)
    after_decline = _decline_head(tokens)
    if after_decline is not None:
        if head.isdigit() and after_decline:
            return UNKNOWN, None  # "2 20": a digit takes nothing after it
        # "Can't attend", "Unable to come": the negation in front reaches the word after it.
        reason = after_decline if head in DECLINE_WORDS else ["NOT", *after_decline]
        return (DECLINE, None) if _is_reason(reason) else (UNKNOWN, None)
    if head == "ETA":
        eta = _accept_tail(rest)
        if eta is None or eta is False:  # not `in (None, False)`: 0 == False
            return UNKNOWN, None
        return ETA, eta
    if head in ARRIVED_WORDS and not rest:
        return ARRIVED, None
    if tokens == ["ON", "SCENE"]:
        return ARRIVED, None
    return UNKNOWN, None


def _accepted(tail: list[str]) -> tuple[str, int | None]:
    eta = _accept_tail(tail)
    if eta is False:
        return UNKNOWN, None
    return ACCEPT, eta


def _decline_head(tokens: list[str]) -> list[str] | None:
    """What follows a decline at the start of `tokens`; None when they do not start with one."""
    if tokens and tokens[0] in DECLINE_WORDS:
        return tokens[1:]
    for phrase in DECLINE_PHRASES:
        if tuple(tokens[: len(phrase)]) == phrase:
            return tokens[len(phrase) :]
    return None


def _is_reason(tokens: list[str]) -> bool:
    """An apology or a reason after a decline ("sorry", "at hospital", "not available"):
    nothing in it that could mean coming, a time, or not sure."""
    words = []
    negated = False
    for token in tokens:
        if token in NEGATIONS:
            negated = True
        elif negated and token in NEGATED:
            negated = False
        elif negated and token in ("TO", "BE"):
            continue
        else:
            negated = False
            words.append(token)
    return not any(t in NOT_A_REASON or any(ch.isdigit() for ch in t) for t in words)


def _starts_with(tokens: list[str], phrases) -> bool:
    return any(tuple(tokens[: len(p)]) == p for p in phrases)


def _accept_tail(tokens: list[str]) -> int | None | bool:
    """The ETA in minutes in what follows an acceptance (["20"], ["ETA", "1", "HR"], ["ON",
    "MY", "WAY"]...); None when there is none, False when something else is there."""
    left = []
    i = 0
    while i < len(tokens):
        for phrase in ACCEPT_FILLERS:
            if tuple(tokens[i : i + len(phrase)]) == phrase:
                i += len(phrase)
                break
        else:
            left.append(tokens[i])
            i += 1
    if not left:
        return None
    while left and left[0] in BEFORE_TIME:
        left = left[1:]
    while left and left[-1] in AFTER_TIME:
        left = left[:-1]
    minutes = _minutes(left)
    if minutes is None or minutes > MAX_ETA_MINUTES:
        return False
    return minutes


def _minutes(tokens: list[str]) -> int | None:
    """A time in minutes: "20", "20 MINS", "1 HR", "1 H 30", "AN HOUR", "HALF AN HOUR",
    "AN HOUR AND A HALF", "TWENTY MINUTES"; None when it is not one of those."""
    tokens, worded = _number_words(tokens)
    units = ["H" if t in HOUR_WORDS else "M" if t in MINUTE_WORDS else t for t in tokens]
    said = " ".join(units)
    if worded and not any(u in ("H", "M") for u in units):
        return None  # "Y twenty": a number in words needs its unit
    # The number, if any, has been checked by _number_words to be digits.
    for pattern, value in TIMES:
        found = pattern.fullmatch(said)
        if found:
            return value(*(int(g) for g in found.groups() if g is not None))
    return None


def _number_words(tokens: list[str]) -> tuple[list[str], bool]:
    """Tokens with number words as digits ("TWENTY FIVE" -> "25"); whether any were words."""
    out, worded, i = [], False, 0
    while i < len(tokens):
        token = tokens[i]
        if token in TENS:
            value = TENS[token]
            if i + 1 < len(tokens) and 0 < NUMBER_WORDS.get(tokens[i + 1], 0) < 10:
                value += NUMBER_WORDS[tokens[i + 1]]
                i += 1
            out.append(str(value))
            worded = True
        elif token in NUMBER_WORDS and token != "ONE":
            out.append(str(NUMBER_WORDS[token]))
            worded = True
        else:
            out.append(token)
        i += 1
    return out, worded


_N = r"(\d{1,4})"
_ONE = r"(?:AN? |ONE |1 )"
TIMES = (
    (re.compile(_N), lambda n: n),
    (re.compile(_N + " M"), lambda n: n),
    (re.compile(_N + " H"), lambda n: 60 * n),
    (
        re.compile(_N + r" H (?:AND )?(\d{1,2})(?: M)?"),
        lambda h, m: 60 * h + m if m < 60 else 10**6,
    ),
    (re.compile(f"{_ONE}H"), lambda: 60),
    (re.compile(r"(?:A )?HALF (?:AN? )?H"), lambda: 30),
    (re.compile(r"(?:A )?QUARTER (?:OF AN? )?H"), lambda: 15),
    (re.compile(r"3 QUARTERS (?:OF AN? )?H"), lambda: 45),
    (re.compile(f"{_ONE}?H AND A HALF"), lambda: 90),
    (re.compile(_N + " H AND A HALF"), lambda n: 60 * n + 30),
    (re.compile(_N + " AND A HALF H"), lambda n: 60 * n + 30),
    (re.compile(f"{_ONE}AND A HALF H"), lambda: 90),
)
