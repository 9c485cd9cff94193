"""Every write to the cadre register: each one whole or not at all.

A negotiator saved with their accreditations and login, a login linked, a CSV
import, a negotiator's own mobile. The forms and cadre.importing decide what is
valid; this saves it. A unique callsign, mobile or login taken by someone else
between the check and the save raises `Taken`, with nothing saved.
"""

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction

from cadre import access, queries
from cadre.importing import ImportResult, read_cadre_csv
from cadre.models import Accreditation, Force, Membership, Negotiator


class Taken(Exception):
    """A callsign, mobile or login was taken by someone else a moment ago; nothing was saved."""


class LoginRefused(Exception):
    """The login named may not be tied to this negotiator (cadre.scope.link_problem)."""


def grant(user, force, *roles) -> Membership:
    """Add login `roles` to the user's membership in `force` (creating it)."""
    membership = Membership.objects.filter(user=user, force=force).first()
    if membership is None:
        membership = Membership(user=user, force=force)
    membership.roles = {*membership.roles, *roles}
    membership.save()
    access.forget(user)
    return membership


def set_memberships(user, roles_by_force: dict) -> None:
    """Exactly these memberships for `user`: {force: [login roles]}; others removed."""
    with transaction.atomic():
        Membership.objects.filter(user=user).exclude(force__in=list(roles_by_force)).delete()
        for force, roles in roles_by_force.items():
            membership = Membership.objects.filter(user=user, force=force).first()
            membership = membership or Membership(user=user, force=force)
            membership.roles = roles
            membership.save()
    access.forget(user)


def negotiator_login(username: str, force, password: str | None = None):
    """The login `username` for a negotiator of `force`: created when missing, or an existing
    login with no other tie (access.link_problem); given the negotiator role in `force`.

    A new login gets `password`, or no usable password when there is none (an
    imported person sets theirs through a password reset).
    """
    problem = access.link_problem(username, force)
    if problem:
        raise LoginRefused(problem)
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User.objects.create_user(username, password=password)
    grant(user, force, access.NEGOTIATOR)
    return user


def link_login(negotiator: Negotiator, username: str, password: str | None = None) -> None:
    """Attach (or create) the login `username` to the negotiator; LoginRefused if it may not."""
    with transaction.atomic():
        negotiator.user = negotiator_login(username, negotiator.force, password)
        negotiator.save(update_fields=["user", "updated_at"])


def save_negotiator(form, formset) -> Negotiator:
    """Save a NegotiatorForm, its accreditations formset and the login it names, together."""
    try:
        with transaction.atomic():
            negotiator = form.save()
            formset.instance = negotiator
            formset.save()
            if form.cleaned_data.get("username"):
                link_login(negotiator, form.cleaned_data["username"], form.cleaned_data["password"])
    except IntegrityError as error:
        raise Taken from error
    return negotiator


def import_cadre(text: str, allowed_force_ids=None) -> tuple[int, ImportResult]:
    """Check a CSV against the register as it is now and, when every row is good, save them all.

    `allowed_force_ids`: the forces the importing login may add people to.
    Returns how many were saved (0 when there were problems) and what was read.
    """
    try:
        with transaction.atomic():
            result = read_cadre_csv(text, queries.known_register(allowed_force_ids))
            saved = save_rows(result.rows) if result.ok else 0
    except IntegrityError as error:
        raise Taken from error
    return saved, result


def save_rows(rows) -> int:
    """Imported rows (cadre.importing.CadreRow) as negotiators, each with one accreditation."""
    forces = {f.code: f for f in Force.objects.all()}
    for row in rows:
        force = forces[row.force_code]
        user = negotiator_login(row.username, force) if row.username else None
        negotiator = Negotiator(
            force=force,
            callsign=row.callsign,
            full_name=row.full_name,
            mobile=row.mobile,
            user=user,
        )
        negotiator.roles = row.roles
        negotiator.save()
        Accreditation.objects.create(
            negotiator=negotiator,
            kind=row.kind,
            passed_on=row.passed_on,
            valid_until=row.valid_until,
            note="Imported from CSV",
        )
    return len(rows)


def change_own_mobile(negotiator: Negotiator, mobile: str) -> None:
    """A negotiator's own new mobile (already normalised and checked by OwnMobileForm)."""
    negotiator.mobile = mobile
    try:
        with transaction.atomic():
            negotiator.save(update_fields=["mobile", "updated_at"])
    except IntegrityError as error:
        raise Taken from error
