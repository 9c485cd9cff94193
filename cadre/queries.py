"""Reads of the cadre register: whose record a login is, which force a user works in,
the register's rows as pages show them, and what the CSV import checks against.

Which forces a login belongs to, and with which roles, is its memberships
(memberships_of); what it may do with them is cadre.access.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.contrib.auth.models import User
from django.core.exceptions import ObjectDoesNotExist
from django.core.paginator import Paginator
from django.db.models import Q
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from cadre import rules
from cadre.importing import Known, LoginTie, OnRecord
from cadre.models import (
    LOGIN_ROLE_FIELDS,
    ROLE_FIELDS,
    Accreditation,
    CadreImport,
    Force,
    LoginRole,
    Membership,
    Negotiator,
)


def negotiator_for(user) -> Negotiator | None:
    """The cadre record linked to a login, or None (anonymous, or staff without a record)."""
    if user is None or not user.is_authenticated:
        return None
    try:
        return user.negotiator
    except ObjectDoesNotExist:
        return None


def memberships_of(user):
    """The forces a login belongs to, with its roles there (its own page shows them)."""
    if user is None or not user.is_authenticated:
        return Membership.objects.none()
    return Membership.objects.filter(user=user).select_related("force").order_by("force__name")


@dataclass(frozen=True)
class TwoFactor:
    """A login's two-factor state, as its own page and its cadre page show it."""

    on: bool
    since: datetime | None = None
    recovery_left: int = 0


def two_factor_on(user) -> bool:
    """Has a confirmed authenticator: asked for its code at every login."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def two_factor_of(user) -> TwoFactor:
    if user is None:
        return TwoFactor(on=False)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        return TwoFactor(on=False)
    left = StaticToken.objects.filter(device__user=user).count()
    return TwoFactor(on=True, since=device.created_at, recovery_left=left)


def users_with_roles(force, *roles):
    """Active logins carrying any of the login `roles` in `force` (superusers not included)."""
    holds = Q()
    for role in roles:
        holds |= Q(**{f"memberships__{LOGIN_ROLE_FIELDS[LoginRole(role)]}": True})
    return User.objects.filter(
        holds, is_active=True, memberships__force=getattr(force, "pk", force)
    ).distinct()


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


PER_PAGE = 100


def cadre_page(negotiators, filters: dict, now: datetime, page=None):
    """One page of the register by force and callsign, narrowed by the list page's filters
    (cleaned data): (the page, its rows). Only the page's people are loaded and checked, so a
    register of tens of thousands lists as fast as one of thirty.

    `negotiators`: the part of the register the login may read (cadre.access.negotiators).
    """
    if filters.get("role"):
        negotiators = negotiators.with_role(filters["role"])
    if filters.get("force"):
        negotiators = negotiators.filter(force=filters["force"])
    if filters.get("deployable"):
        negotiators = negotiators.deployable(now)
    if filters.get("lapsing"):
        # In the database, everyone with an accreditation ending in the window (a few more
        # than lapse: a later record may carry them on); the exact rule below, on those only.
        today = rules.local_date(now)
        soon = today + timedelta(days=rules.LAPSING_WINDOW_DAYS)
        negotiators = negotiators.filter(
            active=True,
            accreditations__valid_until__gte=today,
            accreditations__valid_until__lte=soon,
        ).distinct()
        lapsing = [
            n.pk
            for n in negotiators.prefetch_related("accreditations")
            if rules.lapses_within(n.periods(), today)
        ]
        negotiators = negotiators.model.objects.filter(pk__in=lapsing)
    ordered = negotiators.select_related("force").order_by("force__name", "callsign", "pk")
    found = Paginator(ordered, PER_PAGE).get_page(page)
    people = list(found.object_list.prefetch_related("accreditations"))
    return found, [cadre_row(n, now) for n in people]


def known_register(allowed_force_ids=None) -> Known:
    """What the CSV import checks rows against; `allowed_force_ids`: the forces the
    importing login may add people to and update (every force when None). A few queries
    however large the register."""
    forces = dict(Force.objects.values_list("code", "pk"))
    allowed = forces.keys() if allowed_force_ids is None else None
    if allowed is None:
        allowed = {code for code, pk in forces.items() if pk in allowed_force_ids}
    logins = {}
    for username, staff, superuser, code, linked in User.objects.filter(
        Q(is_staff=True)
        | Q(is_superuser=True)
        | Q(memberships__isnull=False)
        | Q(negotiator__isnull=False)
    ).values_list("username", "is_staff", "is_superuser", "memberships__force__code", "negotiator"):
        tie = logins.setdefault(
            username, {"staff": False, "superuser": False, "has_record": False, "forces": set()}
        )
        tie["staff"] |= staff
        tie["superuser"] |= superuser
        tie["has_record"] |= linked is not None
        if code:
            tie["forces"].add(code)
    return Known(
        force_codes=frozenset(forces),
        allowed_force_codes=frozenset(allowed),
        people=_on_record(allowed),
        mobiles={
            mobile: f"{callsign} ({code})"
            for mobile, callsign, code in Negotiator.objects.values_list(
                "mobile", "callsign", "force__code"
            ).iterator()
        },
        logins={
            name: LoginTie(t["staff"], t["superuser"], t["has_record"], frozenset(t["forces"]))
            for name, t in logins.items()
        },
    )


def _on_record(force_codes) -> dict[tuple[str, str], OnRecord]:
    """The people of these forces as the import compares rows with them: two queries."""
    people = Negotiator.objects.filter(force__code__in=force_codes)
    accreditations: dict[int, set] = {}
    for pk, kind, passed_on, valid_until in (
        Accreditation.objects.filter(negotiator__in=people)
        .values_list("negotiator", "kind", "passed_on", "valid_until")
        .iterator()
    ):
        accreditations.setdefault(pk, set()).add((kind, passed_on, valid_until))
    fields = ("pk", "force__code", "callsign", "full_name", "mobile", "user__username")
    flags = tuple(ROLE_FIELDS.values())
    found = {}
    for values in people.values_list(*fields, *flags).iterator():
        pk, code, callsign, full_name, mobile, username = values[: len(fields)]
        held = values[len(fields) :]
        found[(code, callsign)] = OnRecord(
            pk=pk,
            full_name=full_name,
            mobile=mobile,
            roles=frozenset(role.value for role, on in zip(ROLE_FIELDS, held, strict=True) if on),
            username=username or "",
            accreditations=frozenset(accreditations.get(pk, ())),
        )
    return found


def force_with_code(forces, code: str) -> Force | None:
    """The force of `forces` (a queryset) with this code, or None."""
    return forces.filter(code=code).first()


def own_upload(user, pk) -> CadreImport | None:
    """A CSV upload the login made, or None (another's is not theirs to see)."""
    return CadreImport.objects.filter(pk=pk, by=user).first()


def with_accreditations(negotiators):
    """`negotiators` with their force, login and accreditations loaded (a person's page)."""
    return negotiators.select_related("force", "user").prefetch_related("accreditations")


def with_login(negotiators):
    """`negotiators` with their force and login loaded."""
    return negotiators.select_related("force", "user")


def force_exists(code: str) -> bool:
    """Whether a force has this code (any case)."""
    return Force.objects.filter(code__iexact=str(code)).exists()


def active_negotiators(force):
    """The force's active negotiators (the people a policy step may name)."""
    return Negotiator.objects.filter(force=force, active=True)
