"""Every write of the roster app goes through here, each one whole or not at all.

A change to the rota is checked and audited (RotaChange): it takes some live
shifts out of force (they stay as history with superseded_at set) and puts new
ones in. The pure rules (roster.rules) decide errors (never saved) and warnings
(saved only with a coordinator's reason). Unavailability, cover rules and
changes to a rotation (or its end, with its upcoming shifts) are audited too;
undo takes back a coordinator's latest change of any kind but cover rules. A
swap request records on itself who decided it and when; only an approved swap
changes the rota. A new rotation, calendar feed secrets and the reminder outbox
change nothing on the rota and are not audited.

Every write takes the acting login as `by=` (keyword, required), the login the audit
(RotaChange.by) and the records (created_by, requested_by, decided_by) keep. `by=None` means
the system acts: the demo seeding, a management command or the clock's task.
"""

from dataclasses import dataclass
from datetime import date, time, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from cadre.models import Negotiator
from cadre.rules import local_date
from roster import queries, rules
from roster.models import (
    CoverageRule,
    FeedToken,
    Reminder,
    Rota,
    RotaChange,
    RotationPattern,
    Shift,
    SwapRequest,
    Unavailability,
)
from roster.rules import reminders, when

UNDOABLE = {
    "add",
    "move",
    "cover",
    "remove",
    "swap",
    "generate",
    "unavailable",
    "available",
    "rotation",
    "rotation_end",
}


class Refused(Exception):
    """Bad input: nothing saved. `errors` are plain sentences for the user."""

    def __init__(self, errors):
        super().__init__("; ".join(errors))
        self.errors = list(errors)


class NeedsOverride(Exception):
    """Warnings a coordinator must see and override with a reason before saving."""

    def __init__(self, warnings):
        super().__init__("; ".join(w.message for w in warnings))
        self.warnings = list(warnings)


class NeedsConfirmation(Exception):
    """Generating over hand-made edits: the coordinator must confirm replacing them."""

    def __init__(self, edited):
        super().__init__(f"{edited} shifts in this range were edited by hand")
        self.edited = edited


@dataclass
class Plan:
    action: str
    summary: str
    supersede: list[Shift]
    create: list[Shift]


def snapshot(shift: Shift) -> dict:
    return {
        "id": shift.pk,
        "callsign": shift.negotiator.callsign,
        "role": shift.role,
        "start": shift.start.isoformat(),
        "end": shift.end.isoformat(),
    }


def _carry(shift: Shift, negotiator, start, end, source, by) -> Shift:
    return Shift(
        rota_id=shift.rota_id,
        negotiator=negotiator,
        role=shift.role,
        start=start,
        end=end,
        source=source,
        replaces=shift,
        created_by=by,
    )


def check(plan: Plan, data: queries.RotaData) -> tuple[list[str], list[rules.Conflict]]:
    gone = {s.pk for s in plan.supersede}
    kept = [s for s in data.spans if s.id not in gone]
    new = [queries.span(s) for s in plan.create]
    errors, warnings = [], []
    for s in plan.create:
        if s.negotiator_id not in data.people:
            data.add(s.negotiator)
    for i, span in enumerate(new):
        mine = [o for o in kept if o.negotiator_id == span.negotiator_id]
        mine += [o for j, o in enumerate(new) if j != i and o.negotiator_id == span.negotiator_id]
        person = data.people[span.negotiator_id]
        errors += rules.problems(span, person, mine)
        absences = [a for a in data.absence_spans if a.negotiator_id == span.negotiator_id]
        warnings += rules.conflicts(span, person, mine, absences, data.rota.max_consecutive_days)
    return list(dict.fromkeys(errors)), list({w.message: w for w in warnings}.values())


