"""Message texts: GSM-7 only, one segment, nothing a stranger should read."""

import pytest

from callouts.messaging import texts
from callouts.models import Incident, IncidentKind

LONG = "Ashford Road junction with the A20 bypass, opposite the retail park’s car park — north"


def incident(kind, location=LONG, **fields):
    return Incident(
        reference="KENTPOLICE-WHISKEY-99",
        kind=kind,
        location=location[:80],
        brief="Male, 34, named John Smith, armed",
        rendezvous="Car park of the Royal Oak, ME14 1AA",
        **fields,
    )


@pytest.mark.parametrize("kind", IncidentKind.values)
def test_it_fits_a_callout_sms_in_one_gsm_segment(kind):
    body = texts.callout_sms(incident(kind))
    assert texts.is_gsm(body)
    assert texts.gsm_length(body) <= texts.SEGMENT
    assert "KENTPOLICE-WHISKEY-99"[:20] in body or "WHISKEY-99" in body
    assert "Reply Y" in body
    assert "YES" not in body


@pytest.mark.parametrize("kind", IncidentKind.values)
def test_every_fixed_text_is_gsm_and_one_segment(kind):
    i = incident(kind)
    for body in (
        texts.stand_down_sms(i),
        texts.declined_sms(i),
        texts.not_needed_sms(i),
        texts.eta_sms(i, 25),
        texts.arrived_sms(i),
        texts.accept_first_sms(i),
        texts.short_alert_sms(i, {"negotiator": 2, "coordinator": 1}),
        texts.unfilled_sms(
            i, {"negotiator": 2, "coordinator": 1, "adviser": 1}, ["exhausted", "deadline"], 1440
        ),
        texts.NOT_UNDERSTOOD,
        texts.not_understood_sms(i.reference, accepted=False),
        texts.not_understood_sms(i.reference, accepted=True),
        texts.HELP,
        texts.UNKNOWN_NUMBER,
        texts.NO_CALLOUT,
    ):
        assert texts.is_gsm(body), body
        assert texts.gsm_length(body) <= texts.SEGMENT, body
        assert "YES" not in body


def test_a_callout_never_carries_the_brief_or_the_rendezvous():
    body = texts.callout_sms(incident("hostage", "Dover"))
    assert "John" not in body and "Royal Oak" not in body
    assert "Hostage, Dover." in body


def test_it_keeps_a_short_location_whole_and_cuts_a_long_one():
    assert "Dover" in texts.callout_sms(incident("other", "Dover"))
    body = texts.callout_sms(incident("suicide_intervention"))
    assert ".." in body


def test_it_turns_other_characters_into_gsm():
    assert texts.gsm("Café ‘Nöel’ — “x” façade ✓") == "Café 'Nöel' - \"x\" facade"
    assert texts.gsm_length("a€") == 3


def test_the_acceptance_answer_gives_the_rendezvous():
    body = texts.accepted_sms(incident("hostage"), "negotiator", 20)
    assert "RV: Car park of the Royal Oak" in body
    assert "ETA 20 min" in body


def test_it_says_what_is_missing_and_why_a_human_is_told_and_nothing_else():
    i = incident("hostage")
    i.reference = "WSX-TANGO-27"
    assert texts.unfilled_sms(i, {"coordinator": 1, "negotiator": 1}, ["exhausted"], 30) == (
        "WSX-TANGO-27 still short: 1 negotiator, 1 coordinator. Policy exhausted. Check the board."
    )
    assert texts.unfilled_sms(i, {"negotiator": 2}, ["deadline"], 30) == (
        "WSX-TANGO-27 still short: 2 negotiators. 30 min since raised. Check the board."
    )
    said = texts.unfilled_voice(i, {"negotiator": 2}, ["exhausted", "deadline"], 30)
    assert said == (
        "This is a Standby alert. Incident WSX TANGO 27 is still short: 2 negotiators. "
        "The escalation policy is exhausted. It was raised 30 minutes ago. Please check the board."
    )
