"""Escalation steps as data: the built-in default and freezing a policy onto an incident.

The default, timed from the moment the incident is raised:
  0 min  SMS to those on call for the missing roles
  3 min  voice call to them, and SMS to every deployable member not yet asked
  8 min  voice call to everyone asked who has not answered
 12 min  mutual aid: SMS and voice to those on call in neighbouring forces
 20 min  alert coordinators and supervisors that the incident is short; then exhausted:
         the coordinators on call and the supervisors are texted and called
 30 min  still short: texted and called again (the policy's tell_after_minutes)
A step with wait 0 is followed at once by the next, which is how "voice to them
and SMS to everyone" is two steps firing together.
"""

from datetime import timedelta

from callouts import frozen
from callouts.models import TELL_AFTER_MINUTES, Audience, Channel

DEFAULT_POLICY_NAME = "Standard"

DEFAULT_STEPS = (
    {"audience": Audience.ON_CALL, "channel": Channel.SMS, "wait_minutes": 3},
    {"audience": Audience.ON_CALL, "channel": Channel.VOICE, "wait_minutes": 0},
    {"audience": Audience.FORCE, "channel": Channel.SMS, "wait_minutes": 5},
    {"audience": Audience.UNANSWERED, "channel": Channel.VOICE, "wait_minutes": 4},
    {"audience": Audience.MUTUAL_AID, "channel": Channel.BOTH, "wait_minutes": 8},
    {"audience": Audience.MANAGERS, "channel": Channel.SMS, "wait_minutes": 0},
)


def frozen_step(audience, channel, wait_minutes, named=()) -> frozen.FrozenStep:
    return frozen.step(audience, channel, wait_minutes, named)


def freeze(policy) -> list[frozen.FrozenStep]:
    """The policy's steps as frozen steps (stored with frozen.dump), or the built-in default
    when there is no policy."""
    if policy is None:
        return [frozen_step(**step) for step in DEFAULT_STEPS]
    return [
        frozen_step(s.audience, s.channel, s.wait_minutes, [n.pk for n in s.named.all()])
        for s in policy.steps.order_by("position").prefetch_related("named")
    ]


def tell_after(policy) -> timedelta:
    """How long after raising a human is texted and called if it is still short (frozen onto
    the incident as its tell_if_short_at; callouts.engine.unfilled)."""
    return timedelta(minutes=policy.tell_after_minutes if policy else TELL_AFTER_MINUTES)


def create_default_policy(force):
    """The default policy for a force (idempotent)."""
    from callouts.models import EscalationPolicy, EscalationStep

    policy, created = EscalationPolicy.objects.get_or_create(
        force=force,
        name=DEFAULT_POLICY_NAME,
        defaults={"is_default": not force.policies.filter(is_default=True).exists()},
    )
    if created:
        EscalationStep.objects.bulk_create(
            EscalationStep(policy=policy, position=i, **step)
            for i, step in enumerate(DEFAULT_STEPS)
        )
    return policy
