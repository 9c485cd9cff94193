"""Reads of the cadre register: whose record a login is, which force a user works in,
the register's rows as pages show them, and what the CSV import checks against.

"Which force is this user in?" is answered here and nowhere else.
"""

from dataclasses import dataclass
from datetime import date, datetime

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Count

from cadre import rules
from cadre.importing import Known
from cadre.models import Force, Negotiator


def negotiator_for(user) -> Negotiator | None:
    """The cadre record linked to a login, or None (anonymous, or staff without a record)."""
    if user is None or not user.is_authenticated:
        return None
    try:
        return user.negotiator
    except ObjectDoesNotExist:
        return None


def forces_for(user):
    """The forces a user works on: their own, or every force when they have no cadre record
    or are a superuser."""
    negotiator = negotiator_for(user)
    if negotiator is not None and not user.is_superuser:
        return Force.objects.filter(pk=negotiator.force_id)
    return Force.objects.all()


def home_force(user=None) -> Force | None:
    """The user's own force; without one (or without a user), the force with the most
    negotiators, where staff without a cadre record work."""
    negotiator = negotiator_for(user)
    if negotiator is not None:
        return negotiator.force
    return Force.objects.annotate(size=Count("negotiators")).order_by("-size", "pk").first()


@dataclass(frozen=True)
class CadreRow:
    negotiator: Negotiator
    deployable: bool
    valid_until: date | None  # end of the current run of accreditation, else the last one
    lapsing_on: date | None  # set when that end is within the warning window

    @property
    def status(self) -> tuple[str, str]:
        """(badge class, words) for the deployable badge."""
        if not self.negotiator.active:
            return "", "Inactive"
        return ("good", "Deployable") if self.deployable else ("bad", "Not deployable")


def cadre_row(negotiator: Negotiator, now: datetime) -> CadreRow:
    periods = negotiator.periods()
    today = rules.local_date(now)
    until = rules.accredited_until(periods, today)
    if until is None and periods:
        until = max(p.valid_until for p in periods)
    return CadreRow(
        negotiator=negotiator,
        deployable=rules.is_deployable(negotiator.active, periods, now),
        valid_until=until,
        lapsing_on=rules.lapses_within(periods, today) if negotiator.active else None,
    )


def cadre_rows(filters: dict, now: datetime) -> list[CadreRow]:
    """The register by force and callsign, narrowed by the list page's filters (cleaned data)."""
    negotiators = Negotiator.objects.select_related("force").prefetch_related("accreditations")
    if filters.get("role"):
        negotiators = negotiators.with_role(filters["role"])
    if filters.get("force"):
        negotiators = negotiators.filter(force=filters["force"])
    if filters.get("deployable"):
        negotiators = negotiators.deployable(now)
    rows = [cadre_row(n, now) for n in negotiators.order_by("force__name", "callsign")]
    if filters.get("lapsing"):
        rows = [row for row in rows if row.lapsing_on]
    return rows


def known_register() -> Known:
    """What the CSV import checks new rows against."""
    return Known(
        force_codes=frozenset(Force.objects.values_list("code", flat=True)),
        callsigns=frozenset(Negotiator.objects.values_list("force__code", "callsign").iterator()),
        mobiles={
            mobile: f"{callsign} ({code})"
            for mobile, callsign, code in Negotiator.objects.values_list(
                "mobile", "callsign", "force__code"
            )
        },
        linked_usernames=frozenset(
            Negotiator.objects.filter(user__isnull=False).values_list("user__username", flat=True)
        ),
    )
