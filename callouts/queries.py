"""Loading incidents for pages and the API: who may see which, and their boards."""

from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta

from django.core.paginator import Paginator
from django.db.models import Case, Count, F, Max, Q, When, Window
from django.db.models.functions import RowNumber

from cadre import access
from cadre.access import Can
from cadre.models import Negotiator
from cadre.queries import negotiator_for
from cadre.rules import local_tz
from callouts import board, eventdata, timeline
from callouts.engine import audiences, hands
from callouts.models import (
    ApiToken,
    Callout,
    Debrief,
    Deployment,
    EscalationPolicy,
    Event,
    Incident,
    Message,
)
from roster import queries as roster_queries
from roster.models import Unavailability


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
    that called their people; a negotiator sees those they were called to. Each once: no
    DISTINCT needed."""
    forces = access.force_ids(user, Can.MANAGE_INCIDENTS)
    # Subqueries, not joins: joined to every callout, the list needed DISTINCT over all of
    # them (five years of one force: 360 ms a page where it took 90).
    ours = Q(negotiator__force__in=forces)
    negotiator = negotiator_for(user)
    if negotiator is not None:
        ours |= Q(negotiator=negotiator)
    if not forces and negotiator is None:
        return Incident.objects.none()
    called = Callout.objects.filter(ours).values("incident_id")
    seen = Q(force__in=forces) | Q(pk__in=called)
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


def only_seen(queryset, people, incident):
    """Of one incident's callouts, deployments or events, those `people` sees (no filter at
    all where it sees everyone: the board is read every few seconds)."""
    return queryset if people.sees_everyone(incident.force_id) else queryset.filter(seen(people))


def seen(people) -> Q:
    """cadre.scope.People.sees as a filter on callouts, deployments or events (each has an
    incident and a person): the rows a login sees of incidents it may see. An event about
    nobody in particular (raised, a step, filled) only with every_of."""
    shown = Q(incident__force__in=people.every_of) | Q(negotiator__force__in=people.own_of)
    return shown | Q(negotiator_id=people.me) if people.me is not None else shown


def callout_messages(callout_ids):
    """The outgoing callout messages of these callouts in one query: the latest (status, error
    code, created) per callout and channel, and when each went (created), oldest first."""
    latest: dict[int, dict[str, tuple[str, str, datetime]]] = {}
    times: dict[int, tuple[datetime, ...]] = {}
    messages = (
        Message.objects.filter(
            callout_id__in=callout_ids,
            direction=Message.Direction.OUT,
            purpose=Message.Purpose.CALLOUT,
        )
        .order_by("created_at", "pk")
        .values_list("callout_id", "channel", "status", "error_code", "created_at")
    )
    for callout_id, channel, status, error_code, created_at in messages:
        latest.setdefault(callout_id, {})[channel] = (status, error_code, created_at)
        times[callout_id] = (*times.get(callout_id, ()), created_at)
    return latest, times


def deployment_of(callout):
    """The callout's deployment (loaded with select_related), or None."""
    try:
        return callout.deployment
    except Callout.deployment.RelatedObjectDoesNotExist:
        return None


@dataclass(frozen=True)
class Heard:
    """What a person last said about an incident, and when they were last stood down."""

    said: str = ""
    said_at: datetime | None = None
    called_off_at: datetime | None = None


def last_replies(incident) -> dict[int, Heard]:
    """What each person last said about the incident, as they said it (negotiator id →
    Heard): an SMS reply's words, a keypress, an answer on the web page; and when they were
    last stood down. One query."""
    heard: dict[int, Heard] = {}
    lines = (
        Event.objects.filter(
            incident=incident,
            kind__in=[
                Event.Kind.REPLY_RECEIVED,
                Event.Kind.KEY_PRESSED,
                Event.Kind.PERSON_STOOD_DOWN,
            ],
        )
        .exclude(negotiator=None)
        .order_by("at", "pk")
        .values_list("negotiator_id", "kind", "data", "at")
    )
    for negotiator_id, kind, data, at in lines:
        was = heard.get(negotiator_id, Heard())
        if kind == Event.Kind.PERSON_STOOD_DOWN:
            heard[negotiator_id] = replace(was, called_off_at=at)
            continue
        data = eventdata.read(kind, data)
        if kind == Event.Kind.KEY_PRESSED:
            text = f"pressed {data.get('key', '?')} on the call"
        else:
            text = str(data.get("text", ""))
        heard[negotiator_id] = replace(was, said=text, said_at=at)
    return heard


