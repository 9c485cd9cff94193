"""What a valid incident is: the one check used by the raise form, the API, the service
and the OpenAPI document, so that none of them can disagree.

Pure: plain values in, cleaned values or a ValidationError (a message per field,
written for a person) out. The lengths are the model's own.
"""

import re

from django.core.exceptions import ValidationError

from cadre.models import Role
from callouts.models import Incident, IncidentKind

MAX_PER_ROLE = 20
# NUL and the other C0 controls but tab and line breaks: PostgreSQL cannot store NUL.
CONTROL_CHARS = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f"
CONTROL = re.compile(f"[{CONTROL_CHARS}]")
# What str.split() and str.strip() take for space, less the controls above.
SPACE_CHARS = r"\t\n\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
# The same two checks as patterns, for the OpenAPI document (Python's re and ECMA-262 read
# them alike): text without controls, and such text that is not blank.
TEXT_PATTERN = f"^[^{CONTROL_CHARS}]*$"
FILLED_TEXT_PATTERN = f"^[^{CONTROL_CHARS}]*[^{CONTROL_CHARS}{SPACE_CHARS}][^{CONTROL_CHARS}]*$"
LOCATION_MAX = Incident._meta.get_field("location").max_length
RENDEZVOUS_MAX = Incident._meta.get_field("rendezvous").max_length
BRIEF_MAX = 5000


def clean_count(role, count) -> int:
    """How many more of a role: a whole number from 1 to MAX_PER_ROLE (JSON's 2.0 is 2)."""
    if isinstance(count, float) and count.is_integer():
        count = int(count)
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_PER_ROLE:
        raise ValidationError(f"The number of {role}s must be between 1 and {MAX_PER_ROLE}.")
    return count


def clean_needs(needs) -> dict[str, int]:
    """{role: 1..MAX_PER_ROLE}; roles asked for 0 are left out; at least one person in all."""
    if not isinstance(needs, dict):
        raise ValidationError(
            {"needs": 'Say how many people are needed for each role, e.g. {"negotiator": 2}.'}
        )
    cleaned = {}
    for role, count in needs.items():
        if role not in Role.values:
            raise ValidationError(
                {"needs": f"“{role}” is not a role (use {', '.join(Role.values)})."}
            )
        if count == 0 and not isinstance(count, bool):
            continue
        try:
            cleaned[role] = clean_count(role, count)
        except ValidationError as e:
            raise ValidationError({"needs": e.messages}) from None
    if not cleaned:
        raise ValidationError({"needs": "Ask for at least one person."})
    return cleaned


def _text(value, name, limit, errors, required_message=None) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors[name] = "Must be text."
        return ""
    if CONTROL.search(value):
        errors[name] = "Remove the control characters (such as NUL) from this text."
        return ""
    if required_message and not value.strip():
        errors[name] = required_message
    elif len(value) > limit:
        errors[name] = f"At most {limit} characters."
    return value


def clean_incident(*, kind, location, rendezvous="", brief="") -> dict:
    """The incident's own fields, cleaned; ValidationError with every problem at once."""
    errors = {}
    if kind not in IncidentKind.values:
        errors["kind"] = "Choose the kind of incident (one of: " + ", ".join(IncidentKind.values)
        errors["kind"] += ")."
    location = _text(
        location,
        "location",
        LOCATION_MAX,
        errors,
        "Give a rough area: it goes into the callout message.",
    )
    # Measured as typed (the form's field and the document's maxLength agree), then squeezed:
    # the area goes into a single-segment SMS.
    location = " ".join(location.split())
    rendezvous = _text(rendezvous, "rendezvous", RENDEZVOUS_MAX, errors).strip()
    brief = _text(brief, "brief", BRIEF_MAX, errors)
    if errors:
        raise ValidationError(errors)
    return {"kind": kind, "location": location, "rendezvous": rendezvous, "brief": brief}