def apply(rota, plan: Plan, override_reason: str = "", *, by) -> RotaChange:
    override_reason = (override_reason or "").strip()
    with transaction.atomic():
        # One editor at a time per rota (PostgreSQL); SQLite serialises writers anyway.
        type(rota).objects.select_for_update().get(pk=rota.pk)
        ids = [s.pk for s in plan.supersede]
        if Shift.objects.filter(pk__in=ids, superseded_at__isnull=False).exists():
            raise Refused(
                ["That shift has changed since the page was loaded; reload and try again."]
            )
        if plan.create:
            start = min(s.start for s in plan.create)
            end = max(s.end for s in plan.create)
            errors, warnings = check(plan, queries.load(rota, start, end))
            if errors:
                raise Refused(errors)
            if warnings and not override_reason:
                raise NeedsOverride(warnings)
        else:
            warnings = []
        now = timezone.now()
        Shift.objects.filter(pk__in=[s.pk for s in plan.supersede]).update(superseded_at=now)
        created = Shift.objects.bulk_create(plan.create)
        return RotaChange.objects.create(
            rota=rota,
            by=by,
            action=plan.action,
            summary=plan.summary[:300],
            before=[snapshot(s) for s in plan.supersede],
            after=[snapshot(s) for s in created],
            superseded_ids=[s.pk for s in plan.supersede],
            created_ids=[s.pk for s in created],
            warnings=[w.message for w in warnings],
            override_reason=override_reason if warnings else "",
        )


# --- the operations ----------------------------------------------------------------------


def add(rota, negotiator, role, start, end, reason="", *, by) -> RotaChange:
    shift = Shift(rota=rota, negotiator=negotiator, role=role, start=start, end=end, created_by=by)
    summary = f"Added {negotiator.callsign} as {role} {when(start)}–{when(end)}"
    return apply(rota, Plan("add", summary, [], [shift]), reason, by=by)


def move(shift, negotiator, start, end, reason="", *, by) -> RotaChange:
    moved = _carry(shift, negotiator, start, end, Shift.Source.MANUAL, by)
    summary = (
        f"Moved {shift.negotiator.callsign}'s {shift.role} shift {when(shift.start)} "
        f"to {negotiator.callsign} {when(start)}–{when(end)}"
    )
    return apply(shift.rota, Plan("move", summary, [shift], [moved]), reason, by=by)


def cover(shift, coverer, start, end, reason="", *, by) -> RotaChange:
    """Someone covers part (or all) of a shift: it splits, the original stays in history."""
    if not (shift.start <= start < end <= shift.end):
        raise Refused(
            [f"The cover must lie within the shift ({when(shift.start)}–{when(shift.end)})."]
        )
    if coverer.pk == shift.negotiator_id:
        raise Refused([f"{coverer.callsign} is already on this shift."])
    pieces = [_carry(shift, coverer, start, end, Shift.Source.COVER, by)]
    if shift.start < start:
        pieces.append(_carry(shift, shift.negotiator, shift.start, start, Shift.Source.COVER, by))
    if end < shift.end:
        pieces.append(_carry(shift, shift.negotiator, end, shift.end, Shift.Source.COVER, by))
    summary = (
        f"{coverer.callsign} covers {shift.negotiator.callsign} as {shift.role} "
        f"{when(start)}–{when(end)}"
    )
    return apply(shift.rota, Plan("cover", summary, [shift], pieces), reason, by=by)


def remove(shift, *, by) -> RotaChange:
    summary = (
        f"Removed {shift.negotiator.callsign}'s {shift.role} shift "
        f"{when(shift.start)}–{when(shift.end)}"
    )
    return apply(shift.rota, Plan("remove", summary, [shift], []), by=by)


def request_swap(shift, taker, *, by) -> SwapRequest:
    if taker.pk == shift.negotiator_id:
        raise Refused(["You cannot swap a shift with yourself."])
    if not taker.active:
        raise Refused([f"{taker.callsign} is inactive."])
    if not taker.has_role(shift.role):
        raise Refused([f"{taker.callsign} does not hold the {shift.role} role."])
    if shift.superseded_at or shift.end <= timezone.now():
        raise Refused(["Only current or upcoming shifts can be swapped."])
    if SwapRequest.objects.filter(shift=shift, status=SwapRequest.Status.PENDING).exists():
        raise Refused(["A swap for this shift is already waiting for a coordinator."])
    # Refused now, not at approval: a request that could never be approved saves nothing.
    errors = swap_problems(shift, taker)
    if errors:
        raise Refused(errors)
    return SwapRequest.objects.create(shift=shift, taker=taker, requested_by=by)


