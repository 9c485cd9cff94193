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

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from cadre.models import Role
from callouts import events, frozen, locking, rules, tasks
from callouts.engine import answers, escalation
from callouts.engine import policy as policies
from callouts.messaging import outbox, reference, replies
from callouts.models import (
    AccessRecord,
    ApiToken,
    Callout,
    Debrief,
    EscalationPolicy,
    EscalationStep,
    Incident,
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
