from django.utils import timezone

from cadre import access
from cadre.access import Can
from reports import queries

DASHBOARD_FOLLOW_UPS = 10


def dashboard_context(request) -> dict:
    """The dashboard's welfare and workload part (templates/reports/_dashboard.html):
    for coordinators and supervisors only."""
    if not access.can_view_cadre(request.user):
        return {}
    forces = access.forces(request.user, Can.READ_CADRE)
    now = timezone.now()
    counts = queries.follow_ups_count(forces, now)
    return {
        "report_panel": True,
        "follow_ups": queries.follow_ups_owed(forces, now, limit=DASHBOARD_FOLLOW_UPS),
        "follow_ups_more": max(0, counts["owed"] - DASHBOARD_FOLLOW_UPS),
        "follow_ups_overdue": counts["overdue"],
        "flagged": queries.flagged(forces, now),
    }
