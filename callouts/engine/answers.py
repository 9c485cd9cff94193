"""Recording what a person answered, under a lock on their Incident row.

What an answer changes is decided by engine.answering (pure); this module loads its
facts under the lock, asks it, and saves the transition (`apply`).

Locks are taken in the one order of callouts.locking: the incident, then callouts by pk,
then messages by pk.

The lock serialises every answer to one incident, so the count of accepted
places per role is exact however many replies arrive together: the place is
given only if it is still open, and the acceptance that fills the last place
also stops the escalation.
"""

from dataclasses import dataclass, replace
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from cadre.models import ROLE_FIELDS
from cadre.queries import negotiator_for
from callouts import events, locking, rows, tasks
from callouts.engine import answering, audiences, escalation
from callouts.messaging import outbox, texts
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
    """Record an answer: load under the lock, ask engine.answering, save what it says.

    `negotiator`: the callout's person, when the caller has them already.
    """
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
        now = timezone.now()
        # When the person said it: an ETA counts from their message, not from when we read it.
        at = getattr(message, "created_at", None) or now
        facts = answering.Callout(
            incident_status=incident.status,
            state=callout.state,
            role=callout.role,
            eta_minutes=callout.eta_minutes,
            arrived=callout.arrived_at is not None,
            answered_at=callout.answered_at,
        )
        places = _places(incident, callout, now) if answering.weighs_places(facts, kind) else None
        change = answering.answer(facts, kind, eta, now, at, places)
        return apply(incident, callout, change, channel, message, at)


def _places(incident, callout, now) -> answering.Places:
    """The places open, the roles they hold, and (only when it decides) each role's supply."""
    places = answering.Places(missing(incident), tuple(callout.negotiator.roles))
    if answering.weighs_supply(places):
        return replace(places, supply=audiences.supply(incident, now))
    return places


def apply(incident, callout, change: answering.Transition, channel, message, at) -> Outcome:
    """Save a transition: the callout, its response, its deployment, the events; then fill
    the incident or restart its escalation. The caller holds the incident's lock."""
    if change.changes:
        for name, value in change.changes:
            setattr(callout, name, value)
        rows.update(callout, tuple(name for name, _ in change.changes))
    if change.response is not None:
        rows.insert(
            [
                Response(
                    callout=callout,
                    kind=Response.Kind(change.response.kind),
                    channel=channel,
                    message=message,
                    eta_minutes=change.response.eta_minutes,
                    late=change.response.late,
                )
            ]
        )
    if change.deployment is not None:
        _deployment(incident, callout, change.deployment, at)
    for event in change.events:
        events.log(
            incident,
            K(event.kind),
            at=at,
            negotiator=callout.negotiator_id,
            channel=channel,
            role=event.role,
            **event.data,
        )
    if change.filled:
        mark_filled(incident)
    if change.restart:
        restart_escalation(incident)
        incident.save()
        tasks.enqueue_step(incident.pk, 0)
        tell_coordinator(incident, texts.withdrawn_alert_sms(incident, callout))
    return Outcome(change.outcome.value, _text(incident, change))


def _text(incident, change: answering.Transition) -> str:
    A = answering.Answer
    match change.answer:
        case A.ACCEPTED:
            return texts.accepted_sms(incident, change.role, change.eta_minutes)
        case A.ETA:
            return texts.eta_sms(incident, change.eta_minutes)
        case A.DECLINED:
            return texts.declined_sms(incident)
        case A.ARRIVED:
            return texts.arrived_sms(incident)
        case A.ACCEPT_FIRST:
            return texts.accept_first_sms(incident)
    return texts.not_needed_sms(incident)


def _eta_at(eta, at):
    return at + timedelta(minutes=eta) if eta is not None else None


def _deployment(incident, callout, change: answering.DeploymentChange, at):
    mine = Deployment.objects.filter(callout=callout)
    match change.kind:
        case answering.Deploy.DEPLOY:
            _deploy(incident, callout, change.role, change.eta_minutes, at, late=change.late)
        case answering.Deploy.ETA:
            # A new ETA, counted from the moment they gave it.
            mine.update(eta_minutes=change.eta_minutes, eta_at=_eta_at(change.eta_minutes, at))
        case answering.Deploy.WITHDRAW:
            mine.filter(withdrawn_at__isnull=True).update(withdrawn_at=at)
        case answering.Deploy.ARRIVE:
            mine.filter(arrived_at__isnull=True).update(arrived_at=at)


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
        "eta_at": _eta_at(eta, at),
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