def swap_problems(shift, taker) -> list[str]:
    """Why `taker` cannot take `shift` over (nothing: they can), as a coordinator approving
    it would be told: the shift changed since, or the picker's rule (rules.cannot_take)."""
    if shift.superseded_at is not None:
        return ["The shift has changed since (moved, covered or removed): decline this swap."]
    reason = queries.cannot_take(
        taker, shift.role, shift.start, shift.end, exclude=[shift.negotiator_id]
    )
    return [reason] if reason else []


def approve_swap(swap: SwapRequest, reason="", *, by) -> RotaChange:
    shift = swap.shift
    if swap.status != SwapRequest.Status.PENDING:
        raise Refused(["That swap has already been decided."])
    errors = swap_problems(shift, swap.taker)
    if errors:
        raise Refused(errors)
    taken = _carry(shift, swap.taker, shift.start, shift.end, Shift.Source.SWAP, by)
    summary = (
        f"Swap approved: {swap.taker.callsign} takes {shift.negotiator.callsign}'s "
        f"{shift.role} shift {when(shift.start)}–{when(shift.end)}"
    )
    with transaction.atomic():
        change = apply(shift.rota, Plan("swap", summary, [shift], [taken]), reason, by=by)
        SwapRequest.objects.filter(pk=swap.pk).update(
            status=SwapRequest.Status.APPROVED, decided_by=by, decided_at=timezone.now()
        )
    return change


def decline_swap(swap: SwapRequest, *, by):
    _decide_swap(swap, SwapRequest.Status.DECLINED, by=by)


def withdraw_swap(swap: SwapRequest, *, by):
    """The negotiator who asked takes the request back before a coordinator decides."""
    _decide_swap(swap, SwapRequest.Status.WITHDRAWN, by=by)


def _decide_swap(swap: SwapRequest, status, *, by):
    """Close a pending request without changing the rota; the request records who and when."""
    SwapRequest.objects.filter(pk=swap.pk, status=SwapRequest.Status.PENDING).update(
        status=status, decided_by=by, decided_at=timezone.now()
    )


def generate(
    rota, pattern: RotationPattern, first_day: date, end_day: date, confirm=False, reason="", *, by
) -> RotaChange:
    """Lay a rotation over a range; live shifts there for that role are replaced.

    Shifts made by hand (covers, swaps, moves) are replaced only with `confirm`.
    Shifts crossing the edges of the range keep their part outside it.
    """
    if end_day <= first_day:
        raise Refused(["The range must end after it starts."])
    negotiators = Negotiator.objects.in_bulk(pattern.order)
    missing = [pk for pk in pattern.order if pk not in negotiators]
    if not pattern.order or missing:
        raise Refused(["The rotation has nobody in it (or someone who no longer exists)."])
    spans = rules.generate(to_rotation(pattern), first_day, end_day)
    window_start = rules.at_local(first_day, pattern.handover_time)
    window_end = rules.at_local(end_day, pattern.handover_time)
    existing = list(
        Shift.objects.filter(rota=rota, role=pattern.role)
        .overlapping(window_start, window_end)
        .select_related("negotiator")
    )
    edited = sum(1 for s in existing if s.source != Shift.Source.ROTATION)
    if edited and not confirm:
        raise NeedsConfirmation(edited)
    create = []
    for s in existing:  # keep what lies outside the range
        if s.start < window_start:
            create.append(_carry(s, s.negotiator, s.start, window_start, s.source, by))
        if s.end > window_end:
            create.append(_carry(s, s.negotiator, window_end, s.end, s.source, by))
    create += _rotation_shifts(rota, pattern, negotiators, spans, by)
    summary = (
        f"Generated {len(spans)} {pattern.role} shifts from “{pattern.name}” "
        f"{first_day:%-d %b %Y}–{end_day:%-d %b %Y}"
        + (f", replacing {len(existing)}" if existing else "")
    )
    return apply(rota, Plan("generate", summary, existing, create), reason, by=by)


