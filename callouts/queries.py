"""Loading incidents for pages and the API: who may see which, and their boards."""

from cadre import access
from cadre.queries import forces_for, negotiator_for
from callouts import board
from callouts.messaging import replies
from callouts.models import Callout, Incident, Message


def can_manage(user) -> bool:
    """Raise incidents, raise needs, stand down and close."""
    return access.in_group(user, access.COORDINATOR, access.SUPERVISOR)


def visible_incidents(user):
    """Coordinators and supervisors see their forces' incidents; others only those they were
    called to."""
    incidents = Incident.objects.select_related("force")
    if can_manage(user):
        return incidents.filter(force__in=forces_for(user))
    negotiator = negotiator_for(user)
    if negotiator is None:
        return incidents.none()
    return incidents.filter(callouts__negotiator=negotiator)


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


def facts_for(callouts) -> list[board.CalloutFacts]:
    callouts = list(callouts)
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
            full_name=c.negotiator.full_name,
            mobile=c.negotiator.mobile,
            callout_id=c.pk,
            keyword=keywords.get(c.pk, ""),
        )
        for c in callouts
    ]


def board_for(incident, only_negotiator=None) -> board.Board:
    callouts = Callout.objects.filter(incident=incident).select_related("negotiator")
    if only_negotiator is not None:
        callouts = callouts.filter(negotiator=only_negotiator)
    return board.build(incident.needs or {}, facts_for(callouts))


def boards_for(incidents) -> dict[int, board.Board]:
    """Boards for a page of incidents in three queries, for the history list."""
    incidents = list(incidents)
    by_incident: dict[int, list] = {i.pk: [] for i in incidents}
    callouts = list(Callout.objects.filter(incident__in=incidents).select_related("negotiator"))
    for callout, facts in zip(callouts, facts_for(callouts), strict=True):
        by_incident[callout.incident_id].append(facts)
    return {i.pk: board.build(i.needs or {}, by_incident[i.pk]) for i in incidents}