def facts_for(callouts, names_of=None, said=None) -> list[board.CalloutFacts]:
    """Board facts for callouts loaded with select_related("negotiator", "deployment");
    names and mobiles only of people from the forces in `names_of` (force ids; None:
    everyone's, for the engine and tests), blank for the rest."""
    callouts = list(callouts)

    def named(c):
        return names_of is None or c.negotiator.force_id in names_of

    statuses, times = callout_messages([c.pk for c in callouts])
    facts = []
    for c in callouts:
        deployed = deployment_of(c)
        went = deployed is not None and deployed.went
        heard = (said or {}).get(c.negotiator_id, Heard())
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
                channels={ch: s for ch, (s, _, _) in statuses.get(c.pk, {}).items()},
                errors={ch: e for ch, (_, e, _) in statuses.get(c.pk, {}).items()},
                channel_times={ch: t for ch, (_, _, t) in statuses.get(c.pk, {}).items()},
                asked_times=times.get(c.pk, ()),
                full_name=c.negotiator.full_name if named(c) else "",
                mobile=c.negotiator.mobile if named(c) else "",
                callout_id=c.pk,
                keyword=c.keyword,
                went=went,
                accepted_at=deployed.accepted_at if went else None,
                eta_at=deployed.eta_at if went else None,
                last_reply=heard.said,
                last_reply_at=heard.said_at,
                called_off_at=heard.called_off_at,
                texts_stopped=c.negotiator.texts_stopped,
            )
        )
    return facts


def _callouts():
    return Callout.objects.select_related("negotiator", "deployment")


def board_for(incident, only_negotiator=None, user=None) -> board.Board:
    """The incident's board; for `user`, only the rows and names they may see."""
    callouts = _callouts().filter(incident=incident)
    if only_negotiator is not None:
        callouts = callouts.filter(negotiator=only_negotiator)
    names_of = None
    if user is not None:
        people = access.people(user)
        callouts, names_of = only_seen(callouts, people, incident), people.names_of
    return board.build(
        incident.needs or {},
        facts_for(callouts, names_of, last_replies(incident)),
        live=incident.status in Incident.LIVE,
    )


def boards_for(incidents, user=None) -> dict[int, board.Board]:
    """Boards for a page of incidents in two queries, for the history list; for `user`,
    only the rows and names they may see."""
    incidents = list(incidents)
    by_incident: dict[int, list] = {i.pk: [] for i in incidents}
    callouts = _callouts().filter(incident__in=incidents)
    names_of = None
    if user is not None:
        people = access.people(user)
        callouts, names_of = callouts.filter(seen(people)), people.names_of
    callouts = list(callouts)
    for callout, facts in zip(callouts, facts_for(callouts, names_of), strict=True):
        by_incident[callout.incident_id].append(facts)
    return {
        i.pk: board.build(i.needs or {}, by_incident[i.pk], live=i.status in Incident.LIVE)
        for i in incidents
    }


ALERTS_SHOWN = 20  # the board shows the newest; the timeline has every one


def board_alerts(incident) -> tuple[list[Message], int]:
    """Alerts with nobody to text: the board is where they are recorded, so it shows the
    newest ALERTS_SHOWN of them (oldest first), with how many there are in all."""
    alerts = Message.objects.filter(incident=incident, purpose=Message.Purpose.ALERT, to_number="")
    newest = list(alerts.order_by("-created_at", "-pk")[:ALERTS_SHOWN])[::-1]
    return newest, len(newest) if len(newest) < ALERTS_SHOWN else alerts.count()


def unfilled_tellings(incident) -> tuple[board.Telling, ...]:
    """When a human was told the incident is not filling, whom and how (callouts.board)."""
    found = Event.objects.filter(incident=incident, kind=Event.Kind.UNFILLED).order_by("at", "pk")
    events = [
        (at, eventdata.read(Event.Kind.UNFILLED, data))
        for at, data in found.values_list("at", "data")
    ]
    if not events:
        return ()
    statuses: dict[str, dict[str, str]] = {}
    for callsign, channel, status in (
        Message.objects.filter(incident=incident, purpose=Message.Purpose.UNFILLED)
        .order_by("pk")
        .values_list("negotiator__callsign", "channel", "status")
    ):
        statuses.setdefault(callsign or "", {})[channel] = status
    return board.tellings(events, statuses)


