"""Every write to the cadre register: each one whole or not at all.

A negotiator saved with their accreditations and login, a login linked, a CSV
import, a negotiator's own mobile. The forms and cadre.importing decide what is
valid; this saves it. A unique callsign, mobile or login taken by someone else
between the check and the save raises `Taken`, with nothing saved.

A login's two-factor devices (django-otp's authenticator and recovery codes): set up,
checked, new recovery codes, turned off, reset by a coordinator. Each change is recorded
in the admin's history of that login (LogEntry, who and what) and logged on
`standby.security`.
"""

import logging

from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from cadre import access, codes, queries
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


# Two-factor login ----------------------------------------------------------------------
security = logging.getLogger("standby.security")


def start_two_factor(user) -> TOTPDevice:
    """The authenticator being set up: the same one until it is confirmed, so a reload of
    the set-up page shows the QR code already scanned."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    return device or TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)


def confirm_two_factor(device: TOTPDevice, code: str) -> list[str] | None:
    """Turn two-factor login on when `code` is the new authenticator's current code: the
    new recovery codes (shown once), or None when the code is not right."""
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(pk=device.pk).first()
        if device is None or device.confirmed or not device.verify_token(code):
            return None
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=device.user).exclude(pk=device.pk).delete()
        made = _recovery_codes(device.user)
        _record(device.user, device.user, "Two-factor login turned on")
    return made


def new_recovery_codes(user) -> list[str]:
    """A new set of recovery codes; the old ones stop working."""
    with transaction.atomic():
        made = _recovery_codes(user)
        _record(user, user, "New recovery codes made (the old ones stopped working)")
    return made


def _recovery_codes(user) -> list[str]:
    device = StaticDevice.objects.filter(user=user).order_by("pk").first()
    device = device or StaticDevice.objects.create(user=user, name="Recovery codes")
    device.token_set.all().delete()
    made = set()
    while len(made) < codes.RECOVERY_CODES:
        made.add(StaticToken.random_token())
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in made)
    return sorted(made)


def check_code(user, typed: codes.Typed):
    """The device that takes the code typed (a recovery code is used up), or None."""
    model = StaticDevice if typed.recovery else TOTPDevice
    with transaction.atomic():
        for device in model.objects.select_for_update().filter(user=user, confirmed=True):
            if device.verify_token(typed.code):
                return device
    return None


def turn_off_two_factor(user) -> None:
    """The login's own choice (access.may_turn_off_two_factor, after a code)."""
    with transaction.atomic():
        _remove_two_factor(user)
        _record(user, user, "Two-factor login turned off")


def reset_two_factor(actor, negotiator: Negotiator) -> None:
    """A coordinator clears the two-factor login of a member's login (a lost phone): they set
    it up again at their next login. access.two_factor_reset_problem decides who may."""
    problem = access.two_factor_reset_problem(actor, negotiator)
    if problem:
        raise PermissionError(problem)
    with transaction.atomic():
        _remove_two_factor(negotiator.user)
        _record(
            actor,
            negotiator.user,
            f"Two-factor login reset by {actor.get_username()} "
            f"(for {negotiator.callsign}, {negotiator.force.code})",
        )


def _remove_two_factor(user) -> None:
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()


def _record(actor, user, what: str) -> None:
    LogEntry.objects.log_actions(
        actor.pk, User.objects.filter(pk=user.pk), CHANGE, what, single_object=True
    )
    security.info("%s: login=%r by=%r", what, user.get_username(), actor.get_username())
