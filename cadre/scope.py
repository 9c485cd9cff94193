"""Who may read and change what: the pure decisions (no database).

A login's `Scope` is the roles it carries in each force (its memberships; a
superuser carries every role in every force) and its own cadre record, if any.
`cadre.access` builds it from the database and is the module every view, form,
API endpoint, feed and export asks; the decisions themselves are here.

What each role may do in a force it belongs to:

    coordinator  the cadre register with names and mobiles, edit and import; the rota,
                 edited; incidents, raised and managed; escalation policies; the
                 phone simulator's handsets
    supervisor   the register without names or mobiles; the rota, read; incidents,
                 raised and managed (callsigns only)
    negotiator   their own record, shifts and callouts; who is on call (API)

Mutual aid is the one crossing between forces: on a neighbour's incident, a force's
coordinators and supervisors see the callouts of their own people only (coordinators with
names), never the neighbour's people, their words or logins; and the neighbour sees only
the callsigns of the people it called, never their names or mobiles (`People`).
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

COORDINATOR = "coordinator"
SUPERVISOR = "supervisor"
NEGOTIATOR = "negotiator"
LOGIN_ROLES = (COORDINATOR, SUPERVISOR, NEGOTIATOR)


class Can(StrEnum):
    READ_CADRE = "read the cadre register"
    EDIT_CADRE = "edit the cadre register"
    SEE_NAMES = "see names and mobiles"
    READ_ROTA = "read the rota"
    EDIT_ROTA = "edit the rota"
    MANAGE_INCIDENTS = "raise and manage incidents"
    EDIT_POLICIES = "edit escalation policies"
    USE_SIMULATOR = "use the phone simulator"
    READ_ON_CALL = "read who is on call"
    READ_AUDIT = "read the access audit"


# Which login roles, held in a force, allow each action in that force.
ALLOWED = {
    Can.READ_CADRE: {COORDINATOR, SUPERVISOR},
    Can.EDIT_CADRE: {COORDINATOR},
    Can.SEE_NAMES: {COORDINATOR},
    Can.READ_ROTA: {COORDINATOR, SUPERVISOR},
    Can.EDIT_ROTA: {COORDINATOR},
    Can.MANAGE_INCIDENTS: {COORDINATOR, SUPERVISOR},
    Can.EDIT_POLICIES: {COORDINATOR},
    Can.USE_SIMULATOR: {COORDINATOR},
    Can.READ_ON_CALL: {COORDINATOR, SUPERVISOR, NEGOTIATOR},
    Can.READ_AUDIT: {SUPERVISOR},
}


@dataclass(frozen=True)
class Scope:
    roles: Mapping[int, frozenset[str]] = field(default_factory=dict)  # force id -> roles
    superuser: bool = False
    negotiator_id: int | None = None  # the login's own cadre record

    def forces(self, action: Can) -> frozenset[int]:
        """The forces (ids) where this login may do `action`."""
        allowed = ALLOWED[action]
        return frozenset(f for f, roles in self.roles.items() if roles & allowed)

    def may(self, action: Can, force_id: int | None = None) -> bool:
        """May do `action` in that force; without one, in any force."""
        forces = self.forces(action)
        return bool(forces) if force_id is None else force_id in forces

    def has_role(self, *roles: str) -> bool:
        """Carries any of `roles` in some force."""
        return any(set(roles) & held for held in self.roles.values())


def scope(
    memberships: Iterable[tuple[int, Iterable[str]]],
    *,
    superuser: bool = False,
    every_force: Iterable[int] = (),
    negotiator_id: int | None = None,
) -> Scope:
    """A Scope from (force id, roles) pairs; a superuser holds every role in every force."""
    roles: dict[int, frozenset[str]] = {}
    for force_id, held in memberships:
        roles[force_id] = roles.get(force_id, frozenset()) | frozenset(held)
    if superuser:
        roles = dict.fromkeys(every_force, frozenset(LOGIN_ROLES))
    return Scope(roles=roles, superuser=superuser, negotiator_id=negotiator_id)


def audit_forces(s: Scope) -> frozenset[int] | None:
    """Whose access audit a login reads: None for all of it (an administrator, who holds
    every role in every force but also sees what logins of no force did); else the forces
    it supervises (what was looked at there and what their people looked at), empty when
    it reads none."""
    return None if s.superuser else s.forces(Can.READ_AUDIT)


@dataclass(frozen=True)
class People:
    """Which people called to incidents a login sees, and how: the one rule for every page,
    export and API answer that shows an incident's people (its board, timeline, lists).

    On an incident of a force it manages: everyone called. On any other (mutual aid): the
    people of the forces it manages, nobody else's. A negotiator: their own callouts.
    Names and mobiles only of people from forces it coordinates; everyone else by callsign
    only. Login names (who raised, stood down, closed, wrote the debrief) and the debrief
    itself only on incidents of a force it belongs to.
    """

    every_of: frozenset[int] = frozenset()  # incidents of these forces: everyone called
    own_of: frozenset[int] = frozenset()  # any incident: the people of these forces
    me: int | None = None  # the login's own cadre record: its own callouts
    names_of: frozenset[int] = frozenset()  # names and mobiles of people of these forces
    member_of: frozenset[int] = frozenset()  # forces the login belongs to (any role)

    def sees_everyone(self, incident_force: int) -> bool:
        """Sees everyone called to an incident of `incident_force` (and its own lines)."""
        return incident_force in self.every_of

    def sees(self, incident_force: int, person_force: int, person: int | None = None) -> bool:
        """Sees, on an incident of `incident_force`, the person `person` of `person_force`."""
        return (
            self.sees_everyone(incident_force)
            or person_force in self.own_of
            or (person is not None and person == self.me)
        )

    def named(self, person_force: int) -> bool:
        """Sees the name and mobile of a person of `person_force` (else the callsign only)."""
        return person_force in self.names_of

    def logins(self, incident_force: int) -> bool:
        """Sees who acted on an incident of `incident_force` (login names) and its debrief."""
        return incident_force in self.member_of

    def login_named(self, login_forces: Iterable[int], superuser: bool = False) -> bool:
        """Sees the name of a login of `login_forces` (the access audit): one of a force it
        belongs to, or an administrator's. Else by callsign and force only."""
        return superuser or bool(self.member_of & frozenset(login_forces))


