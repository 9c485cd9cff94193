"""The rota's part of the dashboard: who is on call now and next, and the next gap."""

from datetime import timedelta

from django.utils import timezone

from cadre import access
from cadre.access import Can
from cadre.models import Role
from cadre.queries import negotiator_for
from roster import queries, rules

LOOKAHEAD_DAYS = 14


def dashboard_context(request) -> dict:
    """What the dashboard shows about the rota (templates/roster/_dashboard.html)."""
    force = access.chosen_force(request, Can.READ_ROTA, required=False)
    if force is None:
        negotiator = negotiator_for(request.user)
        force = negotiator.force if negotiator else None
    if force is None:
        return {}
    now = timezone.now()
    horizon = now + timedelta(days=LOOKAHEAD_DAYS)
    data = queries.load(queries.rota_for(force), now, horizon)
    rows = []
    for role, label in Role.choices:
        now_ids = on_call_ids(data, role, now)
        rows.append(
            {
                "label": label,
                "now": [data.negotiators[pk] for pk in now_ids],
                "next": next_change(data, role, now, horizon, now_ids),
            }
        )
    gaps = data.coverage(now, horizon).gaps
    return {
        "rota_on_call": rows,
        "rota_next_gap": gaps[0] if gaps else None,
        "rota_lookahead_days": LOOKAHEAD_DAYS,
    }


def on_call_ids(data, role, at):
    return rules.on_call(data.spans, data.absence_spans, data.people.values(), at)[role]


def next_change(data, role, now, horizon, current):
    """The next moment the people on call for `role` change, and who they will be."""
    moments = sorted(
        {t for s in data.spans if s.role == role for t in (s.start, s.end) if now < t < horizon}
    )
    for at in moments:
        ids = on_call_ids(data, role, at)
        if ids != current:
            return {
                "at": at,
                "callsigns": [data.negotiators[pk].callsign for pk in ids] or ["nobody"],
            }
    return None
