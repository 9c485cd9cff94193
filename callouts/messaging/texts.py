"""What our messages say. SMS in GSM-7 characters, in one segment (160) where possible.

A callout SMS carries the reference, the kind, the rough area and how to reply;
never a name or the brief: a stranger may be holding the phone. We print "Y",
never "YES": YES is one of Twilio's opt-in keywords.
"""

import unicodedata

SEGMENT = 160
# The GSM 03.38 basic set; the extension set's characters cost two.
GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENDED = set("^{}\\[~]|€")
REPLACEMENTS = {
    "‘": "'",
    "’": "'",
    "“": '"',
    "”": '"',
    "–": "-",
    "—": "-",
    "…": "...",
    "\u00a0": " ",
    "\t": " ",
}

HOW_TO_REPLY = "Reply Y to attend (Y 20 = ETA 20 min) or N"
# A reply not understood gets a question naming the words that work where they are.
NOT_UNDERSTOOD = "Not understood: are you coming? Reply Y or N (Y 20 = ETA 20 min)."
UNKNOWN_NUMBER = "Message received."
NO_CALLOUT = "Thank you. You have no callout to answer."
HELP = (
    "Standby callouts: reply Y to attend, N to decline, ETA 15 to update, ARRIVED on arrival. "
    "Add the reference if you have more than one callout."
)


def gsm_length(text: str) -> int:
    return sum(2 if ch in GSM_EXTENDED else 1 for ch in text)


def is_gsm(text: str) -> bool:
    return all(ch in GSM_BASIC or ch in GSM_EXTENDED for ch in text)


def gsm(text: str) -> str:
    """Text made of GSM-7 characters only: accents dropped where needed, the rest removed."""
    out = []
    for ch in text:
        ch = REPLACEMENTS.get(ch, ch)
        if all(c in GSM_BASIC for c in ch):
            out.append(ch)
            continue
        plain = unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode()
        out.append("".join(c for c in plain if c in GSM_BASIC))
    return " ".join("".join(out).split(" ")).strip()


def fit(text: str, room: int) -> str:
    """`text` cut to `room` GSM characters, marked with '..' when cut."""
    if gsm_length(text) <= room:
        return text
    cut = text
    while gsm_length(cut) > max(room - 2, 0):
        cut = cut[:-1]
    return cut.rstrip(" ,.-") + ".."


def kind_label(incident) -> str:
    return incident.get_kind_display()


def callout_sms(incident) -> str:
    head = f"CALLOUT {incident.reference}: {kind_label(incident)}, "
    tail = f". {HOW_TO_REPLY}"
    room = SEGMENT - gsm_length(head) - gsm_length(tail)
    return head + fit(gsm(incident.location), room) + tail


def stand_down_sms(incident) -> str:
    return f"STAND DOWN {incident.reference}: you are not needed any more. Thank you."


def accepted_sms(incident, role: str, eta: int | None) -> str:
    rv = gsm(incident.rendezvous) or "the coordinator will call you with it"
    eta_part = f" ETA {eta} min noted." if eta is not None else ""
    return (
        f"{incident.reference}: thank you, you are going as {role}.{eta_part} RV: {rv}. "
        "Send ETA 15 to update, ARRIVED on arrival."
    )


def declined_sms(incident) -> str:
    return f"{incident.reference}: declined, thank you."


def not_needed_sms(incident) -> str:
    return f"{incident.reference}: thank you, you are not needed any more. Please stand down."


def eta_sms(incident, eta: int) -> str:
    return f"{incident.reference}: ETA {eta} min noted."


def arrived_sms(incident) -> str:
    return f"{incident.reference}: arrival noted."


def accept_first_sms(incident) -> str:
    return f"{incident.reference}: you have not accepted this callout. {HOW_TO_REPLY}."


