"""Firing escalation steps: load plain data, ask escalation.decide, save what it says.

Called by the fire_step task and by the escalator clock; both may run for the
same step. The Incident row lock plus the step_index check make the second a
no-op, and the Message unique constraints back that up. Locks follow callouts.locking:
the incident first, then its callouts.
"""

from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from cadre.models import Negotiator
from callouts import eventdata, events, locking, tasks
from callouts.engine import answers, audiences, escalation, unfilled
from callouts.messaging import budget, outbox, sending, texts
from callouts.models import Callout, Channel, Incident, Message


def asked_state(incident) -> tuple[list[Callout], list[escalation.Asked]]:
    """The incident's callouts (each with its negotiator) and what each has been sent."""
    if incident.round == 0 and incident.step_index == -1:
        return [], []  # its first step: nobody has been asked anything yet
    callouts = list(incident.callouts.select_related("negotiator"))
    for callout in callouts:
        callout.incident = incident
    sent: dict[int, set] = {}
    for callout_id, step, channel in Message.objects.filter(
        incident=incident, purpose=Message.Purpose.CALLOUT, round=incident.round
    ).values_list("callout_id", "step", "channel"):
        sent.setdefault(callout_id, set()).add((step, channel))
    asked = [
        escalation.Asked(
            person_id=c.negotiator_id,
            roles=frozenset(c.asked_roles),
            state=c.state,
            role=c.role,
            sent=frozenset(sent.get(c.pk, ())),
            sms_unreachable=c.sms_unreachable,
            voice_unreachable=c.voice_unreachable,
        )
        for c in callouts
    ]
    return callouts, asked


@dataclass
class Fired:
    decision: escalation.Decision
    # The messages saved (callouts and alerts); the caller sends them after commit.
    message_ids: list[int] = field(default_factory=list)
    # Those of them saved already claimed for the caller (fire's `claim`), to send at once.
    claimed: list[Message] = field(default_factory=list)


def fire_and_send(incident_id: int, step_index: int | None = None):
    """The fire-step task: fire a due step, then send its messages from here, side by side.

    A large step's later messages (more than CALLOUTS_SHARE_STEP_ABOVE) are also offered to
    other workers, in send tasks of that many each: one process's sending threads share its
    interpreter lock, and the SDK's own work per request, not the provider, is then what
    holds a large step back. Whoever claims a message first sends it (the claim skips rows
    another holds), so a busy queue only means this task sends them all itself.
    """
    fired = fire(incident_id, step_index, claim=sending.claim_chunk())
    if fired is None:
        return None
    batch = sending.Batch()
    batch.start_claimed(fired.claimed)
    ids = fired.message_ids[len(fired.claimed) :]
    share = settings.CALLOUTS_SHARE_STEP_ABOVE
    for start in range(0, len(ids), share):
        tasks.send_now(ids[start : start + share])
    if ids and len(fired.claimed) >= budget.size():
        # Our own fill the budget: no more can go before one of them is back. Meanwhile
        # other workers take what they can, and this process's interpreter starts our
        # requests instead of claiming (300 SMS: the last request went 40 ms sooner).
        batch.save_next()
    batch.add(ids)
    batch.finish()
    return fired.decision.action


def fire(incident_id: int, step_index: int | None = None, now=None, claim: int = 0) -> Fired | None:
    """Fire the incident's next step if it is due (and is `step_index`, when given).

    Steps with no wait are followed at once by the next, in the same transaction.
    Returns the last decision and the messages to send, or None when there was
    nothing to look at. `claim`: up to this many of them are saved already claimed for
    the caller, who sends them as soon as this commits, without a claim of its own (a
    step's first requests went out 15-20 ms later for it). If the caller dies before
    sending them, they are reconciled when the lease ends, as any claimed message is.
    """
    ids = []
    with transaction.atomic():
        incident = locking.incident(incident_id)
        if incident is None or incident.status != Incident.Status.CALLING:
            return None
        if step_index is not None and step_index != incident.step_index + 1:
            return None
        now = now or timezone.now()
        while True:
            callouts, decision = _decide(incident, now)
            ids += _apply(incident, decision, callouts, now)
            if decision.action != escalation.Action.FIRE or decision.next_at > now:
                return Fired(decision, [m.pk for m in ids], sending.claim_made(ids[:claim], now))