def _rotation_shifts(rota, pattern, people: dict, spans, by) -> list[Shift]:
    """Unsaved shifts of `pattern` for these spans (roster.rules); `people`: id -> Negotiator."""
    return [
        Shift(
            rota=rota,
            negotiator=people[span.negotiator_id],
            role=span.role,
            start=span.start,
            end=span.end,
            source=Shift.Source.ROTATION,
            pattern=pattern,
            created_by=by,
        )
        for span in spans
    ]


def to_rotation(pattern: RotationPattern) -> rules.Rotation:
    return rules.Rotation(
        role=pattern.role,
        order=tuple(pattern.order),
        length=pattern.length,
        handover_weekday=pattern.handover_weekday,
        handover_time=pattern.handover_time,
        on_at_once=pattern.on_at_once,
        starts_on=pattern.starts_on,
    )


def undo_last(rota, *, by) -> RotaChange:
    """Put back what `by`'s latest change (not yet undone) took out, and take out what it
    added. Each coordinator undoes their own changes only; changes nobody made by hand (the
    demo seed's generated shifts) are never offered."""
    return undo_change(rota, None, by=by)


def undo_change(rota, change_id, *, by) -> RotaChange:
    """Undo `by`'s latest undoable change, which must be `change_id` (the one the Undo button
    named) when given: if a later change came in since, nothing is undone and the refusal
    names the change that is now the latest."""
    with transaction.atomic():
        type(rota).objects.select_for_update().get(pk=rota.pk)
        last = queries.last_undoable(rota, by, UNDOABLE)
        if last is None:
            raise Refused(["There is no change to undo."])
        if change_id is not None and last.pk != change_id:
            raise Refused(
                [
                    f"Your latest change is now “{last.summary}”; nothing was undone. "
                    "Press Undo again to undo that one."
                ]
            )
        if last.action in ("unavailable", "available"):
            _undo_unavailability(last)
        else:
            _undo_shifts(last)
        last.undone_at = timezone.now()
        last.save(update_fields=["undone_at"])
        return RotaChange.objects.create(
            rota=rota,
            by=by,
            action="undo",
            summary=f"Undid: {last.summary}"[:300],
            before=last.after,
            after=last.before,
            superseded_ids=last.created_ids,
            created_ids=last.superseded_ids,
            undoes=last,
        )


def _undo_shifts(last: RotaChange):
    if Shift.objects.filter(pk__in=last.created_ids, superseded_at__isnull=False).exists():
        raise Refused(["A later change touched those shifts; undo that first."])
    if last.action in ("rotation", "rotation_end"):
        _put_rotation_back(last.details)
    Shift.objects.filter(pk__in=last.created_ids).update(superseded_at=timezone.now())
    Shift.objects.filter(pk__in=last.superseded_ids).update(superseded_at=None)
    if last.action == "swap":
        SwapRequest.objects.filter(
            shift_id__in=last.superseded_ids, status=SwapRequest.Status.APPROVED
        ).update(status=SwapRequest.Status.PENDING, decided_by=None, decided_at=None)


