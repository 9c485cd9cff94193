"""Who a step's audience reaches, loaded as plain candidates for escalation.decide."""

from django.db.models import Count, Q

from cadre.models import ROLE_FIELDS, LoginRole, Negotiator, Role
from cadre.queries import users_with_roles
from callouts.engine import escalation
from callouts.frozen import FrozenStep
from callouts.models import Callout, Incident
from roster import queries as roster
from roster.models import Unavailability


def busy_elsewhere(incident) -> set[int]:
    """People deployed on another live incident: accepted there and not stood down."""
    return set(
        Callout.objects.filter(state=Callout.State.ACCEPTED, incident__status__in=Incident.LIVE)
        .exclude(incident=incident)
        .values_list("negotiator_id", flat=True)
    )


def _on_call(forces, at) -> list[escalation.Candidate]:
    roles: dict[int, set[str]] = {}
    stopped = set()
    for force in forces:
        for role, people in roster.on_call(force, at).items():
            for person in people:
                roles.setdefault(person.pk, set()).add(role)
                if person.texts_stopped:
                    stopped.add(person.pk)
    return [
        escalation.Candidate(pk, frozenset(r), texts_stopped=pk in stopped)
        for pk, r in roles.items()
    ]


def _members(queryset, at) -> list[escalation.Candidate]:
    """Whole people (every role they hold), deployable by the cadre rule and not marked away."""
    deployable = set(Negotiator.objects.deployable(at).values_list("pk", flat=True))
    away = set(
        Unavailability.objects.filter(start__lte=at, end__gt=at).values_list(
            "negotiator_id", flat=True
        )
    )
    return [
        escalation.Candidate(
            n.pk,
            frozenset(n.roles),
            deployable=n.pk in deployable and n.pk not in away,
            texts_stopped=n.texts_stopped,
        )
        for n in queryset.order_by("callsign", "pk")
    ]


def candidates(incident, step: FrozenStep, at) -> list[escalation.Candidate]:
    audience = step.audience
    if audience == escalation.ON_CALL:
        found = _on_call([incident.force], at)
    elif audience == escalation.MUTUAL_AID:
        found = _on_call(list(incident.force.neighbours.all()), at)
    elif audience == escalation.FORCE:
        found = _members(Negotiator.objects.filter(force=incident.force), at)
    elif audience == escalation.NAMED:
        found = _members(Negotiator.objects.filter(pk__in=step.named), at)
    elif audience == escalation.UNANSWERED:
        found = _members(Negotiator.objects.filter(callouts__incident=incident), at)
    elif audience == escalation.MANAGERS:
        return [escalation.Candidate(n.pk, frozenset()) for n in managers(incident)]
    else:
        return []
    busy = busy_elsewhere(incident)
    return [
        escalation.Candidate(
            c.id,
            c.roles,
            deployable=c.deployable,
            busy=c.id in busy,
            texts_stopped=c.texts_stopped,
        )
        for c in found
    ]


def managers(incident) -> list[Negotiator]:
    """Who hears that an incident is short, by SMS to their negotiator record's mobile.

    Coordinators of the force (its negotiators holding the coordinator role), logins
    that coordinate or supervise the force (their memberships) and have a negotiator
    record, and whoever raised the incident. A supervisor without a negotiator record
    has no mobile here: they see it on the board.
    """
    users = users_with_roles(incident.force_id, LoginRole.COORDINATOR, LoginRole.SUPERVISOR)
    condition = Q(force=incident.force, is_coordinator=True) | Q(user__in=users)
    if incident.raised_by_id:
        condition |= Q(user_id=incident.raised_by_id)
    return list(Negotiator.objects.filter(condition, active=True).distinct().order_by("callsign"))


def supply(incident, at) -> dict[str, int]:
    """How many deployable members of the force hold each role: fewer means scarcer."""
    people = Negotiator.objects.deployable(at).filter(force_id=incident.force_id)
    return people.aggregate(
        **{role: Count("pk", filter=Q(**{ROLE_FIELDS[role]: True})) for role in Role.values}
    )
