"""Recording what a person answered, under a lock on their Incident row.

Locks are taken in the one order of callouts.locking: the incident, then callouts by pk,
then messages by pk.

The lock serialises every answer to one incident, so the count of accepted
places per role is exact however many replies arrive together: the place is
given only if it is still open, and the acceptance that fills the last place
also stops the escalation.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from cadre.models import ROLE_FIELDS
from cadre.queries import negotiator_for
from callouts import events, locking, rows, tasks
from callouts.engine import audiences, escalation
from callouts.messaging import outbox, replies, texts
from callouts.models import Callout, Deployment, Incident, Message, Response

K = events.K

OPEN_STATES = Callout.OPEN_STATES


@dataclass(frozen=True)
class Outcome:
    """What happened, and the answer to send back."""

    kind: str
    text: str


def accepted_callouts(incident):
    return incident.callouts.filter(state=Callout.State.ACCEPTED).select_related("negotiator")


def missing(incident) -> dict[str, int]:
    asked = [
        escalation.Asked(person, frozenset(), state=state, role=role)
        for person, state, role in incident.callouts.filter(
            state=Callout.State.ACCEPTED
        ).values_list("negotiator_id", "state", "role")
    ]
    return escalation.missing_roles(incident.needs, asked)


def record(
    callout_id: int,
    kind: str,
    eta=None,
    channel="sms",
    message=None,
    incident_id=None,
    negotiator=None,
) -> Outcome:
    """`negotiator`: the callout's person, when the caller has them already."""
    if incident_id is None:
        incident_id = Callout.objects.values_list("incident_id", flat=True).get(pk=callout_id)
    # No savepoint: inside the reply task's transaction an error undoes the whole message
    # anyway, and the lock is held for two fewer round trips.
    with transaction.atomic(savepoint=False):
        incident = rows.get(Incident, incident_id, lock=True)
        if negotiator:
            callout = rows.get(Callout, callout_id)
            callout.negotiator = negotiator
        else:
            callout = Callout.objects.select_related("negotiator").get(pk=callout_id)
        callout.incident = incident
        handler = {
            replies.ACCEPT: _accept,
            replies.DECLINE: _decline,
            replies.ETA: _eta,
            replies.ARRIVED: _arrived,
        }[kind]
        return handler(incident, callout, eta, channel, message)


def _response(callout, kind, channel, message, eta=None, late=False):
    rows.insert(
        [
            Response(
                callout=callout,
                kind=kind,
                channel=channel,
                message=message,
                eta_minutes=eta,
                late=late,
            )
        ]
    )


def _sent_at(message, now):
    """When the person said it: an ETA counts from their message, not from when we read it."""
    return getattr(message, "created_at", None) or now


def _log(incident, callout, kind, channel, at, **data):
    events.log(incident, kind, at=at, negotiator=callout.negotiator_id, channel=channel, **data)


def _set_eta(callout, eta, at):
    """A new ETA on their deployment, counted from the moment they gave it."""
    Deployment.objects.filter(callout=callout).update(
        eta_minutes=eta, eta_at=at + timedelta(minutes=eta) if eta is not None else None
    )


def _deploy(incident, callout, role, eta, at, late=False):
    """Their deployment: made, or made new if they had accepted before and withdrawn.

    One upsert (INSERT … ON CONFLICT on the callout) rather than a read, a write and two
    savepoints, under the incident's lock.
    """
    fields = {
        "incident": incident,
        "negotiator_id": callout.negotiator_id,
        "role": role,
        "late": late,
        "accepted_at": at,
        "eta_minutes": eta,
        "eta_at": at + timedelta(minutes=eta) if eta is not None else None,
        "arrived_at": None,
        "withdrawn_at": None,
        "stood_down_at": at if late else None,
        "stood_down_by": None,
    }
    Deployment.objects.bulk_create(
        [Deployment(callout=callout, **fields)],
        update_conflicts=True,
        unique_fields=["callout"],
        update_fields=[name.removesuffix("_id") for name in fields],
    )


