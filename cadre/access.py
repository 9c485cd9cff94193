"""Who may read and change what: the one module every view, form, API endpoint, feed and
export asks. The decisions are pure (cadre/scope.py); this loads a login's memberships,
scopes querysets at the source and picks the force a page is about.

    scope_of(user)                  the login's Scope (cached on the user object)
    may(user, Can.X, force=None)    may do X in that force (any force without one)
    force_ids(user, Can.X)          the forces (ids) where it may; forces(user, Can.X) as Forces
    negotiators(user, Can.X)        cadre records of those forces (an id elsewhere: a 404)
    require(Can.X)                  view decorator: login, then 403 unless X in some force
    chosen_force(request, Can.X)    the force a page is about: ?force=CODE (remembered in the
                                    session), the remembered one, or the only one; else raises
                                    ChooseForce and the middleware shows a force picker
    incident_view(user, ...)        how much of an incident the login sees (mutual aid)
    people(user)                    which people of incidents it sees, by name or callsign
    audit_forces(user)              whose access audit it reads: None for all, else force ids
    login_labels(user, logins)      how it names other logins (the access audit): login name
                                    or callsign and force
    link_problem(username, force)   why a login may not be tied to a negotiator in `force`
    two_factor_step(user)           what a signed-in login must do before any page: enter a
                                    code, set up an authenticator, or nothing (the middleware
                                    sends it there); may_turn_off_two_factor(user),
                                    two_factor_reset_problem(actor, negotiator)
"""

from functools import wraps

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import Http404

from cadre import queries, scope
from cadre.models import LOGIN_ROLE_FIELDS, Force, Membership, Negotiator
from cadre.scope import CODE, COORDINATOR, NEGOTIATOR, SETUP, SUPERVISOR, Can

__all__ = ["CODE", "COORDINATOR", "NEGOTIATOR", "SETUP", "SUPERVISOR", "Can"]

SESSION_FORCE = "standby_force"


def scope_of(user) -> scope.Scope:
    if user is None or not user.is_authenticated or not user.is_active:
        return scope.Scope()
    cached = getattr(user, "_standby_scope", None)
    if cached is None:
        flags = LOGIN_ROLE_FIELDS.values()
        rows = Membership.objects.filter(user=user).values_list("force_id", *flags)
        memberships = [
            (force_id, [role for role, held in zip(LOGIN_ROLE_FIELDS, flags, strict=True) if held])
            for force_id, *flags in rows
        ]
        record = Negotiator.objects.filter(user=user).values_list("pk", flat=True).first()
        cached = scope.scope(
            memberships,
            superuser=user.is_superuser,
            every_force=Force.objects.values_list("pk", flat=True) if user.is_superuser else (),
            negotiator_id=record,
        )
        user._standby_scope = cached
    return cached


def forget(user) -> None:
    """Drop the cached scope after the login's memberships changed."""
    if hasattr(user, "_standby_scope"):
        del user._standby_scope


def may(user, action: Can, force=None) -> bool:
    force_id = getattr(force, "pk", force)
    return scope_of(user).may(action, force_id)


def force_ids(user, action: Can) -> frozenset[int]:
    return scope_of(user).forces(action)


def forces(user, action: Can):
    return Force.objects.filter(pk__in=force_ids(user, action)).order_by("name")


def negotiators(user, action: Can = Can.READ_CADRE):
    return Negotiator.objects.filter(force__in=force_ids(user, action))


def in_group(user, *roles) -> bool:
    """Carries any of the login roles `roles` (COORDINATOR, SUPERVISOR, NEGOTIATOR) in a force."""
    s = scope_of(user)
    return s.superuser or s.has_role(*roles)


def is_coordinator(user) -> bool:
    return in_group(user, COORDINATOR)


def is_supervisor(user) -> bool:
    return in_group(user, SUPERVISOR)


def can_view_cadre(user) -> bool:
    return may(user, Can.READ_CADRE)


