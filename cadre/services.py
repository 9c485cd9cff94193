"""Every write to the cadre register: each one whole or not at all.

A negotiator saved with their accreditations and login, a login linked, a CSV
import, a negotiator's own mobile. The forms and cadre.importing decide what is
valid; this saves it. A unique callsign, mobile or login taken by someone else
between the check and the save raises `Taken`, with nothing saved.

A login's two-factor devices (django-otp's authenticator and recovery codes): set up,
checked, new recovery codes, turned off, reset by a coordinator. Each change is recorded
in the admin's history of that login (LogEntry, who and what) and logged on
`standby.security`.

Every write takes the acting login as `by=` (keyword, required). `by=None` means the system
acts: the demo seeding, a management command or the escalator clock. Where a record keeps
who did it (the CSV upload, the two-factor history) it keeps `by`.
"""

import logging
import secrets
from datetime import timedelta
from itertools import islice

from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from cadre import access, codes, queries, sql
from cadre.importing import ImportResult, read_cadre_csv
from cadre.models import ROLE_FIELDS, Accreditation, CadreImport, Force, Membership, Negotiator


class Taken(Exception):
    """A callsign, mobile or login was taken by someone else a moment ago; nothing was saved."""


class LoginRefused(Exception):
    """The login named may not be tied to this negotiator (cadre.scope.link_problem)."""


def grant(user, force, *roles, by) -> Membership:
    """Add login `roles` to the user's membership in `force` (creating it); `by` grants them
    (None: the system, e.g. the demo)."""
    membership = Membership.objects.filter(user=user, force=force).first()
    if membership is None:
        membership = Membership(user=user, force=force)
    membership.roles = {*membership.roles, *roles}
    membership.save()
    access.forget(user)
    return membership


def set_memberships(user, roles_by_force: dict, *, by) -> None:
    """Exactly these memberships for `user`: {force: [login roles]}; others removed. `by`:
    who sets them (None: the system, e.g. the demo seeding)."""
    with transaction.atomic():
        Membership.objects.filter(user=user).exclude(force__in=list(roles_by_force)).delete()
        for force, roles in roles_by_force.items():
            membership = Membership.objects.filter(user=user, force=force).first()
            membership = membership or Membership(user=user, force=force)
            membership.roles = roles
            membership.save()
    access.forget(user)


def negotiator_login(username: str, force, password: str | None = None, *, by):
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
    grant(user, force, access.NEGOTIATOR, by=by)
    return user


def link_login(negotiator: Negotiator, username: str, password: str | None = None, *, by) -> None:
    """Attach (or create) the login `username` to the negotiator; LoginRefused if it may not.
    `by`: the coordinator linking it."""
    with transaction.atomic():
        negotiator.user = negotiator_login(username, negotiator.force, password, by=by)
        negotiator.save(update_fields=["user", "updated_at"])


NEGOTIATOR_FIELDS = ("force", "callsign", "full_name", "mobile", "active")
ACCREDITATION_FIELDS = ("kind", "passed_on", "valid_until", "note")


def save_negotiator(
    negotiator: Negotiator | None, details: dict, accreditations: list[dict], *, by
) -> Negotiator:
    """Save a negotiator (None: a new one), their accreditations and the login they name,
    together. The data is already checked (NegotiatorForm, AccreditationFormSet):

    - `details`: force, callsign, full_name, mobile, active, roles, and optionally username
      and password (a login to link or create);
    - `accreditations`: one dict a row: kind, passed_on, valid_until, note; `id` the
      Accreditation a row changes (None for a new one); `DELETE` true to remove it; an
      empty dict (a blank row left unfilled) is skipped.

    `by`: the coordinator saving (the register keeps no history of its own).
    """
    negotiator = negotiator or Negotiator()
    # Against the saved row: a ModelForm's checking has already put the new one on the instance.
    if Negotiator.objects.filter(pk=negotiator.pk).exclude(mobile=details["mobile"]).exists():
        # A STOP was sent from the old number: texts to a new one are not stopped.
        negotiator.texts_stopped_at = None
    for field in NEGOTIATOR_FIELDS:
        setattr(negotiator, field, details[field])
    negotiator.roles = details["roles"]
    try:
        with transaction.atomic():
            negotiator.save()
            for row in accreditations:
                _save_accreditation(negotiator, row)
            if details.get("username"):
                link_login(negotiator, details["username"], details.get("password"), by=by)
    except IntegrityError as error:
        raise Taken from error
    return negotiator


