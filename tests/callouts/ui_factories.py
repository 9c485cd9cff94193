"""Incidents and callouts made directly, for page and API tests that only read them."""

import itertools

from callouts.models import Callout, Incident, Message

_seq = itertools.count(1)


def make_incident(force, **kw):
    n = next(_seq)
    kw.setdefault("reference", f"{force.code}-T{n:03d}")
    kw.setdefault("kind", "barricade")
    kw.setdefault("location", "Riverside")
    kw.setdefault("rendezvous", "Car park B")
    kw.setdefault("brief", "Male, 40s, upstairs flat")
    kw.setdefault("needs", {"negotiator": 2, "coordinator": 1})
    kw.setdefault("policy_name", "Standard")
    kw.setdefault(
        "steps",
        [
            {"audience": "on_call", "channel": "sms", "wait_minutes": 3, "named": []},
            {"audience": "force", "channel": "both", "wait_minutes": 5, "named": []},
        ],
    )
    return Incident.objects.create(force=force, **kw)


def make_callout(incident, negotiator, status=None, channel="sms", **kw):
    kw.setdefault("asked_roles", negotiator.roles)
    kw.setdefault("first_step", 0)
    callout = Callout.objects.create(incident=incident, negotiator=negotiator, **kw)
    if status:
        Message.objects.create(
            channel=channel,
            purpose=Message.Purpose.CALLOUT,
            incident=incident,
            callout=callout,
            negotiator=negotiator,
            step=0,
            to_number=negotiator.mobile,
            body=f"{incident.reference}: reply Y or N",
            status=status,
        )
    return callout
