"""The incident lifecycle: raise, raise needs, stand down, close.

Every change runs in a transaction with the Incident row locked, so a webhook,
a task and a coordinator's button never interleave on the same incident, and
every function is safe to call twice. Slow work (sending) is enqueued only when
the transaction commits.

This is the contract the views, the API and the simulator use.

Every write takes the acting login as `by=` (keyword, required): the events, the incident
(raised_by, stood_down_by, closed_by), the debrief and the access audit keep it. `by=None`
means the system acts (the demo seeding, a management command, the clock); the events then
name no actor.
"""

import re
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from cadre import access
from cadre.access import Can
from cadre.models import Role
from callouts import events, frozen, locking, queries, rules, tasks
from callouts.engine import answers, escalation, hands
from callouts.engine import policy as policies
from callouts.messaging import outbox, reference, replies, texts
from callouts.models import (
    AccessRecord,
    ApiToken,
    BoardAction,
    Callout,
    Channel,
    Debrief,
    EscalationPolicy,
    EscalationStep,
    Incident,
    Message,
    default_needs,
)


def _resolve_policy(force, policy):
    if isinstance(policy, EscalationPolicy):
        if policy.force_id != force.pk:
            raise ValidationError({"policy": "That policy belongs to another force."})
        return policy
    if policy in (None, ""):
        return force.policies.filter(is_default=True).first()
    found = force.policies.filter(name=policy).first()
    if found is None:
        raise ValidationError({"policy": f"There is no escalation policy called “{policy}”."})
    return found


def raise_incident(
    *,
    force,
    kind,
    location,
    rendezvous="",
    brief="",
    needs=None,
    policy=None,
    by,
) -> Incident:
    errors = {}
    try:
        fields = rules.clean_incident(
            kind=kind, location=location, rendezvous=rendezvous, brief=brief
        )
    except ValidationError as e:
        errors.update(e.message_dict)
    try:
        chosen = _resolve_policy(force, policy)
    except ValidationError as e:
        errors.update(e.message_dict)
        chosen = None
    if needs is None:
        needs = chosen.default_needs if chosen else default_needs()
    try:
        needs = rules.clean_needs(needs)
    except ValidationError as e:
        errors.update(e.message_dict)
    if errors:
        raise ValidationError(errors)

    now = timezone.now()
    with transaction.atomic():
        incident = Incident(
            force=force,
            **fields,
            needs=needs,
            policy_name=chosen.name if chosen else policies.DEFAULT_POLICY_NAME,
            steps=frozen.dump(policies.freeze(chosen)),
            status=Incident.Status.CALLING,
            step_index=-1,
            next_step_at=now + escalation.FIRST_STEP_GRACE,
            tell_if_short_at=now + policies.tell_after(chosen),
            raised_by=by,
        )
        _save_with_unique_reference(incident)
        events.log(
            incident,
            events.K.RAISED,
            at=incident.raised_at,
            actor=by,
            needs=needs,
            policy=incident.policy_name,
            incident_kind=incident.kind,
        )
        tasks.enqueue_step(incident.pk, 0)
    return incident


def _save_with_unique_reference(incident):
    for candidate in reference.candidates(incident.force.code):
        if Incident.objects.filter(reference=candidate).exists():
            continue
        incident.reference = candidate
        try:
            with transaction.atomic():
                incident.save()
            return
        except IntegrityError:
            # Another incident took it between the check and the insert.
            continue


def _locked(incident) -> Incident:
    """The incident's row, locked: first in the order of locks (callouts.locking)."""
    locked = locking.incident(incident.pk)
    if locked is None:
        raise Incident.DoesNotExist(f"Incident {incident.pk} does not exist")
    return locked


@locking.retried
def raise_needs(incident, role, count=1, *, by) -> Incident:
    """One more (or `count` more) for a role while live; escalation resumes for what is missing.

    Resuming starts again from the first step: people already messaged on a step
    are not messaged again for it, so only those not yet reached hear from us.
    """
    if role not in Role.values:
        raise ValidationError({"role": "Choose a role."})
    try:
        rules.clean_count(role, count)
    except ValidationError as e:
        raise ValidationError({"count": e.messages}) from None
    with transaction.atomic():
        locked = _locked(incident)
        if locked.status not in Incident.LIVE:
            raise ValidationError({"role": "The incident has been stood down or closed."})
        needs = dict(locked.needs)
        needs[role] = needs.get(role, 0) + count
        locked.needs = needs
        answers.restart_escalation(locked)
        locked.save()
        events.log(locked, events.K.NEEDS_RAISED, actor=by, role=role, count=count, needs=needs)
        tasks.enqueue_step(locked.pk, 0)
    return locked


