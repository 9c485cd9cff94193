"""Migration 0004 brings existing logins over from the global groups to memberships."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("cadre", "0003_memberships")]
AFTER = [("cadre", "0004_memberships_from_groups")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture(autouse=True)
def _latest_schema_after():
    """Back to every app's latest migration after each test: a later test (in any file)
    must find the tables added after AFTER."""
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_it_gives_each_login_a_membership_from_its_record_and_groups():
    apps = migrate(BEFORE)
    User = apps.get_model("auth", "User")
    Group = apps.get_model("auth", "Group")
    Force = apps.get_model("cadre", "Force")
    Negotiator = apps.get_model("cadre", "Negotiator")
    names = ("Coordinator", "Supervisor", "Negotiator")
    group = {name: Group.objects.get_or_create(name=name)[0] for name in names}
    wessex = Force.objects.create(name="Wessex", code="WSX")
    Force.objects.create(name="Avonmoor", code="AVM")
    coordinator = User.objects.create(username="coordinator")
    coordinator.groups.add(group["Coordinator"], group["Negotiator"])
    Negotiator.objects.create(
        force=wessex,
        callsign="ZULU-1",
        full_name="Z",
        mobile="+447700900001",
        is_coordinator=True,
        user=coordinator,
    )
    plain = User.objects.create(username="plain")  # a record, no group
    Negotiator.objects.create(
        force=wessex, callsign="A-1", full_name="A", mobile="+447700900002", user=plain
    )
    floating = User.objects.create(username="floating")  # a group, no record, two forces
    floating.groups.add(group["Supervisor"])

    apps = migrate(AFTER)
    Membership = apps.get_model("cadre", "Membership")
    roles = {
        (m.user.username, m.force.code): (m.is_coordinator, m.is_supervisor, m.is_negotiator)
        for m in Membership.objects.select_related("user", "force")
    }
    assert roles == {
        ("coordinator", "WSX"): (True, False, True),
        ("plain", "WSX"): (False, False, True),
    }  # "floating" is not guessed into a force: an administrator gives it one
    assert not apps.get_model("auth", "Group").objects.filter(name="Supervisor").exists()
    migrate(BEFORE)  # and back: the groups come back from the memberships
    migrate(AFTER)
