"""Loading incidents for pages and the API: who may see which, and their boards."""

from django.db.models import Q

from cadre import access
from cadre.access import Can
from cadre.queries import negotiator_for
from callouts import board
from callouts.messaging import replies
from callouts.models import Callout, Incident, Message


def can_manage(user, force=None) -> bool:
    """Raise incidents, raise needs, stand down and close (in `force`, or in any force)."""
    return access.may(user, Can.MANAGE_INCIDENTS, force)


def managed_incidents(user):
    """Incidents of the forces where the user raises and manages them: an id from anywhere
    else is a 404."""
    forces = access.force_ids(user, Can.MANAGE_INCIDENTS)
    return Incident.objects.select_related("force").filter(force__in=forces)


def visible_incidents(user):
    """Managers see their forces' incidents and, through mutual aid, a neighbour's incidents
    that called their people; a negotiator sees those they were called to."""
    forces = access.force_ids(user, Can.MANAGE_INCIDENTS)
    seen = Q(force__in=forces) | Q(callouts__negotiator__force__in=forces)
    negotiator = negotiator_for(user)
    if negotiator is not None:
        seen |= Q(callouts__negotiator=negotiator)
    if not forces and negotiator is None:
        return Incident.objects.none()
    return Incident.objects.select_related("force").filter(seen)


def view_of(user, incident) -> access.scope.IncidentView:
    """How much of `incident` the user sees (cadre.scope.incident_view)."""
    called = Callout.objects.filter(incident=incident).values_list(
        "negotiator__force_id", flat=True
    )
    negotiator = negotiator_for(user)
    called_me = negotiator is not None and (
        Callout.objects.filter(incident=incident, negotiator=negotiator).exists()
    )
    return access.incident_view(user, incident.force_id, set(called), called_me)


def seen_callouts(view, user, callouts):
    """The callouts of an incident the view allows (all, the lent forces' or one's own)."""
    if view.manage:
        return callouts
    if view.row_forces:
        return callouts.filter(negotiator__force__in=view.row_forces)
    return callouts.filter(negotiator=negotiator_for(user)) if view.own_only else callouts.none()


def latest_statuses(callout_ids) -> dict[int, dict[str, tuple[str, str]]]:
    """Latest outgoing callout message (status, error code) per callout and channel."""
    latest: dict[int, dict[str, tuple[str, str]]] = {}
    messages = (
        Message.objects.filter(
            callout_id__in=callout_ids,
            direction=Message.Direction.OUT,
            purpose=Message.Purpose.CALLOUT,
        )
        .order_by("created_at", "pk")
        .values_list("callout_id", "channel", "status", "error_code")
    )
    for callout_id, channel, status, error_code in messages:
        latest.setdefault(callout_id, {})[channel] = (status, error_code)
    return latest


KEYWORDS = {replies.OPT_OUT: "stop", replies.OPT_IN: "start", replies.HELP: "help"}


def latest_keywords(callouts) -> dict[int, str]:
    """STOP, START or HELP sent by each person since they were asked, the latest one."""
    if not callouts:
        return {}
    since = min(c.asked_at for c in callouts)
    by_person: dict[int, list] = {}
    inbound = (
        Message.objects.filter(
            direction=Message.Direction.IN,
            channel="sms",
            negotiator_id__in={c.negotiator_id for c in callouts},
            created_at__gte=since,
        )
        .order_by("created_at", "pk")
        .values_list("negotiator_id", "created_at", "body")
    )
    for negotiator_id, at, body in inbound:
        kind = replies.parse(body).kind
        if kind in KEYWORDS:
            by_person.setdefault(negotiator_id, []).append((at, KEYWORDS[kind]))
    result = {}
    for c in callouts:
        sent = [word for at, word in by_person.get(c.negotiator_id, []) if at >= c.asked_at]
        if sent:
            result[c.pk] = sent[-1]
    return result


def facts_for(callouts, names_of=None) -> list[board.CalloutFacts]:
    """Board facts; names and mobiles only of people from the forces in `names_of` (force
    ids; None: everyone's, for the engine and tests), blank for the rest."""
    callouts = list(callouts)

    def named(c):
        return names_of is None or c.negotiator.force_id in names_of

    statuses = latest_statuses([c.pk for c in callouts])
    keywords = latest_keywords(callouts)
    return [
        board.CalloutFacts(
            callsign=c.negotiator.callsign,
            state=c.state,
            asked_roles=tuple(c.asked_roles or ()),
            role=c.role,
            eta_minutes=c.eta_minutes,
            asked_at=c.asked_at,
            answered_at=c.answered_at,
            arrived_at=c.arrived_at,
            stood_down_at=c.stood_down_at,
            late=c.late,
            sms_unreachable=c.sms_unreachable,
            voice_unreachable=c.voice_unreachable,
            channels={ch: s for ch, (s, _) in statuses.get(c.pk, {}).items()},
            errors={ch: e for ch, (_, e) in statuses.get(c.pk, {}).items()},
            full_name=c.negotiator.full_name if named(c) else "",
            mobile=c.negotiator.mobile if named(c) else "",
            callout_id=c.pk,
            keyword=keywords.get(c.pk, ""),
        )
        for c in callouts
    ]


def board_for(incident, only_negotiator=None, user=None) -> board.Board:
    """The incident's board; for `user`, only the rows and names they may see."""
    callouts = Callout.objects.filter(incident=incident).select_related("negotiator")
    if only_negotiator is not None:
        callouts = callouts.filter(negotiator=only_negotiator)
    names_of = None
    if user is not None:
        view = view_of(user, incident)
        callouts, names_of = seen_callouts(view, user, callouts), view.names_of
    return board.build(incident.needs or {}, facts_for(callouts, names_of))


def boards_for(incidents, user=None) -> dict[int, board.Board]:
    """Boards for a page of incidents in three queries, for the history list; for `user`
    (a manager), only the rows and names they may see."""
    incidents = list(incidents)
    by_incident: dict[int, list] = {i.pk: [] for i in incidents}
    callouts = Callout.objects.filter(incident__in=incidents).select_related("negotiator")
    names_of = None
    if user is not None:
        managed = access.force_ids(user, Can.MANAGE_INCIDENTS)
        callouts = callouts.filter(
            Q(incident__force__in=managed) | Q(negotiator__force__in=managed)
        )
        names_of = access.force_ids(user, Can.SEE_NAMES)
    callouts = list(callouts)
    for callout, facts in zip(callouts, facts_for(callouts, names_of), strict=True):
        by_incident[callout.incident_id].append(facts)
    return {i.pk: board.build(i.needs or {}, by_incident[i.pk]) for i in incidents}