WEB_ANSWERS = {
    "accept": replies.ACCEPT,
    "decline": replies.DECLINE,
    "eta": replies.ETA,
    "arrived": replies.ARRIVED,
}


def answer_from_web(incident, negotiator, answer, eta=None, *, by) -> answers.Outcome:
    """A negotiator answers their callout on the web page instead of by SMS: recorded by the
    same engine function as an SMS reply (answers.record), on the channel "web". The outcome's
    text is what the SMS answer would have said; the page shows it. `by`: the negotiator's
    login (the event names the negotiator, as an SMS reply's does)."""
    if answer not in WEB_ANSWERS:
        raise ValidationError("Choose to attend or to decline.")
    if eta is not None and not 0 <= eta <= replies.MAX_ETA_MINUTES:
        raise ValidationError(f"An ETA is a number of minutes up to {replies.MAX_ETA_MINUTES}.")
    callout = Callout.objects.filter(incident=incident, negotiator=negotiator).first()
    if callout is None:
        raise ValidationError("You were not called to this incident.")
    events.log(
        incident,
        events.K.REPLY_RECEIVED,
        negotiator=negotiator,
        channel=WEB,
        text=f"(web page) {answer}" + (f" {eta}" if eta is not None else ""),
        understood=WEB_ANSWERS[answer],
        eta=eta,
    )
    return answers.record(callout.pk, WEB_ANSWERS[answer], eta, WEB, None, incident.pk)


WEB = "web"
CALL_AGAIN_FROM = (Incident.Status.EXHAUSTED, Incident.Status.STOOD_DOWN)


@locking.retried
def call_again(incident, *, by) -> Incident:
    """Start calling again for the places still open, needs unchanged: an exhausted incident
    (the steps ran out), or one stood down too soon. A new round from the first step, as
    raise_needs does; those stood down who did not decline are asked again first."""
    with transaction.atomic():
        locked = _locked(incident)
        if locked.status not in CALL_AGAIN_FROM:
            raise ValidationError("Only an exhausted or stood-down incident can be called again.")
        missing = answers.missing(locked)
        if escalation.is_filled(missing):
            raise ValidationError("Every place is filled: there is nobody to call.")
        was = locked.status
        answers.restart_escalation(locked)
        locked.stood_down_at = None
        locked.stood_down_by = None
        locked.save()
        events.log(locked, events.K.CALLED_AGAIN, actor=by, was=was, missing=missing)
        tasks.enqueue_step(locked.pk, 0)
    return locked


@locking.retried
def stand_down(incident, *, by) -> Incident:
    """Stop everything and tell everyone who accepted, or was asked and has not answered."""
    with transaction.atomic():
        locked = _locked(incident)
        if locked.status in (Incident.Status.STOOD_DOWN, Incident.Status.CLOSED):
            return locked
        now = timezone.now()
        told = answers.stand_down(locked, _call_off(locked), by=by, at=now)
        locked.status = Incident.Status.STOOD_DOWN
        locked.stood_down_at = now
        locked.stood_down_by = by if getattr(by, "is_authenticated", False) else None
        locked.next_step_at = None
        locked.save()
        events.log(locked, events.K.STOOD_DOWN, at=now, actor=by, told=told)
    return locked


@locking.retried
def close(incident, *, by) -> Incident:
    """Close: the incident is over. Anyone still out is stood down first."""
    with transaction.atomic():
        locked = _locked(incident)
        if locked.status == Incident.Status.CLOSED:
            return locked
        now = timezone.now()
        user = by if getattr(by, "is_authenticated", False) else None
        told = None
        if locked.status != Incident.Status.STOOD_DOWN:
            told = answers.stand_down(locked, _call_off(locked), by=by, at=now)
            locked.stood_down_at = now
            locked.stood_down_by = user
        locked.status = Incident.Status.CLOSED
        locked.closed_at = now
        locked.closed_by = user
        locked.next_step_at = None
        locked.save()
        events.log(locked, events.K.CLOSED, at=now, actor=by, told=told)
    return locked


def _call_off(incident) -> list[Callout]:
    """Everyone who accepted, or was asked and has not answered (their callouts locked, by
    pk); then what is pending is cancelled (its messages locked after them)."""
    out = incident.callouts.exclude(state__in=[Callout.State.DECLINED, Callout.State.STOOD_DOWN])
    callouts = list(
        out.select_related("negotiator").select_for_update(no_key=True, of=("self",)).order_by("pk")
    )
    outbox.cancel_pending(incident)
    return callouts