def _accept(incident, callout, eta, channel, message) -> Outcome:
    now = timezone.now()
    at = _sent_at(message, now)
    if incident.status not in Incident.LIVE:
        _response(callout, Response.Kind.ACCEPT, channel, message, eta, late=True)
        _log(incident, callout, K.LATE, channel, at, eta=eta, over=incident.status)
        return Outcome("not_needed", texts.not_needed_sms(incident))
    if callout.state == Callout.State.ACCEPTED:
        if eta is not None:
            callout.eta_minutes = eta
            rows.update(callout, ("eta_minutes",))
            _set_eta(callout, eta, at)
            _log(incident, callout, K.ETA, channel, at, role=callout.role, eta=eta)
        _response(callout, Response.Kind.ACCEPT, channel, message, eta)
        return Outcome("accepted", texts.accepted_sms(incident, callout.role, callout.eta_minutes))
    open_places = missing(incident)
    holds = callout.negotiator.roles
    # Scarcity decides only between several open roles they hold; skip its queries otherwise.
    choices = [r for r in holds if open_places.get(r, 0) > 0]
    supply = audiences.supply(incident, now) if len(choices) > 1 else {}
    role = escalation.choose_role(holds, open_places, supply)
    if role is None:
        # Every place they could fill is taken: thanked, stood down, recorded as late.
        callout.late = True
        callout.answered_at = callout.answered_at or now
        if callout.state != Callout.State.STOOD_DOWN:
            callout.state = Callout.State.STOOD_DOWN
            callout.stood_down_at = now
        rows.update(callout, ("late", "answered_at", "state", "stood_down_at"))
        _response(callout, Response.Kind.ACCEPT, channel, message, eta, late=True)
        _deploy(incident, callout, "", eta, at, late=True)
        _log(incident, callout, K.LATE, channel, at, eta=eta, over=incident.status)
        return Outcome("late", texts.not_needed_sms(incident))
    callout.state = Callout.State.ACCEPTED
    callout.role = role
    callout.eta_minutes = eta
    callout.answered_at = now
    rows.update(callout, ("state", "role", "eta_minutes", "answered_at"))
    _response(callout, Response.Kind.ACCEPT, channel, message, eta)
    _deploy(incident, callout, role, eta, at)
    _log(incident, callout, K.ACCEPTED, channel, at, role=role, eta=eta)
    if open_places.get(role, 0) == 1 and len(open_places) == 1:
        mark_filled(incident)
    return Outcome("accepted", texts.accepted_sms(incident, role, eta))


def _decline(incident, callout, eta, channel, message) -> Outcome:
    now = timezone.now()
    at = _sent_at(message, now)
    _response(callout, Response.Kind.DECLINE, channel, message)
    if callout.state == Callout.State.STOOD_DOWN or incident.status not in Incident.LIVE:
        _log(incident, callout, K.DECLINED, channel, at, over=True)
        return Outcome("declined", texts.declined_sms(incident))
    was_accepted = callout.state == Callout.State.ACCEPTED
    role = callout.role
    callout.state = Callout.State.DECLINED
    callout.role = ""
    callout.answered_at = now
    rows.update(callout, ("state", "role", "answered_at"))
    if was_accepted:
        Deployment.objects.filter(callout=callout, withdrawn_at__isnull=True).update(
            withdrawn_at=at
        )
        _log(incident, callout, K.WITHDRAWN, channel, at, role=role)
    else:
        _log(incident, callout, K.DECLINED, channel, at)
    if was_accepted and incident.status != Incident.Status.CALLING:
        # They withdrew after accepting: their place is open again.
        restart_escalation(incident)
        incident.save()
        tasks.enqueue_step(incident.pk, 0)
        tell_coordinator(incident, texts.withdrawn_alert_sms(incident, callout))
    return Outcome("declined", texts.declined_sms(incident))


def _eta(incident, callout, eta, channel, message) -> Outcome:
    if callout.state != Callout.State.ACCEPTED or incident.status not in Incident.LIVE:
        return _not_going(incident, callout)
    at = _sent_at(message, timezone.now())
    callout.eta_minutes = eta
    rows.update(callout, ("eta_minutes",))
    _set_eta(callout, eta, at)
    _response(callout, Response.Kind.ETA, channel, message, eta)
    _log(incident, callout, K.ETA, channel, at, role=callout.role, eta=eta)
    return Outcome("eta", texts.eta_sms(incident, eta))