def _save_accreditation(negotiator: Negotiator, row: dict) -> None:
    kept = row.get("id")
    if not row or (row.get("DELETE") and kept is None):
        return
    if row.get("DELETE"):
        kept.delete()
        return
    accreditation = kept or Accreditation(negotiator=negotiator)
    for field in ACCREDITATION_FIELDS:
        setattr(accreditation, field, row[field])
    accreditation.save()


PENDING_KEPT = timedelta(days=1)  # an upload never confirmed is deleted after this


class AlreadyImported(Exception):
    """This upload was imported before: confirming it again saves nothing."""


def keep_upload(filename: str, text: str, *, by) -> CadreImport:
    """Keep a CSV uploaded `by` a coordinator (the upload records them) for its preview and
    confirming."""
    return CadreImport.objects.create(by=by, filename=filename[:255], text=text)


def forget_stale_uploads(*, by) -> None:
    """Delete uploads never confirmed within PENDING_KEPT: names and mobiles are not kept in
    files nobody imported (the escalator clock runs this hourly through
    cadre.tasks.forget_stale_uploads_now, config/jobs.py, with `by=None`: the system)."""
    stale = timezone.now() - PENDING_KEPT
    CadreImport.objects.filter(imported_at=None, uploaded_at__lt=stale).delete()


def import_cadre(
    upload: CadreImport, allowed_force_ids, digest: str, *, by
) -> tuple[bool, ImportResult]:
    """Check the upload against the register as it is now and, when every row is good and
    saving would do just what the preview showed (`digest`, ImportResult.digest), add and
    update everyone in one transaction: all of it or nothing.

    `allowed_force_ids`: the forces the importing login may add people to and update.
    `by`: the coordinator confirming (the upload records who uploaded it).
    Returns (saved, what was read). AlreadyImported when it was imported before; Taken when
    a callsign, mobile or login was taken by someone else meanwhile (nothing saved).
    """
    try:
        with transaction.atomic():
            upload = CadreImport.objects.select_for_update().get(pk=upload.pk)
            if upload.imported_at is not None:
                raise AlreadyImported(upload)
            result = read_cadre_csv(upload.text, queries.known_register(allowed_force_ids))
            if not result.ok or result.digest() != digest:
                return False, result
            save_rows(result.rows, by=by)
            upload.imported_at = timezone.now()
            upload.added = len(result.having("new"))
            upload.changed = len(result.having("changed"))
            upload.text = ""  # the register holds the people now; no copy of the file is kept
            upload.save()
    except IntegrityError as error:
        raise Taken from error
    return True, result


def save_rows(rows, *, by) -> None:
    """Imported rows (cadre.importing.CadreRow): new people added and changed ones updated,
    each new accreditation recorded, logins linked or created. A few statements for the
    whole file, however many rows it has (see _insert). `by`: the coordinator importing."""
    forces = dict(Force.objects.values_list("code", "pk"))
    logins = _logins(rows, forces)
    now = timezone.now()

    def roles(row):
        return tuple(role in row.roles for role in ROLE_FIELDS)

    new = [row for row in rows if row.on_record is None]
    _insert(
        Negotiator,
        [
            (
                forces[r.force_code],
                r.callsign,
                r.full_name,
                r.mobile,
                *roles(r),
                logins.get(r.username),
            )
            for r in new
        ],
    )
    changed = [row for row in rows if row.changes]
    sql.update(
        sql.CHANGE_PERSON,
        [
            (r.full_name, r.mobile, *roles(r), now, r.on_record.pk)
            for r in changed
            if {"name", "mobile", "roles"} & set(r.changes)
        ],
    )
    sql.update(
        sql.CHANGE_LOGIN,
        [(logins[r.username], now, r.on_record.pk) for r in changed if "login" in r.changes],
    )
    people = _negotiator_ids(new, forces) | {r.row: r.on_record.pk for r in changed}
    _insert(
        Accreditation,
        [
            (people[r.row], r.kind, r.passed_on, r.valid_until, "Imported from CSV")
            for r in [*new, *changed]
            if r.on_record is None or "accreditation" in r.changes
        ],
    )