@transaction.atomic
def save_policy(policy, default_needs, steps, *, by) -> EscalationPolicy:
    """Save a policy (unsaved changes on `policy`) with its steps, in the order given.

    Steps are rewritten as a whole: positions are unique per policy, so renumbering
    in place would trip the constraint halfway through a reorder. Live incidents keep
    their frozen copy of the steps, whatever is saved here. `by`: the coordinator saving (a
    policy keeps no history of its own).
    """
    policy.default_needs = default_needs
    if policy.is_default:
        # One default per force (a constraint): clear the old one first.
        EscalationPolicy.objects.filter(force=policy.force, is_default=True).exclude(
            pk=policy.pk
        ).update(is_default=False)
    policy.save()
    policy.steps.all().delete()
    for position, data in enumerate(steps, start=1):
        step = EscalationStep.objects.create(
            policy=policy,
            position=position,
            audience=data["audience"],
            channel=data["channel"],
            wait_minutes=data["wait_minutes"],
        )
        step.named.set(data["named"])
    return policy


def record_access(what, *, by, incident=None, filters=None) -> AccessRecord:
    """One line of the access audit: who (`by`) viewed a timeline or took an export, with what
    filters."""
    return AccessRecord.objects.create(
        user=by if getattr(by, "is_authenticated", False) else None,
        what=what,
        incident=incident,
        filters={k: v for k, v in (filters or {}).items() if v not in (None, "", [])},
    )


def save_debrief(incident, *, outcome, lessons="", by) -> Debrief:
    """Write (or rewrite) an incident's debrief note; only once the incident is closed."""
    outcome, lessons = (outcome or "").strip(), (lessons or "").strip()
    errors = {}
    if incident.status != Incident.Status.CLOSED:
        errors["outcome"] = "A debrief is written once the incident is closed."
    elif not outcome:
        errors["outcome"] = "Say what the outcome was."
    if len(outcome) > 5000 or len(lessons) > 5000:
        errors["lessons"] = "Keep each part under 5,000 characters."
    if errors:
        raise ValidationError(errors)
    user = by if getattr(by, "is_authenticated", False) else None
    with transaction.atomic():
        debrief, created = Debrief.objects.select_for_update().get_or_create(
            incident=incident,
            defaults={
                "outcome": outcome,
                "lessons": lessons,
                "written_by": user,
                "updated_by": user,
            },
        )
        if not created:
            debrief.outcome, debrief.lessons, debrief.updated_by = outcome, lessons, user
            debrief.save()
    return debrief


# Control-room API tokens (made, checked and revoked by callouts.web.tokens) -------------


def save_api_token(user, name: str, prefix: str, key_hash: str, *, by) -> ApiToken:
    """Keep a new token's hash for `user`; `by=None`: an administrator's command made it."""
    return ApiToken.objects.create(user=user, name=name, prefix=prefix, key_hash=key_hash)


def note_api_token_used(token: ApiToken, at, *, by) -> None:
    """Record when a token was last used; `by`: its own login, using it."""
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=at)