def _decide(incident, now) -> tuple[list[Callout], escalation.Decision]:
    """The incident's callouts as loaded, and what the escalation decides."""
    callouts, asked = asked_state(incident)
    index = incident.step_index + 1
    step_candidates = []
    # The first step is due as soon as it is asked for; next_step_at is then
    # only the clock's fallback in case the queued task never runs.
    due = index == 0 or incident.next_step_at is None or incident.next_step_at <= now
    steps = incident.frozen_steps
    if index < len(steps) and due:
        step_candidates = audiences.candidates(incident, steps[index], now)
    return callouts, escalation.decide(
        status=incident.status,
        needs=incident.needs,
        steps=steps,
        step_index=incident.step_index,
        next_step_at=incident.next_step_at,
        asked=asked,
        candidates=step_candidates,
        now=now,
    )


def _apply(incident, decision, callouts, now) -> list[Message]:
    if decision.action == escalation.Action.FILLED:
        answers.mark_filled(incident)
    elif decision.action == escalation.Action.EXHAUSTED:
        incident.status = Incident.Status.EXHAUSTED
        incident.exhausted_at = now
        incident.next_step_at = None
        incident.save(update_fields=["status", "exhausted_at", "next_step_at"])
        events.log(
            incident,
            events.K.EXHAUSTED,
            at=now,
            **eventdata.Exhausted(missing=dict(decision.missing)),
        )
        # The on-call coordinators, the supervisors and whoever raised it are texted and
        # called, once (the messages go with this step's, once it commits).
        return unfilled.tell(incident, now, dict(decision.missing))
    elif decision.action == escalation.Action.FIRE:
        created = _send(incident, decision, callouts)
        incident.step_index = decision.step_index
        incident.next_step_at = decision.next_at
        incident.save(update_fields=["step_index", "next_step_at", "mutual_aid"])
        step = incident.frozen_steps[decision.step_index]
        events.log(
            incident,
            events.K.STEP_FIRED,
            at=now,
            channel=step.channel,
            **eventdata.StepFired(
                round=incident.round,
                step=decision.step_index + 1,
                audience=step.audience,
                asked=len(decision.sends),
                alerted=len(decision.alerts),
                missing=dict(decision.missing),
                next_at=decision.next_at.isoformat() if decision.next_at else None,
            ),
        )
        return [m for m in created if m is not None]
    return []


def _send(incident, decision, callouts) -> list[Message]:
    """Callouts and their messages for one step, inserted in bulk under the incident's lock.

    `callouts`: the incident's, as loaded (with their negotiators) for the decision.
    """
    people = {c.negotiator_id: c for c in callouts}
    new_people = Negotiator.objects.in_bulk(
        [s.person_id for s in decision.sends if s.person_id not in people] + list(decision.alerts)
    )
    new_callouts = [
        Callout(
            incident=incident,
            negotiator=new_people[send.person_id],
            asked_roles=list(send.roles),
            first_step=decision.step_index,
            # They sent STOP: no SMS to them on this callout (a stand-down included).
            sms_unreachable=new_people[send.person_id].texts_stopped,
        )
        for send in decision.sends
        if send.person_id not in people
    ]
    for callout in Callout.objects.bulk_create(new_callouts):
        people[callout.negotiator_id] = callout
        if callout.negotiator.force_id != incident.force_id:
            incident.mutual_aid = True
    bodies = {Channel.SMS: texts.callout_sms(incident), Channel.VOICE: texts.voice_script(incident)}
    messages = []
    for send in decision.sends:
        callout = people[send.person_id]
        if set(send.roles) - set(callout.asked_roles):
            callout.asked_roles = sorted(set(callout.asked_roles) | set(send.roles))
            callout.save(update_fields=["asked_roles"])
        messages += [
            outbox.new_message(
                channel=channel,
                purpose=Message.Purpose.CALLOUT,
                incident=incident,
                callout=callout,
                negotiator=callout.negotiator,
                step=decision.step_index,
                round=incident.round,
                to_number=callout.negotiator.mobile,
                body=bodies[channel],
            )
            for channel in send.channels
        ]
    if decision.alerts:
        body = texts.short_alert_sms(incident, dict(decision.missing))
        events.log(incident, events.K.ALERT, **eventdata.Alert(text=body, to=len(decision.alerts)))
        messages += [
            outbox.new_message(
                channel=Channel.SMS,
                purpose=Message.Purpose.ALERT,
                incident=incident,
                negotiator=new_people[pk],
                step=decision.step_index,
                to_number=new_people[pk].mobile,
                body=body,
            )
            for pk in decision.alerts
        ]
    return outbox.insert(messages)