def standings(incident, people, now) -> dict[int, hands.Person]:
    """Where each of `people` (Negotiators) stands for a page now (engine.hands.Person):
    accredited, unavailable until when, on call in which roles (in their own force), going
    to another live incident, stood down lately from one they went to. A few statements
    whatever the number of people."""
    people = list(people)
    ids = [p.pk for p in people]
    accredited = set(
        Negotiator.objects.filter(pk__in=ids).accredited_at(now).values_list("pk", flat=True)
    )
    away: dict[int, datetime] = {}
    for pk, end in Unavailability.objects.filter(
        negotiator_id__in=ids, start__lte=now, end__gt=now
    ).values_list("negotiator_id", "end"):
        away[pk] = max(end, away.get(pk, end))
    on_call: dict[int, list[str]] = {}
    for force in {p.force for p in people}:
        for role, rostered in roster_queries.on_call(force, now).items():
            for person in rostered:
                on_call.setdefault(person.pk, []).append(role)
    busy = audiences.busy_elsewhere(incident)
    rested = dict(
        Deployment.objects.went()
        .filter(negotiator_id__in=ids, stood_down_at__gte=now - hands.RESTING)
        .exclude(incident=incident)
        .values("negotiator_id")
        .annotate(latest=Max("stood_down_at"))
        .values_list("negotiator_id", "latest")
    )
    return {
        p.pk: hands.Person(
            active=p.active,
            accredited=p.pk in accredited,
            unavailable_until=away.get(p.pk),
            on_call_roles=tuple(sorted(on_call.get(p.pk, ()))),
            busy=p.pk in busy,
            stood_down_at=rested.get(p.pk),
        )
        for p in people
    }


@dataclass(frozen=True)
class Pick:
    """Someone in the board's pickers (record an answer given by phone, page someone)."""

    negotiator_id: int
    callsign: str
    full_name: str  # "" unless the login sees their name
    force_code: str
    standing: str  # engine.hands.Standing
    label: str  # where they stand now, in words
    state: str  # their callout's state on this incident; "" when not asked
    state_label: str
    may_page: bool
    sent_stop: bool


# The picker lists those who may be paged first: on call, then the rest by standing.
STANDING_ORDER = [
    hands.Standing.ON_CALL,
    hands.Standing.OFF_CALL,
    hands.Standing.RESTING,
    hands.Standing.BUSY,
    hands.Standing.UNAVAILABLE,
    hands.Standing.LAPSED,
    hands.Standing.INACTIVE,
]


def offered(incident):
    """Whom the board's pickers offer: the people of the incident's force, and anyone asked
    for it (mutual aid). A cadre record from anywhere else is not found."""
    asked = Callout.objects.filter(incident=incident).values("negotiator_id")
    return Negotiator.objects.filter(Q(force=incident.force_id) | Q(pk__in=asked))


def picker(incident, user, now) -> tuple[list[Pick], list[Pick]]:
    """(everyone asked, the rest of the force's active people): the board's pickers. Names
    only of people of forces whose names the login sees."""
    names_of = access.people(user).names_of
    callouts = {
        c.negotiator_id: c
        for c in Callout.objects.filter(incident=incident).select_related("negotiator__force")
    }
    rest = (
        Negotiator.objects.filter(force=incident.force_id, active=True)
        .exclude(pk__in=list(callouts))
        .select_related("force")
    )
    people = [c.negotiator for c in callouts.values()] + list(rest)
    where = standings(incident, people, now)
    zone = local_tz()

    def clock(moment):
        local = moment.astimezone(zone)
        if local.date() == now.astimezone(zone).date():
            return f"{local:%H:%M}"
        return f"{local:%a} {local.day} {local:%b %H:%M}"

    picks = []
    for person in people:
        callout = callouts.get(person.pk)
        standing = hands.standing(where[person.pk], now)
        picks.append(
            Pick(
                negotiator_id=person.pk,
                callsign=person.callsign,
                full_name=person.full_name if person.force_id in names_of else "",
                force_code=person.force.code,
                standing=standing,
                label=hands.standing_label(where[person.pk], now, clock),
                state=callout.state if callout else "",
                state_label=board.STATE_LABELS.get(callout.state, "") if callout else "",
                may_page=hands.may_page(standing),
                sent_stop=person.texts_stopped or bool(callout and callout.keyword == "stop"),
            )
        )
    asked = sorted((p for p in picks if p.state), key=lambda p: p.callsign)
    others = sorted(
        (p for p in picks if not p.state),
        key=lambda p: (STANDING_ORDER.index(p.standing), p.callsign),
    )
    return asked, others