def require(action: Can):
    """Login required, then 403 unless the user may do `action` in at least one force."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(request, *args, **kwargs):
            if not may(request.user, action):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


coordinator_required = require(Can.EDIT_CADRE)
cadre_viewer_required = require(Can.READ_CADRE)


class ChooseForce(Exception):
    """The page is about one force and the login holds several: ask which
    (cadre.middleware shows the picker)."""

    def __init__(self, choices):
        super().__init__("Choose a force")
        self.choices = list(choices)


def chosen_force(request, action: Can, required=True) -> Force | None:
    """The force this request is about, among those where the user may do `action`.

    `?force=CODE` chooses (and is remembered in the session); else the remembered
    force; else the only one. With several and no choice: ChooseForce (or None when not
    `required`). A code the user holds no role for is never chosen: a 404.
    """
    choices = list(forces(request.user, action))
    code = request.GET.get("force", "").strip()
    if code:
        found = next((f for f in choices if f.code.lower() == code.lower()), None)
        if found is None:
            raise Http404("No such force of yours.")
        request.session[SESSION_FORCE] = found.pk
        return found
    remembered = request.session.get(SESSION_FORCE)
    found = next((f for f in choices if f.pk == remembered), None)
    if found is not None:
        return found
    if len(choices) == 1:
        return choices[0]
    if not required:
        return None
    if not choices:
        raise PermissionDenied
    raise ChooseForce(choices)


def incident_view(user, incident_force_id, called_forces, called_me) -> scope.IncidentView:
    return scope.incident_view(scope_of(user), incident_force_id, called_forces, called_me)


def people(user) -> scope.People:
    return scope.people(scope_of(user))


def audit_forces(user) -> frozenset[int] | None:
    """The forces whose access audit `user` reads (None: all of it; see require(READ_AUDIT))."""
    return scope.audit_forces(scope_of(user))


def login_labels(user, logins) -> dict[int, str]:
    """How `user` names each of `logins` (login id -> text): by login name where it may
    (scope.People.login_named), else by callsign (if it has a cadre record) and force,
    "KESTREL-02 (AVM)": a lent person's login is often their own name."""
    seen = people(user)
    logins = {u.pk: u for u in logins if u is not None}
    forces: dict[int, set[int]] = {pk: set() for pk in logins}
    codes: dict[int, set[str]] = {pk: set() for pk in logins}
    for user_id, force_id, code in Membership.objects.filter(user__in=logins).values_list(
        "user_id", "force_id", "force__code"
    ):
        forces[user_id].add(force_id)
        codes[user_id].add(code)
    callsigns = dict(Negotiator.objects.filter(user__in=logins).values_list("user_id", "callsign"))
    return {
        pk: login.get_username()
        if seen.login_named(forces[pk], superuser=login.is_superuser)
        else f"{callsigns.get(pk, 'a login')} ({', '.join(sorted(codes[pk])) or 'no force'})"
        for pk, login in logins.items()
    }


def link_problem(username: str, force) -> str | None:
    """Why `username` may not be tied to a negotiator of `force` (None: it may)."""
    user = User.objects.filter(username=username).first()
    if user is None:
        return scope.link_problem(username, exists=False)
    others = (
        Membership.objects.filter(user=user)
        .exclude(force=getattr(force, "pk", force))
        .values_list("force__code", flat=True)
    )
    return scope.link_problem(
        username,
        exists=True,
        staff=user.is_staff,
        superuser=user.is_superuser,
        has_record=Negotiator.objects.filter(user=user).exists(),
        other_forces=list(others),
    )


def two_factor_step(user) -> str | None:
    """scope.CODE, scope.SETUP or None for a request's user (after OTPMiddleware)."""
    if user is None or not user.is_authenticated:
        return None
    if user.is_verified():
        return None
    return scope.second_factor(
        scope_of(user),
        required=settings.REQUIRE_TWO_FACTOR,
        enrolled=queries.two_factor_on(user),
        verified=False,
    )


def may_turn_off_two_factor(user) -> bool:
    return scope.may_turn_off_two_factor(scope_of(user), required=settings.REQUIRE_TWO_FACTOR)


def two_factor_reset_problem(actor, negotiator: Negotiator) -> str | None:
    """Why `actor` may not reset the two-factor login of `negotiator`'s login (None: they may)."""
    target = negotiator.user
    if target is None:
        return "This person has no login."
    return scope.two_factor_reset_problem(
        scope_of(actor),
        own=target.pk == actor.pk,
        record_force=negotiator.force_id,
        target_superuser=target.is_superuser,
        target_forces=Membership.objects.filter(user=target).values_list("force_id", flat=True),
    )