def _arrived(incident, callout, eta, channel, message) -> Outcome:
    if callout.state != Callout.State.ACCEPTED or incident.status not in Incident.LIVE:
        return _not_going(incident, callout)
    at = _sent_at(message, timezone.now())
    if callout.arrived_at is None:
        callout.arrived_at = at
        rows.update(callout, ("arrived_at",))
        Deployment.objects.filter(callout=callout, arrived_at__isnull=True).update(arrived_at=at)
        _log(incident, callout, K.ARRIVED, channel, at, role=callout.role)
    _response(callout, Response.Kind.ARRIVED, channel, message)
    return Outcome("arrived", texts.arrived_sms(incident))


def _not_going(incident, callout) -> Outcome:
    if callout.state == Callout.State.STOOD_DOWN or incident.status not in Incident.LIVE:
        return Outcome("not_needed", texts.not_needed_sms(incident))
    return Outcome("accept_first", texts.accept_first_sms(incident))


def restart_escalation(incident):
    """Escalate again from the first step, as a new round, for the places now open.

    The caller holds the incident's lock and saves it. People stood down when it
    filled, who did not decline and hold a role that is open again, are asked
    again: they are the ones most likely to come.
    """
    incident.status = Incident.Status.CALLING
    incident.step_index = -1
    incident.next_step_at = timezone.now() + escalation.FIRST_STEP_GRACE
    incident.filled_at = None
    incident.exhausted_at = None
    incident.round += 1
    open_roles = [role for role, count in missing(incident).items() if count > 0]
    holds_open_role = Q()
    for role in open_roles:
        holds_open_role |= Q(**{f"negotiator__{ROLE_FIELDS[role]}": True})
    if open_roles:
        again = incident.callouts.filter(holds_open_role, state=Callout.State.STOOD_DOWN).exclude(
            responses__kind=Response.Kind.DECLINE
        )
        ids = locking.in_order(again)
        if ids:
            Callout.objects.filter(pk__in=ids).update(state=Callout.State.ASKED, stood_down_at=None)


def mark_filled(incident):
    """All places taken: stop, cancel what is pending, stand the rest down, tell the coordinator.

    The caller holds the Incident row lock.
    """
    now = timezone.now()
    incident.status = Incident.Status.FILLED
    incident.filled_at = now
    incident.next_step_at = None
    incident.save(update_fields=["status", "filled_at", "next_step_at"])
    going = list(accepted_callouts(incident))
    events.log(
        incident,
        K.FILLED,
        at=now,
        going={c.negotiator.callsign: c.role for c in going},
    )
    # Their callouts locked by pk, then the pending messages (callouts.locking).
    still_open = list(
        incident.callouts.filter(state__in=OPEN_STATES)
        .select_related("negotiator")
        .select_for_update(no_key=True, of=("self",))
        .order_by("pk")
    )
    outbox.cancel_pending(incident)
    stand_down(incident, still_open, at=now)
    tell_coordinator(incident, texts.filled_sms(incident, going))


def stand_down(incident, callouts, by=None, at=None) -> int:
    """Tell these people it is over; the deployments of those who went record when, and who.

    The caller holds the incident's lock. A few statements whatever the number of people.
    """
    at = at or timezone.now()
    went = [c.pk for c in callouts if c.state == Callout.State.ACCEPTED]
    for callout in callouts:
        callout.incident = incident
    outbox.stand_down(callouts)
    if went:
        Deployment.objects.filter(callout_id__in=went, stood_down_at__isnull=True).update(
            stood_down_at=at,
            stood_down_by=by if getattr(by, "is_authenticated", False) else None,
        )
    went = set(went)
    events.insert(
        events.build(
            incident,
            K.PERSON_STOOD_DOWN,
            at=at,
            actor=by,
            negotiator=c.negotiator_id,
            role=c.role if c.pk in went else "",
            went=c.pk in went,
        )
        for c in callouts
    )
    return len(callouts)


def tell_coordinator(incident, body) -> Message:
    """Tell whoever raised the incident, by SMS if they have a mobile, else on the board."""
    person = negotiator_for(incident.raised_by) if incident.raised_by_id else None
    if person is None or not person.mobile:
        events.log(incident, K.ALERT, text=body, on_board=True)
        return outbox.record_alert(incident, body)
    events.log(incident, K.ALERT, negotiator=person, channel="sms", text=body)
    created = outbox.alert(incident, person, body)
    outbox.queue([created])
    return created