def messages_of(numbers):
    """Every message to or from these phone numbers."""
    return Message.objects.filter(
        Q(direction="out", to_number__in=numbers) | Q(direction="in", from_number__in=numbers)
    )


def newest_per_number(messages, newest: int):
    """Of `messages`, each phone number's `newest` (oldest first), each carrying its `number`:
    one query, and never more than `newest` rows a number however long the history."""
    number = Case(When(direction="out", then=F("to_number")), default=F("from_number"))
    latest_first = [F("created_at").desc(), F("pk").desc()]
    return (
        messages.annotate(
            number=number, rank=Window(RowNumber(), partition_by=[number], order_by=latest_first)
        )
        .filter(rank__lte=newest)
        .order_by("created_at", "pk")
    )


def _name(user) -> str:
    return user.get_username() if user is not None else ""


TIMELINE_PAGE = 500  # lines a page of the timeline shows; the CSV export has them all


def went_per_role(incident) -> dict[str, int]:
    """How many went in each role of the incident, whoever they are (one query)."""
    rows = Deployment.objects.filter(incident=incident).went().values("role")
    return {r["role"]: r["n"] for r in rows.annotate(n=Count("id")).order_by()}


def _timeline_sources(incident, user):
    """The incident's events and deployments; for `user`, only of the people they see, and
    login names only where they may see them (cadre.scope.People); with how many went per
    role in all when those are not everyone (None: count the deployments)."""
    events = Event.objects.filter(incident=incident).select_related("negotiator", "actor")
    deployments = Deployment.objects.filter(incident=incident).select_related(
        "negotiator", "stood_down_by"
    )
    logins, counts = True, None
    if user is not None:
        people = access.people(user)
        if not people.sees_everyone(incident.force_id):
            events = events.filter(seen(people))
            deployments = deployments.filter(seen(people))
            counts = went_per_role(incident)
        logins = people.logins(incident.force_id)
    return events, deployments, logins, counts


def _event_facts(events, logins=True) -> list[timeline.EventFacts]:
    return [
        timeline.EventFacts(
            at=e.at,
            kind=e.kind,
            callsign=e.negotiator.callsign if e.negotiator else "",
            actor=_name(e.actor) if logins else "",
            role=e.role,
            channel=e.channel,
            data=e.data or {},
        )
        for e in events
    ]


def _deployment_facts(deployments, logins=True) -> list[timeline.DeploymentFacts]:
    return [
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
            stood_down_by=_name(d.stood_down_by) if logins else "",
        )
        for d in deployments
    ]


def timeline_for(incident, user=None, person="") -> timeline.Timeline:
    """The incident's whole log and who went (the CSV export); for `user`, only what they
    see of it (their own people's lines, or their own; cadre.scope.People).

    Two queries however long the log.
    """
    events, deployments, logins, counts = _timeline_sources(incident, user)
    return timeline.build(
        incident.raised_at,
        incident.needs or {},
        _event_facts(events.order_by("at", "pk"), logins),
        _deployment_facts(deployments, logins),
        person=person,
        went_per_role=counts,
    )


