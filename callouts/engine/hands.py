"""What a coordinator may do by hand on a live incident: record an answer someone gave by
phone, and page a named person now. Pure: plain facts in, a reply kind or a refusal (a
sentence for the board) out; services.record_phoned_answer and services.page load the facts
under the incident's lock and act on what this says.

Rules:
- an answer by phone is one of accepted (with an ETA in minutes), declined, arrived or
  withdrew; it is then recorded as the same reply by SMS would be (engine.answering);
- nothing is recorded for an incident that is over (stood down, closed);
- accepted again by someone going is their new ETA; declined is for someone not going,
  withdrew and arrived for someone who accepted;
- a page goes to someone deployable: not to a person whose accreditation has lapsed, who
  has left the cadre or who is marked unavailable, nor to someone already coming; an
  incident that is filled or over pages nobody;
- SMS does not go to someone who sent STOP.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from callouts.engine import answering

MAX_ETA_MINUTES = 600  # as callouts.messaging.replies: the longest ETA a reply may give
# Someone who went to an incident and was stood down less than this long ago is resting.
RESTING = timedelta(hours=12)

LIVE = answering.LIVE
FILLED = "filled"
ACCEPTED = answering.ACCEPTED
OVER = {"stood_down": "stood down", "closed": "closed"}


class Phoned(StrEnum):
    """What the person said on the phone."""

    ACCEPTED = "accepted"
    DECLINED = "declined"
    ARRIVED = "arrived"
    WITHDREW = "withdrew"


PHONED_LABELS = {
    Phoned.ACCEPTED: "Accepted",
    Phoned.DECLINED: "Declined",
    Phoned.ARRIVED: "Arrived",
    Phoned.WITHDREW: "Withdrew",
}

# The reply by SMS each is recorded as (engine.answering.Reply).
REPLY = {
    Phoned.ACCEPTED: answering.Reply.ACCEPT,
    Phoned.DECLINED: answering.Reply.DECLINE,
    Phoned.ARRIVED: answering.Reply.ARRIVED,
    Phoned.WITHDREW: answering.Reply.DECLINE,
}


class Refused(Exception):
    """Why it cannot be done, in a sentence for the board."""


def clean_eta(eta) -> int | None:
    """Minutes 0..MAX_ETA_MINUTES, or None when not given."""
    if eta is None or eta == "":
        return None
    if isinstance(eta, bool):
        raise Refused("Give their ETA as a number of minutes.")
    try:
        minutes = int(str(eta).strip())
    except ValueError:
        raise Refused("Give their ETA as a number of minutes.") from None
    if not 0 <= minutes <= MAX_ETA_MINUTES:
        raise Refused(f"An ETA is a number of minutes from 0 to {MAX_ETA_MINUTES}.")
    return minutes


def phoned_reply(answer: str, eta, incident_status: str, state: str | None):
    """(the reply kind to record, the ETA) for what they said; Refused when it cannot be
    recorded. `state`: their callout's state, None when they were not asked yet."""
    try:
        said = Phoned(answer)
    except ValueError:
        raise Refused("Choose what they said: accepted, declined, arrived or withdrew.") from None
    if incident_status not in LIVE:
        raise Refused(
            f"The incident is {OVER.get(incident_status, 'over')}: answers are no longer recorded."
        )
    going = state == ACCEPTED
    if said == Phoned.ACCEPTED:
        minutes = clean_eta(eta)
        if minutes is None:
            raise Refused("Give their ETA in minutes to record them as accepted.")
        return REPLY[said], minutes
    if said == Phoned.DECLINED and going:
        raise Refused("They have accepted: record “withdrew” if they can no longer come.")
    if said == Phoned.WITHDREW and not going:
        raise Refused("They have not accepted, so cannot withdraw: record “declined”.")
    if said == Phoned.ARRIVED and not going:
        raise Refused("They have not accepted: record “accepted” with their ETA first.")
    return REPLY[said], None


class Standing(StrEnum):
    """Where someone stands for a page now, the first that applies."""

    INACTIVE = "inactive"
    LAPSED = "lapsed"
    UNAVAILABLE = "unavailable"
    BUSY = "busy"  # going to another live incident
    RESTING = "resting"  # stood down from an incident they went to, lately
    ON_CALL = "on_call"
    OFF_CALL = "off_call"


REFUSED = {
    Standing.INACTIVE: "has left the cadre",
    Standing.LAPSED: "has a lapsed accreditation and must not be called out",
    Standing.UNAVAILABLE: "is marked unavailable",
}


@dataclass(frozen=True)
class Person:
    """What the picker knows of someone of the force, now."""

    active: bool = True
    accredited: bool = True
    unavailable_until: datetime | None = None
    on_call_roles: tuple[str, ...] = ()
    busy: bool = False
    stood_down_at: datetime | None = None  # their latest stand-down from an incident they went to


def standing(person: Person, now: datetime) -> Standing:
    if not person.active:
        return Standing.INACTIVE
    if not person.accredited:
        return Standing.LAPSED
    if person.unavailable_until is not None:
        return Standing.UNAVAILABLE
    if person.busy:
        return Standing.BUSY
    if person.stood_down_at is not None and now - person.stood_down_at < RESTING:
        return Standing.RESTING
    if person.on_call_roles:
        return Standing.ON_CALL
    return Standing.OFF_CALL


def standing_label(person: Person, now: datetime, clock=lambda t: t.strftime("%H:%M")) -> str:
    """The picker's words for where they stand, e.g. "on call (negotiator)",
    "resting: stood down 02:10", "unavailable until 08:00". `clock`: a moment as the screen
    shows it (Europe/London)."""
    match standing(person, now):
        case Standing.INACTIVE:
            return "left the cadre"
        case Standing.LAPSED:
            return "accreditation lapsed"
        case Standing.UNAVAILABLE:
            return f"unavailable until {clock(person.unavailable_until)}"
        case Standing.BUSY:
            return "going to another incident"
        case Standing.RESTING:
            rest = f"resting: stood down {clock(person.stood_down_at)}"
            if person.on_call_roles:
                rest += f"; on call ({', '.join(person.on_call_roles)})"
            return rest
        case Standing.ON_CALL:
            return f"on call ({', '.join(person.on_call_roles)})"
    return "not on call"


def may_page(standing_now: Standing) -> bool:
    return standing_now not in REFUSED


CHANNELS = {"sms": ("sms",), "voice": ("voice",), "both": ("sms", "voice")}


def page_problem(
    *,
    callsign: str,
    standing_now: Standing,
    incident_status: str,
    state: str | None,
    channel: str,
    sent_stop: bool = False,
) -> str | None:
    """Why this page may not go (None: it may). `state`: their callout's, None if not asked."""
    if channel not in CHANNELS:
        return "Choose SMS, a voice call or both."
    if incident_status not in LIVE:
        return f"The incident is {OVER.get(incident_status, 'over')}: nobody is paged for it."
    if incident_status == FILLED:
        return "Every place is filled: raise needs first to ask for more people."
    if standing_now in REFUSED:
        return f"{callsign} {REFUSED[standing_now]}: not paged."
    if state == ACCEPTED:
        return f"{callsign} has already accepted: nothing to page."
    if sent_stop and channel == "sms":
        return f"{callsign} sent STOP, so SMS cannot reach them: choose a voice call."
    return None


def page_channels(channel: str, sent_stop: bool = False) -> tuple[str, ...]:
    """The channels a page goes by: never SMS to someone who sent STOP."""
    return tuple(c for c in CHANNELS[channel] if not (sent_stop and c == "sms"))
