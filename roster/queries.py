"""Database-facing questions about the rota, for views, services and callouts.

These load what the pure rules in roster.rules need and return plain results.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Prefetch, Q

from cadre import queries as cadre_queries
from cadre.access import COORDINATOR
from cadre.models import Accreditation, Force, Negotiator
from cadre.rules import Period
from roster import rules
from roster.models import (
    FeedToken,
    Rota,
    RotaChange,
    RotationPattern,
    Shift,
    SwapRequest,
    Unavailability,
)


def rota_for(force: Force) -> Rota:
    rota, _ = Rota.objects.get_or_create(force=force)
    return rota


def person(n: Negotiator, periods=None) -> rules.Person:
    """`periods`: their accreditations' periods, oldest first, when the caller has them."""
    if periods is None:
        periods = [Period(a.passed_on, a.valid_until) for a in n.accreditations.all()]
    return rules.Person(n.pk, n.callsign, n.active, tuple(periods), tuple(n.roles))


def span(s: Shift) -> rules.Span:
    return rules.Span(s.negotiator_id, s.role, s.start, s.end, s.pk)


def absence(u: Unavailability) -> rules.Absence:
    return rules.Absence(u.negotiator_id, u.start, u.end, u.get_reason_display())


def negotiators_with_accreditations():
    return Negotiator.objects.prefetch_related(
        Prefetch("accreditations", queryset=Accreditation.objects.order_by("passed_on"))
    )


@dataclass
class RotaData:
    """Everything the rules need about one rota over a stretch of time, in four queries."""

    rota: Rota
    shifts: list[Shift]
    absences: list[Unavailability]
    negotiators: dict[int, Negotiator]
    minimums: dict[str, int]
    spans: list[rules.Span] = field(init=False)
    people: dict[int, rules.Person] = field(init=False)
    absence_spans: list[rules.Absence] = field(init=False)

    def __post_init__(self):
        self.spans = [span(s) for s in self.shifts]
        self.people = {pk: person(n) for pk, n in self.negotiators.items()}
        self.absence_spans = [absence(u) for u in self.absences]

    def add(self, negotiator: Negotiator):
        """A negotiator from elsewhere (mutual aid) who is about to be rostered."""
        self.negotiators[negotiator.pk] = negotiator
        self.people[negotiator.pk] = person(negotiator)

    def coverage(self, start: datetime, end: datetime) -> rules.Coverage:
        return rules.coverage(
            self.spans, self.absence_spans, self.people.values(), self.minimums, start, end
        )

    def conflicts(self, shift: Shift | rules.Span, replacing=()) -> list[rules.Conflict]:
        s = shift if isinstance(shift, rules.Span) else span(shift)
        return rules.conflicts(
            s,
            self.people[s.negotiator_id],
            [o for o in self.spans if o.negotiator_id == s.negotiator_id],
            [a for a in self.absence_spans if a.negotiator_id == s.negotiator_id],
            self.rota.max_consecutive_days,
            replacing,
        )


def load(rota: Rota, start: datetime, end: datetime) -> RotaData:
    """The rota's live shifts and its cadre's absences overlapping [start, end).

    Shifts are loaded a fortnight either side so that conflicts at the edges
    (a run of days on call) see their neighbours.
    """
    margin = rules.REST_BREAK * 14
    shifts = list(
        Shift.objects.filter(rota=rota)
        .overlapping(start - margin, end + margin)
        .order_by("start", "pk")
    )
    negotiators = {n.pk: n for n in negotiators_with_accreditations().filter(force=rota.force_id)}
    missing = {s.negotiator_id for s in shifts} - negotiators.keys()
    if missing:  # lent from another force (mutual aid)
        lent = negotiators_with_accreditations().filter(pk__in=missing)
        negotiators.update({n.pk: n for n in lent})
    for s in shifts:
        s.negotiator = negotiators[s.negotiator_id]
    absences = list(
        Unavailability.objects.filter(
            negotiator_id__in=negotiators.keys(), start__lt=end + margin, end__gt=start - margin
        )
    )
    return RotaData(rota, shifts, absences, negotiators, rota.minimums())