def timeline_page(incident, number, user=None, person=""):
    """One page of the log (TIMELINE_PAGE lines, oldest first) and who went, as
    (timeline, page); `number` as asked (Paginator.get_page makes junk the first page);
    for `user`, only what they see of it, as timeline_for.

    Only the page's events are loaded: the same five queries however long the log (six
    for a login that does not see everyone: how many went, counted apart).
    """
    events, deployments, logins, counts = _timeline_sources(incident, user)
    people = (
        events.exclude(negotiator=None)
        .order_by()
        .values_list("negotiator__callsign", flat=True)
        .distinct()
    )
    if person:
        events = events.filter(negotiator__callsign=person)
    page = Paginator(events.order_by("at", "pk"), TIMELINE_PAGE).get_page(number)
    record = timeline.build(
        incident.raised_at,
        incident.needs or {},
        _event_facts(page.object_list, logins),
        _deployment_facts(deployments, logins),
        person=person,
        people=people,
        went_per_role=counts,
    )
    return record, page


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


# Reads for the web layer (views, the API, forms, webhooks): they query nothing themselves.


def managed_incident(user, pk) -> Incident | None:
    """One incident the user manages, or None (the API's 404)."""
    return managed_incidents(user).filter(pk=pk).first()


def newest_first(user):
    """The incidents the user sees, the newest raised first (the incident lists)."""
    return visible_incidents(user).order_by("-raised_at")


def live_incidents(user, limit: int) -> list[Incident]:
    """The newest `limit` live incidents the user sees (the dashboard)."""
    return list(newest_first(user).filter(status__in=Incident.LIVE)[:limit])


def was_called(incident, negotiator) -> bool:
    """Whether `negotiator` has a callout on `incident` (may answer it on the board)."""
    return Callout.objects.filter(incident=incident, negotiator=negotiator).exists()


def debrief_of(incident) -> Debrief | None:
    return Debrief.objects.filter(incident=incident).first()


def outgoing_call(pk) -> Message | None:
    """An outgoing voice call, with its incident and callout, or None."""
    return (
        Message.objects.select_related("incident", "callout")
        .filter(pk=pk, channel="voice", direction=Message.Direction.OUT)
        .first()
    )


def ringing_calls(numbers, over) -> dict[str, Message]:
    """The newest outgoing call to each of `numbers` whose status is not in `over`."""
    calls = messages_of(numbers).filter(direction="out", channel="voice").exclude(status__in=over)
    return {m.number: m for m in newest_per_number(calls, 1)}


def handset_negotiators(negotiators):
    """The simulator's handsets among `negotiators`, with their force, in callsign order."""
    return negotiators.select_related("force").order_by("force__code", "callsign")


def policies_of(force_ids):
    """The escalation policies of these forces."""
    return EscalationPolicy.objects.filter(force__in=force_ids)


def policy_list(force_ids):
    """The policy editor's list: each policy with its force and steps' named people."""
    return (
        policies_of(force_ids)
        .select_related("force")
        .prefetch_related("steps__named")
        .order_by("force__name", "name")
    )


def policy_steps(policy) -> list[dict]:
    """A policy's steps in order, as the editor's rows: audience, channel, wait_minutes,
    named (a list of negotiators) and position."""
    return [
        {
            "audience": s.audience,
            "channel": s.channel,
            "wait_minutes": s.wait_minutes,
            "named": list(s.named.all()),
            "position": s.position,
        }
        for s in policy.steps.all()
    ]


def policy_choices(forces):
    """The policies a raise form offers, for the forces the login may raise in."""
    return policies_of(forces).select_related("force")


def default_policy(force) -> EscalationPolicy | None:
    return EscalationPolicy.objects.filter(force=force, is_default=True).first()


def policy_exists(force, name: str) -> bool:
    return EscalationPolicy.objects.filter(force=force, name=name).exists()


def policy_name_taken(force, name: str, except_pk=None) -> bool:
    """Another policy of `force` has this name (any case)."""
    clash = EscalationPolicy.objects.filter(force=force, name__iexact=name)
    return clash.exclude(pk=except_pk).exists()


def other_default_policy(force, except_pk=None) -> bool:
    """Another policy of `force` is its default."""
    others = EscalationPolicy.objects.filter(force=force, is_default=True)
    return others.exclude(pk=except_pk).exists()


def live_api_token(key_hash: str) -> ApiToken | None:
    """The unrevoked token of an active login with this hash, with its user, or None."""
    return (
        ApiToken.objects.select_related("user")
        .filter(key_hash=key_hash, revoked_at__isnull=True, user__is_active=True)
        .first()
    )
