"""Mobile numbers: read exactly as typed or refused, validated with phonenumbers, stored
in E.164."""

import re

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType

DEFAULT_REGION = "GB"

# Ofcom reserves 07700 900000-900999 for drama and training. phonenumbers
# (rightly) calls them unallocated, but forces use them for exercises and the
# demo cadre, so they are accepted as mobiles.
OFCOM_DRAMA_PREFIX = "+447700900"

MOBILE_TYPES = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}


# Besides the digits 0-9: what people put between them. phonenumbers would also read
# letters as a phone keypad (0770O 9OO002 as 07706 966002, someone else's number) and drop
# much else; nothing but these is let through to it. Dashes include those a word processor
# writes for a hyphen, spaces the no-break space a web page gives when copied.
SEPARATORS = frozenset(" ()[]-\u2010\u2011\u2012\u2013\u2014\u2212")
DIGITS = frozenset("0123456789")


class InvalidMobile(ValueError):
    pass


def typed_problem(text: str) -> str | None:
    """Why a mobile as typed cannot be read exactly as it is, or None: only digits, spaces,
    brackets, dashes and a leading + are allowed. The first other character is named."""
    text = text.strip()
    for position, ch in enumerate(text):
        if ch in DIGITS or ch in SEPARATORS or ch.isspace():
            continue
        if ch == "+":
            if position == 0:
                continue
            return "A + can only start the number, as in +44 7700 900123."
        shown = f"“{ch}”" if ch.isprintable() else f"U+{ord(ch):04X}"
        return f"The mobile number cannot contain {shown}: use digits only."
    return None


def normalise_mobile(raw: str, region: str = DEFAULT_REGION) -> str:
    """Return the number in E.164, or raise InvalidMobile with a message for a person. The
    number is exactly the digits typed: anything but digits and separators is refused."""
    text = (raw or "").strip()
    if not text:
        raise InvalidMobile("Enter a mobile number.")
    if problem := typed_problem(text):
        raise InvalidMobile(problem)
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException:
        raise InvalidMobile(f"“{text}” is not a phone number.") from None
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if e164.startswith(OFCOM_DRAMA_PREFIX) and len(e164) == len(OFCOM_DRAMA_PREFIX) + 3:
        return e164
    # number_type is UNKNOWN exactly when is_valid_number is false; asking it alone halves
    # the time an import of thousands of rows spends here.
    kind = phonenumbers.number_type(number)
    if kind == PhoneNumberType.UNKNOWN:
        raise InvalidMobile(f"“{text}” is not a valid phone number.")
    if kind not in MOBILE_TYPES:
        raise InvalidMobile(f"“{text}” is not a mobile number: callouts are sent by SMS.")
    return e164


def display(e164: str) -> str:
    """A stored number as a person would write it (07700 900123 for UK numbers)."""
    try:
        number = phonenumbers.parse(e164, None)
    except NumberParseException:
        return e164
    if number.country_code == 44:
        national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
        return national
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


# Phone numbers inside text (a free-text field, a provider's error), to take them out of
# what leaves the system. Only E.164 / international (+44 7700 900123, 0044 …) and UK
# national forms (07700 900123, (01632) 960123, 020-7946-0000), with spaces, dashes and
# brackets between the digits. Never a date, a time, an ISO 8601 timestamp (its +01:00 is
# no number), a decimal, a callsign or an incident reference: a match does not start right
# after a digit, a + or a digit's "-", "/", ":" or "." (14:02 - 2026-07-01 15:00), nor with
# a date (01-07-2026 - 02-07-2026), and does not run on into a digit, nor into ":" or "."
# and a digit (01-07-2026 14:02).
_SEP = r"[ \t\u00a0()\-\u2010-\u2015\u2212]{0,3}"
_OPEN = r"(?:\((?=[0+][\d ]{0,6}\)))?"  # "(01632) 960123": the bracket goes with it
_NOT_A_DATE = r"(?!\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}(?!\d))"
_INTERNATIONAL = rf"(?:\+|00){_SEP}[1-9](?:{_SEP}\d){{6,14}}"
_NATIONAL = rf"0{_SEP}[1-9](?:{_SEP}\d){{8,9}}"
PHONE_IN_TEXT = re.compile(
    rf"(?=[(+0])(?<![\d+])(?<!\d[-/:.T]){_OPEN}{_NOT_A_DATE}(?:{_INTERNATIONAL}|{_NATIONAL})(?!\d|[:.]\d)"
)


def scrub(text: str, replacement: str = "[number]") -> str:
    """The text with every phone number in it replaced."""
    return PHONE_IN_TEXT.sub(replacement, text)