def revoke_api_tokens(prefix: str, *, by) -> int:
    """Revoke the live tokens with this prefix; how many. `by=None`: an administrator's
    command."""
    return ApiToken.objects.filter(prefix=prefix, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


# A coordinator's hands on a live incident: an answer given by phone, a page by hand.

PHONE = "phone"
KEY = re.compile(r"[A-Za-z0-9_-]{8,64}")


@dataclass(frozen=True)
class Done:
    """What a coordinator's action did, said for the board; `repeated`: the same form came
    again (sent twice) and nothing more was done."""

    text: str
    repeated: bool = False


def _may_manage(by, incident):
    """Only those who manage the incident's force act on it (cadre.access), as the board's
    other buttons."""
    if not access.may(by, Can.MANAGE_INCIDENTS, incident.force_id):
        raise PermissionDenied("You do not manage this incident's force.")


def _clean_key(key) -> str:
    if not isinstance(key, str) or not KEY.fullmatch(key):
        raise ValidationError("This form is out of date: reload the board and try again.")
    return key


def _already(key, kind, incident, negotiator) -> Done | None:
    """The form with this key was acted on already (read under the incident's lock, so a
    second sending of it waits for the first and then finds it)."""
    done = BoardAction.objects.filter(key=key).first()
    if done is None:
        return None
    if (done.kind, done.incident_id, done.negotiator_id) != (kind, incident.pk, negotiator.pk):
        raise ValidationError("This form is out of date: reload the board and try again.")
    return Done(f"Already done: that form was sent twice ({negotiator.callsign}).", True)


def _ask(incident, negotiator) -> Callout:
    """A callout for someone not asked yet, for the roles still needed that they hold."""
    needed = [role for role, n in incident.needs.items() if n and negotiator.has_role(role)]
    return Callout.objects.create(
        incident=incident,
        negotiator=negotiator,
        asked_roles=needed or list(negotiator.roles),
        first_step=max(incident.step_index, 0),
    )


def _open(incident, negotiator, kind, key) -> tuple[Incident, Callout | None, Done | None]:
    """A board action's start, in the caller's transaction: the incident locked first, then
    whether this form was acted on already (a Done to return as it is), their callout locked
    after it (callouts.locking), and calling must have started."""
    locked = _locked(incident)
    repeated = _already(key, kind, locked, negotiator)
    if repeated:
        return locked, None, repeated
    callout = _locked_callout(locked, negotiator)
    _started(locked)
    return locked, callout, None


def _texts_stopped(negotiator, callout) -> bool:
    """They sent STOP: remembered on the person (whenever it was sent), or seen on this
    incident's callout. Twilio refuses SMS to them (21610) until they send START."""
    return negotiator.texts_stopped or (callout is not None and callout.keyword == "stop")


def _started(incident):
    """Calling has begun: the first step has fired (within a second or two of raising). Before
    it, the escalation takes nobody as asked yet, and a callout made by hand would be made
    again by the step."""
    if (incident.status, incident.round, incident.step_index) == (Incident.Status.CALLING, 0, -1):
        raise ValidationError("Calling is just starting: try again in a moment.")


def _locked_callout(incident, negotiator) -> Callout | None:
    """Their callout on the locked incident, locked after it (callouts.locking)."""
    return (
        Callout.objects.select_for_update(no_key=True, of=("self",))
        .filter(incident=incident, negotiator=negotiator)
        .first()
    )


def _newcomer_problem(incident, negotiator, now) -> str | None:
    """Why someone not asked may not be added to the incident by hand (None: they may)."""
    if negotiator.force_id != incident.force_id:
        return (
            f"{negotiator.callsign} is not of {incident.force.code}: only people of the "
            "incident's force can be added by hand."
        )
    person = queries.standings(incident, [negotiator], now)[negotiator.pk]
    if not person.active:
        return f"{negotiator.callsign} has left the cadre."
    if not person.accredited:
        return f"{negotiator.callsign} has a lapsed accreditation and must not be called out."
    return None


def _recorded(callsign, answer, outcome, minutes, texted) -> str:
    """What the board says once an answer by phone is recorded."""
    match outcome:
        case "accepted":
            said = f"recorded as accepted, ETA {minutes} min"
        case "late" | "not_needed":
            said = "accepted, but every place they could fill is taken: recorded as late"
        case "arrived":
            said = "recorded as arrived"
        case _ if answer == hands.Phoned.WITHDREW:
            said = "recorded as withdrawn: their place is open again"
        case _:
            said = "recorded as declined"
    if not texted:
        return f"{callsign} {said}; not texted: they sent STOP."
    if outcome == "accepted":
        return f"{callsign} {said}; texted to confirm with the rendezvous."
    if outcome in ("late", "not_needed"):
        return f"{callsign} {said}; texted that they are not needed."
    return f"{callsign} {said}; texted to confirm."


@locking.retried
def record_phoned_answer(incident, negotiator, answer, eta=None, *, key, by) -> Done:
    """Record for `negotiator` what they said on the phone (engine.hands.Phoned: accepted
    with an ETA, declined, arrived, withdrew), counted exactly as the same reply by SMS
    (engine.answers.record, on the channel "phone"): the same places, fill and stand-down.
    Someone not asked yet is asked first (a callout made for them). They are texted the
    answer an SMS would have had, rendezvous included; the log says who recorded it.
    Refused with a ValidationError, nothing changed: no ETA to an acceptance, a person of
    another force not asked, a lapsed accreditation, an incident that is over."""
    _may_manage(by, incident)
    key = _clean_key(key)
    now = timezone.now()
    with transaction.atomic():
        locked, callout, repeated = _open(incident, negotiator, BoardAction.Kind.ANSWER, key)
        if repeated:
            return repeated
        try:
            kind, minutes = hands.phoned_reply(
                answer, eta, locked.status, callout.state if callout else None
            )
        except hands.Refused as refused:
            raise ValidationError(f"{negotiator.callsign}: {refused}") from None
        new = callout is None
        if new:
            problem = _newcomer_problem(locked, negotiator, now)
            if problem:
                raise ValidationError(problem)
            callout = _ask(locked, negotiator)
        BoardAction.objects.create(
            key=key,
            kind=BoardAction.Kind.ANSWER,
            incident=locked,
            negotiator=negotiator,
            what=answer,
            by=by,
        )
        events.log(
            locked,
            events.K.ANSWER_RECORDED,
            actor=by,
            negotiator=negotiator,
            channel=PHONE,
            answer=answer,
            eta=minutes,
            new=new or None,
        )
        outcome = answers.record(callout.pk, kind, minutes, PHONE, None, locked.pk)
        texted = not _texts_stopped(negotiator, callout)
        if texted:
            outbox.answer(
                channel=Channel.SMS,
                purpose=Message.Purpose.REPLY,
                negotiator=negotiator,
                incident=locked,
                to_number=negotiator.mobile,
                body=texts.phoned_answer_sms(outcome.text),
            )
        status = Incident.objects.values_list("status", flat=True).get(pk=locked.pk)
    text = _recorded(negotiator.callsign, answer, outcome.kind, minutes, texted)
    if status == Incident.Status.FILLED and locked.status != Incident.Status.FILLED:
        text += " Every place is filled now: the others are stood down."
    return Done(text)


@locking.retried
def page(incident, negotiator, channel, *, key, by) -> Done:
    """Page `negotiator` now by SMS, voice or both: someone not asked yet (a callout made
    for them), or someone asked already, again ("call again" for one). Saved through the
    outbox before anything is sent, once per form (`key`); the log says who asked.
    Refused with a ValidationError, nothing sent: someone unavailable, lapsed or already
    coming, a person of another force not asked, an incident filled or over."""
    _may_manage(by, incident)
    key = _clean_key(key)
    now = timezone.now()
    with transaction.atomic():
        locked, callout, repeated = _open(incident, negotiator, BoardAction.Kind.PAGE, key)
        if repeated:
            return repeated
        if callout is None and negotiator.force_id != locked.force_id:
            raise ValidationError(
                f"{negotiator.callsign} is not of {locked.force.code}: only people of the "
                "incident's force can be paged by hand."
            )
        person = queries.standings(locked, [negotiator], now)[negotiator.pk]
        sent_stop = _texts_stopped(negotiator, callout)
        problem = hands.page_problem(
            callsign=negotiator.callsign,
            standing_now=hands.standing(person, now),
            incident_status=locked.status,
            state=callout.state if callout else None,
            channel=channel,
            sent_stop=sent_stop,
        )
        if problem:
            raise ValidationError(problem)
        BoardAction.objects.create(
            key=key,
            kind=BoardAction.Kind.PAGE,
            incident=locked,
            negotiator=negotiator,
            what=channel,
            by=by,
        )
        was = callout.state if callout else ""
        if callout is None:
            callout = _ask(locked, negotiator)
        elif callout.state not in (Callout.State.ASKED, Callout.State.DELIVERED):
            # Asked again: still to answer, as the board shows it.
            callout.state, callout.stood_down_at = Callout.State.ASKED, None
            callout.save(update_fields=["state", "stood_down_at"])
        channels = hands.page_channels(channel, sent_stop)
        bodies = {Channel.SMS: texts.callout_sms(locked), Channel.VOICE: texts.voice_script(locked)}
        created = outbox.insert(
            [
                outbox.new_message(
                    channel=each,
                    purpose=Message.Purpose.CALLOUT,
                    incident=locked,
                    callout=callout,
                    negotiator=negotiator,
                    step=None,  # by hand: no step of the escalation's
                    round=locked.round,
                    to_number=negotiator.mobile,
                    body=bodies[each],
                )
                for each in channels
            ]
        )
        outbox.queue(created)
        used = "both" if len(channels) == 2 else channels[0]
        events.log(
            locked,
            events.K.PAGED,
            actor=by,
            negotiator=negotiator,
            channel=used,
            again=bool(was) or None,
            was=was,
        )
    how = {"sms": "by SMS", "voice": "by voice call", "both": "by SMS and voice call"}[used]
    text = f"Paging {negotiator.callsign} {how}" + (" again." if was else ".")
    if sent_stop and channel == "both":
        text += " No SMS: they sent STOP."
    return Done(text)