def not_understood_sms(reference: str, accepted: bool) -> str:
    """The question back to a reply not understood, about the callout `reference`."""
    if accepted:
        return (
            f"{reference}: not understood. You are down as coming: reply ETA 15 to update, "
            "ARRIVED on arrival, or N if you cannot come."
        )
    return f"{reference}: not understood. Are you coming? Reply Y or N (Y 20 = ETA 20 min)."


def phoned_answer_sms(answer_text: str) -> str:
    """To someone whose answer by phone a coordinator recorded: the answer an SMS reply would
    have had (with the rendezvous when they are going), said to come from their call."""
    return f"Recorded from your call. {answer_text}"


def which_incident_sms(references) -> str:
    refs = ", ".join(references)
    example = references[0].split("-", 1)[-1] if references else "TANGO-27"
    return fit(
        f"You have more than one callout ({refs}). Reply again with the reference, "
        f"e.g. Y {example} or N {example}.",
        SEGMENT * 2,
    )


def unknown_reference_sms(references) -> str:
    return f"That reference is not one of your callouts ({', '.join(references) or 'none'})."


def filled_sms(incident, accepted) -> str:
    """To the coordinator: who is coming, with ETAs. Callsigns only."""
    people = "; ".join(
        f"{c.negotiator.callsign} {c.role}"
        + (f" ETA {c.eta_minutes} min" if c.eta_minutes is not None else "")
        for c in accepted
    )
    return f"{incident.reference} FILLED: {gsm(people)}."


def short_alert_sms(incident, missing: dict) -> str:
    still = ", ".join(f"{n} {role}" for role, n in sorted(missing.items()))
    return f"STANDBY {incident.reference} is SHORT, still needs {still}. Please check the board."


def withdrawn_alert_sms(incident, callout) -> str:
    return (
        f"{incident.reference}: {gsm(callout.negotiator.callsign)} withdrew; "
        "calling again for the open place."
    )


def voice_script(incident) -> str:
    """The same facts as the SMS, for a call."""
    ref = " ".join(incident.reference.replace("-", " ").split())
    return (
        f"This is a Standby callout. Reference {ref}. {kind_label(incident)}, "
        f"{incident.location}. Press 1 to attend, or 2 to decline."
    )


# Plain strings (escalation.Unfilled's values): texts need nothing from the engine.
UNFILLED_REASONS = {"exhausted": "Policy exhausted", "deadline": "{minutes} min since raised"}
ROLE_ORDER = ("negotiator", "coordinator", "adviser")


def still_missing(missing: dict) -> str:
    """ "1 negotiator, 2 coordinators": the places open, negotiators first."""
    roles = sorted(missing, key=lambda r: (ROLE_ORDER.index(r) if r in ROLE_ORDER else 9, r))
    return ", ".join(f"{missing[r]} {r}{'s' if missing[r] != 1 else ''}" for r in roles)


def unfilled_reasons(reasons, minutes: int) -> str:
    return "; ".join(UNFILLED_REASONS[r].format(minutes=minutes) for r in reasons)


def unfilled_sms(incident, missing: dict, reasons, minutes: int) -> str:
    """To the on-call coordinators and supervisors: what is missing and why they are told.

    No callsign, name or brief: "HOME-TANGO-27 still short: 1 negotiator. Policy exhausted."
    """
    why = unfilled_reasons(reasons, minutes)
    return fit(
        f"{incident.reference} still short: {still_missing(missing)}. {why}. Check the board.",
        SEGMENT,
    )


def unfilled_voice(incident, missing: dict, reasons, minutes: int) -> str:
    ref = " ".join(incident.reference.replace("-", " ").split())
    why = {
        "exhausted": "The escalation policy is exhausted.",
        "deadline": f"It was raised {minutes} minutes ago.",
    }
    said = " ".join(why[r] for r in reasons)
    return (
        f"This is a Standby alert. Incident {ref} is still short: {still_missing(missing)}. "
        f"{said} Please check the board."
    )