def _logins(rows, forces) -> dict[str, int]:
    """The login of each row that links one (username -> user id): a free existing login
    (cadre.importing checked it may be linked) or a new one without a password, each given
    the negotiator role in the row's force."""
    wanted = {
        row.username: forces[row.force_code]
        for row in rows
        if row.username and (row.on_record is None or "login" in row.changes)
    }
    if not wanted:
        return {}
    ids = _ids(User.objects, "username", list(wanted))
    existing = list(ids.values())  # only these can have memberships already
    missing = [name for name in wanted if name not in ids]
    # No usable password (an imported person sets theirs by a reset): what make_password(None)
    # gives, "!" and a random tail, made here in one call rather than 40 for each login.
    tails = iter(secrets.token_hex(20 * len(missing)))
    _insert(
        User,
        [(name, UNUSABLE_PASSWORD_PREFIX + "".join(islice(tails, 40))) for name in missing],
    )
    ids |= _ids(User.objects, "username", missing)
    held = {}  # (user id, force id) -> (membership id, negotiator role already)
    for chunk in _chunks(existing):
        held |= {
            (user, force): (pk, negotiator)
            for pk, user, force, negotiator in Membership.objects.filter(
                user__in=chunk
            ).values_list("pk", "user", "force", "is_negotiator")
        }
    grant, create = [], []
    for name, force in wanted.items():
        membership = held.get((ids[name], force))
        if membership is None:
            create.append((ids[name], force, True))
        elif not membership[1]:
            grant.append((True, membership[0]))
    sql.update(sql.GRANT_NEGOTIATOR, grant)
    _insert(Membership, create)
    return ids


def _negotiator_ids(rows, forces) -> dict[int, int]:
    """Row number -> id of the people just added from these rows."""
    ids = {}
    for chunk in _chunks([row.callsign for row in rows]):
        found = Negotiator.objects.filter(callsign__in=chunk)
        ids |= {(f, c): pk for pk, f, c in found.values_list("pk", "force_id", "callsign")}
    return {row.row: ids[forces[row.force_code], row.callsign] for row in rows}


def _ids(objects, field: str, values: list) -> dict:
    """value of `field` -> id, for the rows of `objects` holding these values."""
    ids = {}
    for chunk in _chunks(values):
        ids |= dict(objects.filter(**{f"{field}__in": chunk}).values_list(field, "pk"))
    return ids


