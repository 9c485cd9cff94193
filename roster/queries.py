"""Database-facing questions about the rota, for views and for callouts.

These load what the pure rules in roster.rules need and return plain results.
"""

from cadre.models import Negotiator, Role
from roster.models import Shift, Unavailability


def on_call(force, at) -> dict[str, list[Negotiator]]:
    """Who is on call for `force` at `at`, by role, counting only deployable people.

    Deployable: active, accredited at `at`, and not marked unavailable at `at`.
    Every role is a key, possibly with an empty list.
    """
    shifts = (
        Shift.objects.covering(at)
        .filter(rota__force=force)
        .select_related("negotiator")
        .order_by("start", "negotiator__callsign")
    )
    unavailable = set(
        Unavailability.objects.filter(start__lte=at, end__gt=at).values_list(
            "negotiator_id", flat=True
        )
    )
    deployable = set(
        Negotiator.objects.deployable(at)
        .filter(pk__in=[s.negotiator_id for s in shifts])
        .values_list("pk", flat=True)
    )
    result: dict[str, list[Negotiator]] = {role: [] for role in Role.values}
    seen = set()
    for shift in shifts:
        key = (shift.role, shift.negotiator_id)
        if key in seen:
            continue
        if shift.negotiator_id in deployable and shift.negotiator_id not in unavailable:
            seen.add(key)
            result[shift.role].append(shift.negotiator)
    return result