def _undo_unavailability(last: RotaChange):
    """Undo marking someone unavailable (the entry goes) or withdrawing it (it comes back)."""
    entry = last.details.get("unavailability") or {}
    if last.action == "unavailable":
        gone, _ = Unavailability.objects.filter(pk=entry.get("id")).delete()
        if not gone:
            raise Refused(["That unavailability has already been withdrawn."])
        return
    start, end = (parse_datetime(entry.get(k) or "") for k in ("start", "end"))
    negotiator = Negotiator.objects.filter(pk=entry.get("negotiator_id")).first()
    if negotiator is None or not (start and end):
        raise Refused(["That unavailability cannot be put back: its record is incomplete."])
    if Unavailability.objects.filter(negotiator=negotiator, start__lt=end, end__gt=start).exists():
        raise Refused(["That time is already marked unavailable again."])
    Unavailability.objects.create(
        negotiator=negotiator,
        start=start,
        end=end,
        reason=entry.get("reason") or Unavailability.Reason.OTHER,
        note=entry.get("note") or "",
        created_by_id=entry.get("created_by_id"),
    )


def _absence_details(absence: Unavailability) -> dict:
    return {
        "unavailability": {
            "id": absence.pk,
            "negotiator_id": absence.negotiator_id,
            "start": absence.start.isoformat(),
            "end": absence.end.isoformat(),
            "reason": absence.reason,
            "note": absence.note,
            "created_by_id": absence.created_by_id,
        }
    }


def mark_unavailable(negotiator, start, end, reason, note="", *, by) -> Unavailability:
    if end <= start:
        raise Refused(["The end must be after the start."])
    with transaction.atomic():
        clash = Unavailability.objects.filter(
            negotiator=negotiator, start__lt=end, end__gt=start
        ).exists()
        if clash:
            raise Refused(["That overlaps time already marked unavailable."])
        absence = Unavailability.objects.create(
            negotiator=negotiator, start=start, end=end, reason=reason, note=note, created_by=by
        )
        rota = queries.rota_for(negotiator.force)
        # The audit line leaves the reason out: supervisors read it too. The details (for
        # undo) keep it, and are not shown.
        RotaChange.objects.create(
            rota=rota,
            by=by,
            action="unavailable",
            summary=f"{negotiator.callsign} unavailable {when(start)}–{when(end)}",
            details=_absence_details(absence),
        )
    return absence


def withdraw_unavailability(absence: Unavailability, *, by) -> RotaChange:
    with transaction.atomic():
        negotiator = absence.negotiator
        change = RotaChange.objects.create(
            rota=queries.rota_for(negotiator.force),
            by=by,
            action="available",
            summary=(
                f"{negotiator.callsign} available again {when(absence.start)}–{when(absence.end)}"
            ),
            details=_absence_details(absence),
        )
        absence.delete()
    return change


def set_cover_rules(rota, values: dict, *, by):
    """Minimum on call per role and the welfare limit; the audit keeps the old and new values."""
    with transaction.atomic():
        before = {**rota.minimums(), "max_consecutive_days": rota.max_consecutive_days}
        for role in rules.ROLES:
            CoverageRule.objects.update_or_create(
                rota=rota, role=role, defaults={"minimum": values[role]}
            )
        rota.max_consecutive_days = values["max_consecutive_days"]
        rota.save(update_fields=["max_consecutive_days"])
        after = {key: values[key] for key in before}
        RotaChange.objects.create(
            rota=rota,
            by=by,
            action="rules",
            summary="Cover rules: "
            + ", ".join(f"{k.replace('_', ' ')} {before[k]}→{after[k]}" for k in before),
            before=[before],
            after=[after],
        )


def add_pattern(rota, data: dict, *, by) -> RotationPattern:
    """A new rotation for the rota from a PatternForm's cleaned data (`by`: the coordinator).
    Nothing on the rota changes until shifts are generated from it, so it is not in the
    audit."""
    fields = ("name", "role", "length", "handover_weekday", "handover_time", "on_at_once")
    return RotationPattern.objects.create(
        rota=rota, order=data["order"], starts_on=data["starts_on"], **{f: data[f] for f in fields}
    )


# --- changing and ending a rotation ------------------------------------------------------

# What a coordinator may change about a rotation (its role stays: end it and set up another).
ROTATION_FIELDS = (
    "name",
    "length",
    "handover_weekday",
    "handover_time",
    "on_at_once",
    "starts_on",
    "order",
)