def on_call(force, at) -> dict[str, list[Negotiator]]:
    """Who is on call for `force` at `at`, by role, counting only deployable people.

    Deployable: active, accredited at `at`, and not marked unavailable at `at`.
    Every role is a key, possibly with an empty list.
    """
    # Plain rows and subqueries, not instances and lists of ids: a first step to a force of
    # 300 on call waited 25 ms here, most of it making 900 model instances.
    shifts = Shift.objects.covering(at).filter(rota__force=force)
    rostered = shifts.values("negotiator_id")
    periods: dict[int, list[Period]] = {}
    for pk, passed_on, valid_until in (
        Accreditation.objects.filter(negotiator__in=rostered)
        .order_by("passed_on")
        .values_list("negotiator_id", "passed_on", "valid_until")
    ):
        periods.setdefault(pk, []).append(Period(passed_on, valid_until))
    negotiators = {n.pk: n for n in Negotiator.objects.filter(pk__in=rostered)}
    absences = Unavailability.objects.filter(negotiator__in=rostered, start__lte=at, end__gt=at)
    decided = rules.on_call(
        [
            rules.Span(*row)
            for row in shifts.values_list("negotiator_id", "role", "start", "end", "pk")
        ],
        [absence(u) for u in absences],
        [person(n, periods.get(n.pk, ())) for n in negotiators.values()],
        at,
    )
    return {role: [negotiators[pk] for pk in pks] for role, pks in decided.items()}


def coordinators_of(rota) -> list[int]:
    """The logins that coordinate this rota's force (their memberships say so)."""
    users = cadre_queries.users_with_roles(rota.force_id, COORDINATOR)
    return list(users.values_list("pk", flat=True))


def picker(force_id, role, start, end, *, exclude=(), replacing=(), keep=None):
    """The people a picker offers for a `role` slot from `start` to `end` (rules.can_take):
    the force's people who can take it, by callsign. `keep`: a person to offer as well (the
    one already chosen when only a warning came back)."""
    people = list(negotiators_with_accreditations().filter(force=force_id))
    busy = Shift.objects.live().filter(
        negotiator__in=[n.pk for n in people], start__lt=end, end__gt=start
    )
    chosen = rules.can_take(
        rules.Span(0, role, start, end),
        [person(n) for n in people],
        [
            rules.Span(*row)
            for row in busy.values_list("negotiator_id", "role", "start", "end", "pk")
        ],
        exclude=exclude,
        replacing=replacing,
    )
    pks = [p.id for p in chosen] + ([keep.pk] if keep is not None else [])
    return Negotiator.objects.filter(pk__in=pks).order_by("callsign")


def cannot_take(negotiator, role, start, end, *, exclude=(), replacing=()) -> str | None:
    """Why `negotiator` cannot take a `role` slot from `start` to `end` (rules.cannot_take),
    or None: what a picker would have said about them."""
    n = negotiators_with_accreditations().get(pk=negotiator.pk)
    busy = Shift.objects.live().filter(negotiator=n, start__lt=end, end__gt=start)
    return rules.cannot_take(
        rules.Span(0, role, start, end),
        person(n),
        [
            rules.Span(*row)
            for row in busy.values_list("negotiator_id", "role", "start", "end", "pk")
        ],
        exclude,
        replacing,
    )


def rotation_upcoming(pattern, now) -> list[Shift]:
    """The live shifts a change to a rotation (or its end) takes over: those it generated
    that start from `now` on, and the covers, swaps and moves made from them (one or two
    steps on). The slot under way now, and everything before it, are left alone."""
    made = (
        Q(pattern=pattern, start__gte=now)
        | Q(replaces__pattern=pattern, replaces__start__gte=now)
        | Q(replaces__replaces__pattern=pattern, replaces__replaces__start__gte=now)
    )
    return list(
        Shift.objects.live()
        .filter(rota=pattern.rota_id, role=pattern.role)
        .filter(made)
        .select_related("negotiator")
        .order_by("start", "pk")
    )


def last_undoable(rota, user, actions):
    """The change `user` would undo next on `rota`, or None."""
    if not getattr(user, "is_authenticated", False):
        return None
    return (
        RotaChange.objects.filter(rota=rota, by=user, action__in=actions, undone_at__isnull=True)
        .order_by("-at", "-id")
        .first()
    )


def absences_ahead(rota, now, limit=100):
    """The cadre's unavailability not yet over, soonest first (the coordinator's list)."""
    return list(
        Unavailability.objects.filter(negotiator__force=rota.force_id, end__gt=now)
        .select_related("negotiator")
        .order_by("start", "pk")[:limit]
    )


def undo_offer(rota, user, actions, look_back=50):
    """What Undo would undo for `user`: (their latest change in `actions` not yet undone, or
    None; their later changes that cannot be undone, newest first), so that the button can
    say both."""
    if not getattr(user, "is_authenticated", False):
        return None, []
    later = []
    recent = (
        RotaChange.objects.filter(rota=rota, by=user, undone_at__isnull=True)
        .exclude(action="undo")
        .order_by("-at", "-id")[:look_back]
    )
    for change in recent:
        if change.action in actions:
            return change, later
        later.append(change)
    return None, later


