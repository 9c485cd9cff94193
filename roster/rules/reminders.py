"""Which reminders are due, decided from plain data (no database).

Negotiators hear the evening before an on-call period starts; coordinators
hear when a gap in cover lies within the next week. Each reminder carries a
key that names what it is about, so computing it again finds the same row.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from cadre.rules import local_date
from roster.rules import Gap, Span, at_local, when

EVENING = time(18, 0)
START_HORIZON = timedelta(hours=48)
GAP_HORIZON = timedelta(days=7)


@dataclass(frozen=True)
class Due:
    key: str
    kind: str  # "shift_start" or "gap", as roster.models.Reminder.Kind
    body: str
    due_at: datetime
    negotiator_id: int | None = None
    user_id: int | None = None


def periods(spans: list[Span]) -> list[tuple[int, datetime, datetime, list[str]]]:
    """Each person's unbroken stretches on call (back-to-back shifts join), with their roles."""
    mine = defaultdict(list)
    for s in spans:
        mine[s.negotiator_id].append(s)
    result = []
    for negotiator_id, items in mine.items():
        items.sort(key=lambda s: s.start)
        start, end, roles = items[0].start, items[0].end, [items[0].role]
        for s in items[1:]:
            if s.start <= end:
                end = max(end, s.end)
                roles += [s.role] if s.role not in roles else []
            else:
                result.append((negotiator_id, start, end, roles))
                start, end, roles = s.start, s.end, [s.role]
        result.append((negotiator_id, start, end, roles))
    return result


def shift_starts(spans: list[Span], now: datetime) -> list[Due]:
    """An SMS at 18:00 the evening before each on-call period that starts in the next two days."""
    due = []
    for negotiator_id, start, end, roles in periods(spans):
        if not (now < start <= now + START_HORIZON):
            continue
        evening = at_local(local_date(start) - timedelta(days=1), EVENING)
        body = (
            f"Standby: you are on call as {' and '.join(roles)} from {when(start)} "
            f"until {when(end)}."
        )
        due.append(
            Due(
                key=f"start:{negotiator_id}:{start:%Y%m%dT%H%MZ}",
                kind="shift_start",
                body=body,
                due_at=max(evening, now),
                negotiator_id=negotiator_id,
            )
        )
    return due


def gap_alerts(gaps: list[Gap], coordinator_ids: list[int], rota_id: int, now: datetime):
    """One alert per coordinator for each gap that begins within the next seven days."""
    due = []
    for gap in gaps:
        if gap.end <= now or gap.start >= now + GAP_HORIZON:
            continue
        body = (
            f"Standby: gap in cover for {gap.role}: {gap.have} of {gap.need} on call "
            f"{when(gap.start)} to {when(gap.end)} ({gap.reason})."
        )
        for user_id in coordinator_ids:
            due.append(
                Due(
                    key=f"gap:{rota_id}:{gap.role}:{gap.start:%Y%m%dT%H%MZ}:{user_id}",
                    kind="gap",
                    body=body,
                    due_at=now,
                    user_id=user_id,
                )
            )
    return due