def rotation_settings(pattern: RotationPattern) -> dict:
    """A rotation's settings as plain JSON values (kept in the audit for undo)."""
    return {
        "name": pattern.name,
        "length": pattern.length,
        "handover_weekday": pattern.handover_weekday,
        "handover_time": pattern.handover_time.strftime("%H:%M:%S"),
        "on_at_once": pattern.on_at_once,
        "starts_on": pattern.starts_on.isoformat(),
        "order": list(pattern.order),
        "ended_at": pattern.ended_at.isoformat() if pattern.ended_at else None,
    }


def _set_rotation(pattern: RotationPattern, settings: dict):
    pattern.name = settings["name"]
    pattern.length = settings["length"]
    pattern.handover_weekday = settings["handover_weekday"]
    pattern.handover_time = time.fromisoformat(settings["handover_time"])
    pattern.on_at_once = settings["on_at_once"]
    pattern.starts_on = date.fromisoformat(settings["starts_on"])
    pattern.order = list(settings["order"])
    pattern.ended_at = parse_datetime(settings["ended_at"]) if settings["ended_at"] else None
    pattern.save()


def _put_rotation_back(details: dict):
    pattern = RotationPattern.objects.select_for_update().filter(pk=details.get("pattern")).first()
    if pattern is None:
        raise Refused(["That rotation no longer exists, so the change cannot be undone."])
    if rotation_settings(pattern) != details.get("after"):
        raise Refused(["The rotation has been changed again since; undo that first."])
    _set_rotation(pattern, details["before"])


def _rotation_change(rota, by, action, pattern, before, plan, reason="") -> RotaChange:
    """Apply `plan` (the rotation's upcoming shifts) and record the rotation's settings before
    and after in the same change, so that undo puts both back."""
    change = apply(rota, plan, reason, by=by)
    change.details = {
        "pattern": pattern.pk,
        "before": before,
        "after": rotation_settings(pattern),
    }
    change.save(update_fields=["details"])
    return change


def change_rotation(pattern, values: dict, *, by, confirm=False, reason="") -> RotaChange:
    """Change a rotation's settings (ROTATION_FIELDS in `values`) and its upcoming shifts.

    Upcoming: the live shifts it generated that start from now on, and the covers and swaps
    made from them. Those are regenerated to match over the same stretches of time (past and
    current shifts stay as they are; a stretch a coordinator removed stays empty). Covers and
    swaps are replaced only with `confirm`. Audited; undo puts the settings and shifts back.
    """
    rota = pattern.rota
    with transaction.atomic():
        type(rota).objects.select_for_update().get(pk=rota.pk)
        pattern = RotationPattern.objects.select_for_update().get(pk=pattern.pk)
        if pattern.ended_at:
            raise Refused(["This rotation has ended; set up a new one instead."])
        before = rotation_settings(pattern)
        people = Negotiator.objects.in_bulk(values["order"])
        if not values["order"] or len(people) != len(set(values["order"])):
            raise Refused(["The rotation has nobody in it (or someone who no longer exists)."])
        upcoming = queries.rotation_upcoming(pattern, timezone.now())
        edited = [s for s in upcoming if s.source != Shift.Source.ROTATION]
        if edited and not confirm:
            raise NeedsConfirmation(len(edited))
        for field in ROTATION_FIELDS:
            setattr(pattern, field, values[field])
        pattern.save()
        spans = rules.regenerate(to_rotation(pattern), [queries.span(s) for s in upcoming])
        create = _rotation_shifts(rota, pattern, people, spans, by)
        changed = [
            f.replace("_", " ")
            for f in ROTATION_FIELDS
            if before[f] != rotation_settings(pattern)[f]
        ]
        summary = f"Rotation “{before['name']}” changed ({', '.join(changed) or 'nothing'})" + (
            f": {len(upcoming)} upcoming shift{'s' if len(upcoming) != 1 else ''} "
            f"from {when(min(s.start for s in upcoming))} regenerated as {len(create)}"
            if upcoming
            else ""
        )
        plan = Plan("rotation", summary, upcoming, create)
        return _rotation_change(rota, by, "rotation", pattern, before, plan, reason)


