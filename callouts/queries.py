"""Loading incidents for pages and the API: who may see which, and their boards."""

from datetime import datetime, time, timedelta

from cadre import access
from cadre.queries import forces_for, negotiator_for
from cadre.rules import local_tz
from callouts import board, timeline
from callouts.models import Callout, Deployment, Event, Incident, Message


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


def deployment_of(callout):
    """The callout's deployment (loaded with select_related), or None."""
    try:
        return callout.deployment
    except Callout.deployment.RelatedObjectDoesNotExist:
        return None


def facts_for(callouts) -> list[board.CalloutFacts]:
    """Board facts for callouts loaded with select_related("negotiator", "deployment")."""
    callouts = list(callouts)
    statuses = latest_statuses([c.pk for c in callouts])
    facts = []
    for c in callouts:
        deployed = deployment_of(c)
        went = deployed is not None and deployed.went
        facts.append(
            board.CalloutFacts(
                callsign=c.negotiator.callsign,
                state=c.state,
                asked_roles=tuple(c.asked_roles or ()),
                role=deployed.role if went else c.role,
                eta_minutes=deployed.eta_minutes if went else c.eta_minutes,
                asked_at=c.asked_at,
                answered_at=c.answered_at,
                arrived_at=(deployed.arrived_at if went else None) or c.arrived_at,
                stood_down_at=deployed.stood_down_at if went else c.stood_down_at,
                late=c.late,
                sms_unreachable=c.sms_unreachable,
                voice_unreachable=c.voice_unreachable,
                channels={ch: s for ch, (s, _) in statuses.get(c.pk, {}).items()},
                errors={ch: e for ch, (_, e) in statuses.get(c.pk, {}).items()},
                full_name=c.negotiator.full_name,
                mobile=c.negotiator.mobile,
                callout_id=c.pk,
                keyword=c.keyword,
                went=went,
                accepted_at=deployed.accepted_at if went else None,
                eta_at=deployed.eta_at if went else None,
            )
        )
    return facts


def _callouts():
    return Callout.objects.select_related("negotiator", "deployment")


def board_for(incident, only_negotiator=None) -> board.Board:
    callouts = _callouts().filter(incident=incident)
    if only_negotiator is not None:
        callouts = callouts.filter(negotiator=only_negotiator)
    return board.build(incident.needs or {}, facts_for(callouts))


def boards_for(incidents) -> dict[int, board.Board]:
    """Boards for a page of incidents in two queries, for the history list."""
    incidents = list(incidents)
    by_incident: dict[int, list] = {i.pk: [] for i in incidents}
    callouts = list(_callouts().filter(incident__in=incidents))
    for callout, facts in zip(callouts, facts_for(callouts), strict=True):
        by_incident[callout.incident_id].append(facts)
    return {i.pk: board.build(i.needs or {}, by_incident[i.pk]) for i in incidents}


def board_alerts(incident) -> list[Message]:
    """Alerts with nobody to text: the board is where they are recorded, so it shows them."""
    return list(
        Message.objects.filter(
            incident=incident, purpose=Message.Purpose.ALERT, to_number=""
        ).order_by("created_at", "pk")
    )


def _name(user) -> str:
    return user.get_username() if user is not None else ""


def timeline_for(incident, only_negotiator=None, person="") -> timeline.Timeline:
    """The incident's log and who went; a negotiator's own lines only when `only_negotiator`.

    Three queries however long the log.
    """
    events = Event.objects.filter(incident=incident).select_related("negotiator", "actor")
    deployments = Deployment.objects.filter(incident=incident).select_related(
        "negotiator", "stood_down_by"
    )
    if only_negotiator is not None:
        events = events.filter(negotiator=only_negotiator)
        deployments = deployments.filter(negotiator=only_negotiator)
    return timeline.build(
        incident.raised_at,
        incident.needs or {},
        [
            timeline.EventFacts(
                at=e.at,
                kind=e.kind,
                callsign=e.negotiator.callsign if e.negotiator else "",
                actor=_name(e.actor),
                role=e.role,
                channel=e.channel,
                data=e.data or {},
            )
            for e in events.order_by("at", "pk")
        ],
        [
            timeline.DeploymentFacts(
                callsign=d.negotiator.callsign,
                role=d.role,
                accepted_at=d.accepted_at,
                late=d.late,
                eta_minutes=d.eta_minutes,
                eta_at=d.eta_at,
                arrived_at=d.arrived_at,
                withdrawn_at=d.withdrawn_at,
                stood_down_at=d.stood_down_at,
                stood_down_by=_name(d.stood_down_by),
            )
            for d in deployments
        ],
        person=person,
    )


def filter_incidents(
    incidents, since=None, until=None, kind="", status="", force=None, mutual_aid=""
):
    """The incident list's filters; dates are whole days in TIME_ZONE."""
    tz = local_tz()
    if since:
        incidents = incidents.filter(raised_at__gte=datetime.combine(since, time(), tz))
    if until:
        end = datetime.combine(until + timedelta(days=1), time(), tz)
        incidents = incidents.filter(raised_at__lt=end)
    if kind:
        incidents = incidents.filter(kind=kind)
    if status == "live":
        incidents = incidents.filter(status__in=Incident.LIVE)
    elif status:
        incidents = incidents.filter(status=status)
    if force is not None:
        incidents = incidents.filter(force=force)
    if mutual_aid:
        incidents = incidents.filter(mutual_aid=mutual_aid == "yes")
    return incidents
