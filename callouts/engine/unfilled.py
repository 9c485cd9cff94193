"""Telling a human that an incident is not filling: once per incident per reason.

Why (escalation.tell_human, pure): the policy is exhausted (the step that finds it so tells
them, in its own transaction), or the incident is still short at its `tell_if_short_at`, the
policy's "tell a human if still short after N minutes" frozen when it was raised (the
escalator clock looks on every tick: `due`, `check`). Whom (escalation.whom_to_tell, pure):
the force's coordinators on call now (the rota), its supervisors (the people records of
their logins) and whoever raised it, each once. Each is sent an SMS and a call saying what is
missing (texts.unfilled_sms: the reference and the roles, no callsign, name or brief).

Idempotent: the caller holds the incident's row lock; the reasons already told are read from
the incident's UNFILLED events, written in the same transaction as the messages (saved in
the outbox before anything is sent), so a run again, or after a crash halfway (its
transaction undone), tells each reason once. The deadline is cleared once told, so the clock
stops finding the incident. Nobody to tell is recorded too: the event says who was missing.
"""

import logging

from django.db import transaction
from django.utils import timezone

from cadre.models import LoginRole, Negotiator, Role
from cadre.queries import negotiator_for, users_with_roles
from callouts import eventdata, events, locking
from callouts.engine import answers, escalation
from callouts.messaging import outbox, texts
from callouts.models import Channel, Event, Incident, Message
from roster import queries as roster

log = logging.getLogger(__name__)
K = Event.Kind
BATCH = 50
CHANNELS = (Channel.SMS, Channel.VOICE)


def due(now) -> list[int]:
    """Live incidents still calling or exhausted whose "tell a human" time has come."""
    return list(
        Incident.objects.filter(
            status__in=[Incident.Status.CALLING, Incident.Status.EXHAUSTED],
            tell_if_short_at__isnull=False,
            tell_if_short_at__lte=now,
        )
        .order_by("tell_if_short_at")
        .values_list("pk", flat=True)[:BATCH]
    )


def check(incident_id, now=None) -> list[int]:
    """The clock's check of one incident: lock it, tell whoever is to be told, queue the
    messages to go once this commits. The ids of the messages saved."""
    now = now or timezone.now()
    with transaction.atomic():
        incident = locking.incident(incident_id)
        if incident is None:
            return []
        created = tell(incident, now)
        outbox.queue(created)
    return [m.pk for m in created]


def told_reasons(incident) -> set[str]:
    """The reasons a human has been told already (from the incident's UNFILLED events)."""
    reasons: set[str] = set()
    for data in Event.objects.filter(incident=incident, kind=K.UNFILLED).values_list(
        "data", flat=True
    ):
        reasons.update(eventdata.read(K.UNFILLED, data).get("reasons", ()))
    return reasons


def tell(incident, now, missing=None) -> list[Message]:
    """Tell a human if there is something new to tell; the caller holds the incident's lock.

    Returns the messages saved (pending): the caller sends them once its transaction commits.
    """
    if missing is None:
        missing = answers.missing(incident)
    told = told_reasons(incident)
    deadline = incident.tell_if_short_at
    reasons = escalation.tell_human(
        status=incident.status, missing=missing, deadline=deadline, told=told, now=now
    )
    passed = deadline is not None and now >= deadline
    if passed and escalation.Unfilled.DEADLINE in {*reasons, *told}:
        incident.tell_if_short_at = None
        incident.save(update_fields=["tell_if_short_at"])
    if not reasons:
        return []
    people, gaps = whom(incident, now)
    minutes = round((deadline - incident.raised_at).total_seconds() / 60) if deadline else 0
    bodies = {
        Channel.SMS: texts.unfilled_sms(incident, missing, reasons, minutes),
        Channel.VOICE: texts.unfilled_voice(incident, missing, reasons, minutes),
    }
    created = outbox.insert(
        [
            outbox.new_message(
                channel=channel,
                purpose=Message.Purpose.UNFILLED,
                incident=incident,
                negotiator=person,
                to_number=person.mobile,
                body=bodies[channel],
            )
            for person, _ in people
            for channel in CHANNELS
        ]
    )
    events.log(
        incident,
        K.UNFILLED,
        at=now,
        **eventdata.Unfilled(
            reasons=[str(r) for r in reasons],
            missing=dict(missing),
            told=[{"callsign": p.callsign, "as": ", ".join(labels)} for p, labels in people],
            channels=[str(c) for c in CHANNELS] if people else [],
            gaps=gaps,
            after=minutes if escalation.Unfilled.DEADLINE in reasons else None,
        ),
    )
    if not people:
        log.error("%s is not filling and nobody could be told: %s", incident.reference, gaps)
    return created


def whom(incident, now) -> tuple[list[tuple[Negotiator, tuple[str, ...]]], str]:
    """The people to text and call, each with why, and who could not be found."""
    coordinators = [
        n for n in roster.on_call(incident.force, now).get(Role.COORDINATOR, []) if n.mobile
    ]
    logins = users_with_roles(incident.force_id, LoginRole.SUPERVISOR)
    supervisors = list(
        Negotiator.objects.filter(user__in=logins, active=True)
        .exclude(mobile="")
        .order_by("callsign", "pk")
    )
    raiser = negotiator_for(incident.raised_by) if incident.raised_by_id else None
    if raiser is not None and not (raiser.active and raiser.mobile):
        raiser = None
    chosen, gaps = escalation.whom_to_tell(
        on_call_coordinators=[n.pk for n in coordinators],
        supervisors=[n.pk for n in supervisors],
        raised_by=raiser.pk if raiser else None,
        supervisor_logins=logins.count(),
    )
    found = {n.pk: n for n in [*coordinators, *supervisors, *([raiser] if raiser else [])]}
    return [(found[t.person_id], t.labels) for t in chosen], gaps
