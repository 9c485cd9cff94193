"""Demo rota for the home force: weekly rotations over this month and next, with red in it.

Called by `manage.py seed_demo`; running it twice changes nothing.
"""

from datetime import time, timedelta

from django.utils import timezone

from cadre.models import Force, Negotiator
from roster import queries, rules, services
from roster.models import RotationPattern, Shift, Unavailability

DEMO_NOTE = "demo"
# Callsign numbers in rotation order. INDIA-09's accreditation has lapsed in the
# demo cadre, so the weeks it is rostered show a gap: "accreditation lapsed".
PATTERNS = [
    ("Negotiators, weekly", "negotiator", 2, [1, 2, 3, 4, 9, 6, 7, 8, 10, 11]),
    ("Coordinators, weekly", "coordinator", 1, [23, 24, 25, 26]),
    ("Advisers, weekly", "adviser", 1, [22, 27]),
]


def home():
    return Force.objects.filter(code="WSX").first()


def seed(stdout):
    force = home()
    if force is None:
        return
    rota = queries.rota_for(force)
    by_number = {int(n.callsign.rsplit("-", 1)[-1]): n for n in force.negotiators.all()}
    today = timezone.localdate()
    first = today.replace(day=1)
    end = (first + timedelta(days=64)).replace(day=1)  # the first day of the month after next
    for name, role, at_once, numbers in PATTERNS:
        order = [by_number[n].pk for n in numbers if n in by_number]
        pattern, _ = RotationPattern.objects.update_or_create(
            rota=rota,
            name=name,
            defaults={
                "role": role,
                "length": RotationPattern.Length.WEEK,
                "handover_weekday": 0,
                "handover_time": time(8),
                "on_at_once": at_once,
                "starts_on": first,
                "order": order,
            },
        )
        if order and not Shift.objects.filter(rota=rota, pattern=pattern).exists():
            # From the day before, so the month's first hours (before handover) are covered.
            start = first - timedelta(days=1)
            services.generate(rota, pattern, start, end, confirm=True, reason="Demo data", by=None)
    seed_unavailability(rota, today)
    stdout.write(f"Demo rota: {rota} from {first} to {end}")


def seed_unavailability(rota, today):
    """Someone on next week's rota is off sick for two days: a conflict and a gap."""
    if Unavailability.objects.filter(negotiator__force=rota.force, note=DEMO_NOTE).exists():
        return
    monday = today + timedelta(days=7 - today.weekday())
    at = rules.at_local(monday, time(12))
    shift = Shift.objects.covering(at).filter(rota=rota, role="negotiator").first()
    negotiator = shift.negotiator if shift else Negotiator.objects.filter(force=rota.force).first()
    if negotiator is None:
        return
    Unavailability.objects.create(
        negotiator=negotiator,
        start=rules.at_local(monday + timedelta(days=1), time(0)),
        end=rules.at_local(monday + timedelta(days=3), time(0)),
        reason=Unavailability.Reason.SICKNESS,
        note=DEMO_NOTE,
    )