def end_rotation(pattern, *, by) -> RotaChange:
    """End a rotation: its upcoming shifts (as in change_rotation, covers and swaps made from
    them included) are removed; past and current ones stay. It is no longer offered for
    generating. Audited; undo brings the rotation and its shifts back."""
    rota = pattern.rota
    with transaction.atomic():
        type(rota).objects.select_for_update().get(pk=rota.pk)
        pattern = RotationPattern.objects.select_for_update().get(pk=pattern.pk)
        if pattern.ended_at:
            raise Refused(["This rotation has already ended."])
        before = rotation_settings(pattern)
        upcoming = queries.rotation_upcoming(pattern, timezone.now())
        pattern.ended_at = timezone.now()
        pattern.save(update_fields=["ended_at"])
        summary = f"Rotation “{pattern.name}” ended" + (
            f": {len(upcoming)} upcoming shift{'s' if len(upcoming) != 1 else ''} "
            f"from {when(min(s.start for s in upcoming))} removed"
            if upcoming
            else ""
        )
        plan = Plan("rotation_end", summary, upcoming, [])
        return _rotation_change(rota, by, "rotation_end", pattern, before, plan)


# --- calendar feeds ----------------------------------------------------------------------


def feed_of(user, *, by) -> FeedToken:
    """The user's calendar feed secret, made the first time it is asked for (`by`: the login
    itself)."""
    feed, _ = FeedToken.objects.get_or_create(user=user)
    return feed


def regenerate_feed(user, *, by) -> FeedToken:
    """A new secret: the old feed URL stops working."""
    feed = feed_of(user, by=by)
    feed.regenerate()
    return feed


# --- reminders ---------------------------------------------------------------------------


def queue_reminders(now=None, *, by) -> int:
    """Add every reminder now due to the outbox; returns how many were new. `by=None`: the
    system (the clock's task, roster.tasks, and `manage.py queue_reminders`) is the only
    caller.

    roster.rules.reminders decides what is due; callouts sends it.

    The unique dedupe key makes a second run add nothing. A pending start
    reminder whose shifts have gone (removed, swapped) is cancelled.
    """
    now = now or timezone.now()
    added = 0
    for rota in Rota.objects.select_related("force"):
        added += _queue_reminders_for(rota, now)
    return added


def _queue_reminders_for(rota, now) -> int:
    with transaction.atomic():
        data = queries.load(rota, now - timedelta(days=2), now + reminders.GAP_HORIZON)
        live = [s for s in data.spans if s.end > now]
        due = reminders.shift_starts(live, now)
        # From yesterday's local midnight, not from `now`: an ongoing gap then keeps the same
        # start (and dedupe key) from one run to the next, so it is repeated at most daily.
        since = rules.local_midnight(local_date(now) - timedelta(days=1))
        gaps = data.coverage(since, now + reminders.GAP_HORIZON).gaps
        due += reminders.gap_alerts(gaps, queries.coordinators_of(rota), rota.pk, now)
        keys = {d.key for d in due}
        existing = set(
            Reminder.objects.filter(dedupe_key__in=keys).values_list("dedupe_key", flat=True)
        )
        new = [
            Reminder(
                kind=d.kind,
                negotiator_id=d.negotiator_id,
                user_id=d.user_id,
                body=d.body,
                due_at=d.due_at,
                dedupe_key=d.key,
            )
            for d in due
            if d.key not in existing
        ]
        Reminder.objects.bulk_create(new, ignore_conflicts=True)
        Reminder.objects.filter(
            kind=Reminder.Kind.SHIFT_START,
            negotiator__force=rota.force_id,
            sent_at__isnull=True,
            cancelled_at__isnull=True,
            due_at__gt=now,
        ).exclude(dedupe_key__in=keys).update(cancelled_at=now)
    return len(new)
