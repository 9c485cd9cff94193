"""The pure access decisions (cadre/scope.py): no database."""

from cadre.scope import (
    COORDINATOR,
    NEGOTIATOR,
    SUPERVISOR,
    Can,
    Scope,
    audit_forces,
    incident_view,
    link_problem,
    people,
    scope,
)

WSX, AVM, DSH = 1, 2, 3


def test_it_allows_each_role_only_its_actions_in_its_own_force():
    s = scope([(WSX, [COORDINATOR]), (AVM, [SUPERVISOR])])
    assert s.may(Can.EDIT_CADRE, WSX) and not s.may(Can.EDIT_CADRE, AVM)
    assert s.may(Can.READ_CADRE, AVM) and not s.may(Can.SEE_NAMES, AVM)
    assert s.forces(Can.MANAGE_INCIDENTS) == {WSX, AVM}
    assert s.forces(Can.EDIT_POLICIES) == {WSX}
    assert s.forces(Can.USE_SIMULATOR) == {WSX}
    assert not s.may(Can.READ_CADRE, DSH)


def test_it_gives_the_access_audit_of_their_forces_to_supervisors_all_of_it_to_admins():
    assert audit_forces(scope([(WSX, [SUPERVISOR]), (AVM, [COORDINATOR])])) == {WSX}
    assert audit_forces(scope([(WSX, [COORDINATOR, NEGOTIATOR])])) == frozenset()
    assert audit_forces(scope([], superuser=True, every_force=[WSX, AVM])) is None


def test_it_gives_a_negotiator_nothing_of_the_register_or_rota():
    s = scope([(WSX, [NEGOTIATOR])], negotiator_id=7)
    assert s.forces(Can.READ_CADRE) == frozenset()
    assert s.forces(Can.READ_ROTA) == frozenset()
    assert s.forces(Can.READ_ON_CALL) == {WSX}
    assert not s.may(Can.MANAGE_INCIDENTS)


def test_it_gives_a_login_without_memberships_nothing():
    s = scope([])
    assert all(not s.may(action) for action in Can)
    assert Scope() == s


def test_it_gives_a_superuser_every_role_in_every_force():
    s = scope([], superuser=True, every_force=[WSX, AVM])
    assert all(s.forces(action) == {WSX, AVM} for action in Can)


def test_it_merges_roles_given_twice_for_one_force():
    s = scope([(WSX, [SUPERVISOR]), (WSX, [COORDINATOR])])
    assert s.may(Can.EDIT_ROTA, WSX) and s.has_role(SUPERVISOR)


def test_it_shows_an_incident_whole_to_its_own_forces_managers():
    view = incident_view(scope([(WSX, [COORDINATOR])]), WSX, {WSX, AVM}, False)
    assert view.manage and view.visible
    assert view.names_of == {WSX}  # the lent AVM people: callsigns only


def test_it_shows_a_lending_force_only_its_own_people_on_a_neighbours_incident():
    avm = scope([(AVM, [COORDINATOR])])
    view = incident_view(avm, WSX, {WSX, AVM}, False)
    assert not view.manage and view.row_forces == {AVM} and view.names_of == {AVM}
    supervisor = incident_view(scope([(AVM, [SUPERVISOR])]), WSX, {WSX, AVM}, False)
    assert supervisor.row_forces == {AVM} and supervisor.names_of == frozenset()


def test_it_hides_an_incident_that_called_none_of_ones_people():
    view = incident_view(scope([(DSH, [COORDINATOR])]), WSX, {WSX, AVM}, False)
    assert not view.visible


def test_it_shows_a_called_negotiator_their_own_row_only():
    view = incident_view(scope([(AVM, [NEGOTIATOR])], negotiator_id=4), WSX, {AVM}, True)
    assert view.own_only and not view.manage and view.row_forces == frozenset()


def test_it_shows_a_lending_force_its_own_people_only_and_by_name_only_if_coordinator():
    avm = people(scope([(AVM, [COORDINATOR])]))
    assert avm.sees(WSX, AVM) and not avm.sees(WSX, WSX) and not avm.sees(WSX, DSH)
    assert avm.named(AVM) and not avm.named(WSX)
    assert not avm.logins(WSX) and avm.logins(AVM)  # not who acted on WSX's incident
    supervisor = people(scope([(AVM, [SUPERVISOR])]))
    assert supervisor.sees(WSX, AVM) and not supervisor.sees(WSX, WSX)
    assert not supervisor.named(AVM)


def test_it_shows_the_requesting_force_everyone_but_lent_people_by_callsign_only():
    wsx = people(scope([(WSX, [COORDINATOR])]))
    assert wsx.sees(WSX, WSX) and wsx.sees(WSX, AVM)
    assert wsx.named(WSX) and not wsx.named(AVM)
    assert wsx.logins(WSX)
    regional = people(scope([(WSX, [COORDINATOR]), (AVM, [COORDINATOR])]))
    assert regional.named(AVM)  # they coordinate AVM too


def test_it_shows_a_negotiator_only_themselves_and_who_acted_only_in_their_own_force():
    lent = people(scope([(AVM, [NEGOTIATOR])], negotiator_id=4))
    assert lent.sees(WSX, AVM, 4) and not lent.sees(WSX, AVM, 5) and not lent.sees(WSX, WSX, 6)
    assert not lent.named(AVM) and not lent.logins(WSX) and lent.logins(AVM)
    assert not people(scope([])).sees(WSX, WSX)


def test_it_gives_the_incident_view_login_names_only_within_the_incidents_force():
    assert incident_view(scope([(WSX, [SUPERVISOR])]), WSX, {WSX, AVM}, False).logins
    assert not incident_view(scope([(AVM, [COORDINATOR])]), WSX, {WSX, AVM}, False).logins
    own = incident_view(scope([(WSX, [NEGOTIATOR])], negotiator_id=4), WSX, {WSX}, True)
    assert own.own_only and own.logins


def test_it_links_only_a_new_login_or_one_with_no_other_tie():
    assert link_problem("new", exists=False) is None
    assert link_problem("free", exists=True) is None
    assert link_problem("free", exists=True, other_forces=[]) is None
    assert "administrator" in link_problem("admin", exists=True, superuser=True)
    assert "administrator" in link_problem("staff", exists=True, staff=True)
    assert "already belongs" in link_problem("taken", exists=True, has_record=True)
    assert "another force (AVM)" in link_problem("regional", exists=True, other_forces=["AVM"])