def people(s: Scope) -> People:
    managed = s.forces(Can.MANAGE_INCIDENTS)
    return People(
        every_of=managed,
        own_of=managed,
        me=s.negotiator_id,
        names_of=s.forces(Can.SEE_NAMES),
        member_of=frozenset(f for f, roles in s.roles.items() if roles),
    )


@dataclass(frozen=True)
class IncidentView:
    """How much of one incident a login sees (its rows: People.sees, names: People.named)."""

    manage: bool  # the incident's own force: every row, the buttons, the brief
    row_forces: frozenset[int]  # rows of people from these forces (empty with manage: all)
    names_of: frozenset[int]  # names and mobiles of people from these forces
    own_only: bool  # a negotiator called to it: their own row only
    logins: bool = False  # who acted (login names) and the debrief: People.logins

    @property
    def visible(self) -> bool:
        return self.manage or bool(self.row_forces) or self.own_only


def incident_view(
    s: Scope, incident_force: int, called_forces: Iterable[int], called_me: bool
) -> IncidentView:
    """What `s` sees of an incident of `incident_force` that called people of `called_forces`.

    Its own force's managers see it all; managers of a force whose people were called
    (mutual aid) see those people's rows; a negotiator called to it sees their own row.
    Names and mobiles only ever of people from forces where the viewer is coordinator.
    """
    p = people(s)
    logins = p.logins(incident_force)
    if incident_force in p.every_of:
        return IncidentView(True, frozenset(), p.names_of, False, logins)
    lent = frozenset(called_forces) & p.own_of
    return IncidentView(False, lent, p.names_of & lent, called_me and not lent, logins)


def link_problem(
    username: str,
    *,
    exists: bool,
    staff: bool = False,
    superuser: bool = False,
    has_record: bool = False,
    other_forces: Iterable[str] = (),
) -> str | None:
    """Why the login `username` may not be tied to a negotiator, or None when it may.

    Only a new login, or an existing one with no other tie (no cadre record, no
    membership in another force) that is neither staff nor superuser, may be linked.
    """
    if not exists:
        return None
    if staff or superuser:
        return f"Login “{username}” is an administrator's and cannot be linked."
    if has_record:
        return f"Login “{username}” already belongs to someone in the register."
    others = sorted(other_forces)
    if others:
        return f"Login “{username}” belongs to another force ({', '.join(others)})."
    return None


# Two-factor login -----------------------------------------------------------------------
CODE, SETUP = "code", "setup"


def needs_two_factor(s: Scope) -> bool:
    """Whom the REQUIRE_TWO_FACTOR setting covers: coordinators and supervisors of any
    force, and superusers. Negotiators may opt in."""
    return s.superuser or s.has_role(COORDINATOR, SUPERVISOR)


def second_factor(s: Scope, *, required: bool, enrolled: bool, verified: bool) -> str | None:
    """What a signed-in login must do before any page: enter a code (CODE), set up an
    authenticator (SETUP), or nothing (None).

    Anyone with an authenticator set up is asked for its code, whatever the setting;
    `required` (the setting) sends those it covers without one to set one up.
    """
    if verified:
        return None
    if enrolled:
        return CODE
    if required and needs_two_factor(s):
        return SETUP
    return None


def may_turn_off_two_factor(s: Scope, *, required: bool) -> bool:
    return not (required and needs_two_factor(s))


def two_factor_reset_problem(
    actor: Scope,
    *,
    own: bool,
    record_force: int,
    target_superuser: bool,
    target_forces: Iterable[int],
) -> str | None:
    """Why `actor` may not reset the two-factor login of the login tied to a cadre record of
    `record_force` (belonging to `target_forces`), or None when they may.

    A coordinator of the record's force may, when they also coordinate every other force
    the login belongs to (one force's coordinator does not decide for another's); never
    their own (a lost phone is another coordinator's job, so nobody lowers their own guard),
    never an administrator's (the admin, by another administrator).
    """
    if own:
        return "You cannot reset your own two-factor login: ask another coordinator."
    coordinated = actor.forces(Can.EDIT_CADRE)
    if record_force not in coordinated:
        return "Only a coordinator of this person's force can reset their two-factor login."
    if target_superuser and not actor.superuser:
        return "This is an administrator's login: another administrator resets it in the admin."
    if not set(target_forces) <= coordinated:
        return (
            "This login also belongs to a force you do not coordinate: a coordinator of "
            "every force it belongs to, or an administrator, resets it."
        )
    return None