def _chunks(values, size=None):
    size = size or _per_statement(1)
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _per_statement(columns: int) -> int:
    """How many rows of `columns` values one statement carries: the database's limit on
    parameters (999 on SQLite, as Django takes it) over the columns, at most 1,000."""
    return max(1, min(1000, (connection.features.max_query_params or 65535) // columns))


def _insert(model, rows) -> None:
    """Insert the import's new rows of `model` (cadre.sql.INSERTS: the columns they give)."""
    sql.insert(model, rows, timezone.now())


def change_own_mobile(negotiator: Negotiator, mobile: str, *, by) -> None:
    """A negotiator's own new mobile (already normalised and checked by OwnMobileForm);
    `by`: their login.

    A STOP was sent from the old number: texts to a new one are not stopped."""
    if mobile != negotiator.mobile:
        negotiator.texts_stopped_at = None
    negotiator.mobile = mobile
    try:
        with transaction.atomic():
            negotiator.save(update_fields=["mobile", "texts_stopped_at", "updated_at"])
    except IntegrityError as error:
        raise Taken from error


log = logging.getLogger(__name__)


def record_texts_stopped(negotiator: Negotiator, at, *, by) -> bool:
    """Remember that `negotiator` sent STOP from their mobile `at` (a datetime), or that they
    sent START, UNSTOP or YES (`at` None): texts reach them again. The first STOP's time is
    kept until texts are back on. `by`: the login that recorded it; None for the system (the
    keyword arrived by SMS). True when it changed anything; the caller's `negotiator` follows.
    """
    people = Negotiator.objects.filter(pk=negotiator.pk)
    if at is None:
        changed = people.exclude(texts_stopped_at=None).update(texts_stopped_at=None)
    else:
        changed = people.filter(texts_stopped_at=None).update(texts_stopped_at=at)
    if changed:
        negotiator.texts_stopped_at = at
        log.info(
            "texts %s for negotiator %s (by %s)",
            "stopped" if at else "back on",
            negotiator.pk,
            getattr(by, "pk", None) or "the system",
        )
    return bool(changed)


# Two-factor login ----------------------------------------------------------------------
security = logging.getLogger("standby.security")


def start_two_factor(user, *, by) -> TOTPDevice:
    """The authenticator being set up for `user` (`by`: the login itself): the same one until
    it is confirmed, so a reload of the set-up page shows the QR code already scanned."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    return device or TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)


def confirm_two_factor(device: TOTPDevice, code: str, *, by) -> list[str] | None:
    """Turn two-factor login on when `code` is the new authenticator's current code: the
    new recovery codes (shown once), or None when the code is not right. `by`: the login
    itself (recorded in its history)."""
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(pk=device.pk).first()
        if device is None or device.confirmed or not device.verify_token(code):
            return None
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=device.user).exclude(pk=device.pk).delete()
        made = _recovery_codes(device.user)
        _record(by, device.user, "Two-factor login turned on")
    return made


def new_recovery_codes(user, *, by) -> list[str]:
    """A new set of recovery codes; the old ones stop working. `by`: the login itself."""
    with transaction.atomic():
        made = _recovery_codes(user)
        _record(by, user, "New recovery codes made (the old ones stopped working)")
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


def check_code(user, typed: codes.Typed, *, by):
    """The device that takes the code typed (a recovery code is used up), or None. `by`: the
    login typing it (the same as `user`)."""
    model = StaticDevice if typed.recovery else TOTPDevice
    with transaction.atomic():
        for device in model.objects.select_for_update().filter(user=user, confirmed=True):
            if device.verify_token(typed.code):
                return device
    return None


def turn_off_two_factor(user, *, by) -> None:
    """The login's own choice (access.may_turn_off_two_factor, after a code); `by`: the
    login itself (recorded in its history)."""
    with transaction.atomic():
        _remove_two_factor(user)
        _record(by, user, "Two-factor login turned off")


def reset_two_factor(negotiator: Negotiator, *, by) -> None:
    """A coordinator (`by`) clears the two-factor login of a member's login (a lost phone):
    they set it up again at their next login. access.two_factor_reset_problem decides who
    may."""
    actor = by
    problem = access.two_factor_reset_problem(actor, negotiator)
    if problem:
        raise PermissionError(problem)
    with transaction.atomic():
        _remove_two_factor(negotiator.user)
        ended = _end_sessions(negotiator.user)
        _record(
            actor,
            negotiator.user,
            f"Two-factor login reset by {actor.get_username()} "
            f"(for {negotiator.callsign}, {negotiator.force.code}); "
            f"{ended} open session(s) ended",
        )


def _end_sessions(user) -> int:
    """Log the login out everywhere: the lost phone may still hold an open session, which
    could otherwise set up an authenticator of its own. Sessions are in the database
    (Django's default engine) and few: a cadre's logins, each on a device or two."""
    ids = [
        session.pk
        for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator()
        if session.get_decoded().get(SESSION_KEY) == str(user.pk)
    ]
    Session.objects.filter(pk__in=ids).delete()
    return len(ids)


def _remove_two_factor(user) -> None:
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()


def _record(actor, user, what: str) -> None:
    LogEntry.objects.log_actions(
        actor.pk, User.objects.filter(pk=user.pk), CHANGE, what, single_object=True
    )
    security.info("%s: login=%r by=%r", what, user.get_username(), actor.get_username())
