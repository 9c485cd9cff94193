"""Every write to the cadre register: each one whole or not at all.

A negotiator saved with their accreditations and login, a login linked, a CSV
import, a negotiator's own mobile. The forms and cadre.importing decide what is
valid; this saves it. A unique callsign, mobile or login taken by someone else
between the check and the save raises `Taken`, with nothing saved.
"""

from django.contrib.auth.models import Group, User
from django.db import IntegrityError, transaction

from cadre import access, queries
from cadre.importing import ImportResult, read_cadre_csv
from cadre.models import Accreditation, Force, Negotiator


class Taken(Exception):
    """A callsign, mobile or login was taken by someone else a moment ago; nothing was saved."""


def negotiator_login(username: str, password: str | None = None, group: Group | None = None):
    """The login `username`, created when missing, in the Negotiator group.

    A new login gets `password`, or no usable password when there is none (an
    imported person sets theirs through a password reset).
    """
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User.objects.create_user(username, password=password)
    user.groups.add(group or Group.objects.get(name=access.NEGOTIATOR))
    return user


def link_login(negotiator: Negotiator, username: str, password: str | None = None) -> None:
    """Attach (or create) the login `username` to the negotiator."""
    with transaction.atomic():
        negotiator.user = negotiator_login(username, password)
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


def import_cadre(text: str) -> tuple[int, ImportResult]:
    """Check a CSV against the register as it is now and, when every row is good, save them all.

    Returns how many were saved (0 when there were problems) and what was read.
    """
    try:
        with transaction.atomic():
            result = read_cadre_csv(text, queries.known_register())
            saved = save_rows(result.rows) if result.ok else 0
    except IntegrityError as error:
        raise Taken from error
    return saved, result


def save_rows(rows) -> int:
    """Imported rows (cadre.importing.CadreRow) as negotiators, each with one accreditation."""
    forces = {f.code: f for f in Force.objects.all()}
    negotiator_group = Group.objects.get(name=access.NEGOTIATOR)
    for row in rows:
        user = negotiator_login(row.username, group=negotiator_group) if row.username else None
        negotiator = Negotiator(
            force=forces[row.force_code],
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