def changes(rota):
    """The rota's changes log, newest first (the changes page shows it a page at a time)."""
    return RotaChange.objects.filter(rota=rota).select_related("by").order_by("-at", "-id")


# Reads for the rota's pages: the views query nothing themselves.


def active_cadre(force_id):
    """The force's active negotiators by callsign (the board's pickers)."""
    return Negotiator.objects.filter(force=force_id, active=True).order_by("callsign")


def everyone_of(force_id) -> list[Negotiator]:
    """Every negotiator of the force, active or not (the rotations page names them)."""
    return list(Negotiator.objects.filter(force=force_id))


def patterns_of(rota):
    """Every rotation of the rota, those still running first."""
    return RotationPattern.objects.filter(rota=rota).order_by("ended_at", "role", "name")


def pending_swaps(rota):
    """The rota's swap requests waiting for a coordinator, with their people."""
    return (
        SwapRequest.objects.filter(shift__rota=rota, status=SwapRequest.Status.PENDING)
        .select_related("shift__negotiator", "taker")
        .order_by("requested_at", "pk")
    )


def pending_swap(rota, pk) -> SwapRequest | None:
    return (
        SwapRequest.objects.select_related("shift__negotiator", "shift__rota", "taker")
        .filter(pk=pk, shift__rota=rota, status=SwapRequest.Status.PENDING)
        .first()
    )


def live_shift(rota, pk) -> Shift | None:
    """A shift of the rota still in force, with its negotiator, or None."""
    return (
        Shift.objects.live().select_related("negotiator", "rota").filter(pk=pk, rota=rota).first()
    )


def my_live_shift(negotiator, pk) -> Shift | None:
    return Shift.objects.live().filter(pk=pk, negotiator=negotiator).first()


def my_pending_swap(negotiator, pk) -> SwapRequest | None:
    return SwapRequest.objects.filter(
        pk=pk, shift__negotiator=negotiator, status=SwapRequest.Status.PENDING
    ).first()


def my_absence(negotiator, pk) -> Unavailability | None:
    return Unavailability.objects.filter(pk=pk, negotiator=negotiator).first()


def my_upcoming(negotiator, now: datetime, limit: int) -> list[Shift]:
    """The negotiator's next `limit` shifts, those not over yet, soonest first."""
    mine = Shift.objects.live().filter(negotiator=negotiator)
    return list(mine.filter(end__gt=now).order_by("start")[:limit])


def my_past(negotiator, now: datetime):
    """The negotiator's shifts that are over, the newest first (shown a page at a time)."""
    return Shift.objects.live().filter(negotiator=negotiator, end__lte=now).order_by("-start")


def my_absences(negotiator, now: datetime):
    """The negotiator's unavailability not over yet."""
    return Unavailability.objects.filter(negotiator=negotiator, end__gt=now)


def my_swaps(negotiator, limit: int):
    """The negotiator's newest `limit` swap requests."""
    return (
        SwapRequest.objects.filter(shift__negotiator=negotiator)
        .select_related("shift", "taker")
        .order_by("-requested_at")[:limit]
    )


def feed_owner(token: str):
    """The active login whose calendar feed secret this is, or None."""
    feed = FeedToken.objects.select_related("user").filter(token=token).first()
    if feed is None or not feed.user.is_active:
        return None
    return feed.user


def feed_shifts(since: datetime, negotiator=None, forces=None):
    """Shifts in force that end after `since`: one negotiator's, or those of `forces`."""
    shifts = Shift.objects.live().filter(end__gt=since).select_related("negotiator")
    if negotiator is not None:
        return shifts.filter(negotiator=negotiator)
    return shifts.filter(rota__force__in=forces)


def active_patterns(rota):
    """The rota's rotations not ended: what shifts can be generated from."""
    return RotationPattern.objects.filter(rota=rota, ended_at__isnull=True)


def pattern_of(rota, pk) -> RotationPattern | None:
    return RotationPattern.objects.filter(rota=rota, pk=pk).first()


def force_people(force_id):
    """Every negotiator of the force as a queryset (a form checks a choice against it; the
    service then says why someone cannot take a shift)."""
    return Negotiator.objects.filter(force=force_id)


def force_absence(force_id, pk) -> Unavailability | None:
    """One unavailability entry of the force's people, with its negotiator."""
    return (
        Unavailability.objects.select_related("negotiator")
        .filter(pk=pk, negotiator__force=force_id)
        .first()
    )
