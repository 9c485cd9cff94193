import sys
import types
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

from cadre.models import Accreditation, Force, Negotiator
from cadre.phones import normalise_mobile

pytestmark = pytest.mark.django_db


def seed():
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def snapshot():
    return sorted(
        Negotiator.objects.values_list("force__code", "callsign", "full_name", "mobile", "user_id")
    )


def test_it_seeds_a_believable_cadre_and_is_safe_to_run_twice():
    seed()
    first = snapshot()
    accreditations = Accreditation.objects.count()
    seed()
    assert snapshot() == first
    assert Accreditation.objects.count() == accreditations

    home = Force.objects.get(code="WSX")
    assert home.neighbours.count() == 2
    cadre = Negotiator.objects.filter(force=home)
    assert 22 <= cadre.with_role("negotiator").count() <= 26
    assert cadre.with_role("coordinator").count() == 4
    assert cadre.with_role("adviser").count() == 2
    assert cadre.count() - cadre.deployable().count() == 1  # the lapsed one
    for force in home.neighbours.all():
        assert force.negotiators.exists()
    mobiles = [m for *_, m, _user in first]
    assert len(set(mobiles)) == len(mobiles)
    assert all(normalise_mobile(m) == m and m.startswith("+447700900") for m in mobiles)


def test_it_warns_of_a_few_lapsing_accreditations():
    from datetime import date

    seed()
    today = date.today()
    lapsing = [n for n in Negotiator.objects.filter(force__code="WSX") if n.accredited_until()]
    soon = [n for n in lapsing if (n.accredited_until() - today).days <= 60]
    assert 2 <= len(soon) <= 5


def memberships(username):
    user = authenticate(username=username, password="standby-demo")
    assert user is not None, username
    return {m.force.code: m.roles for m in user.memberships.all()}


def test_it_creates_a_login_for_each_role_in_its_forces():
    seed()
    seed()
    assert memberships("coordinator") == {"WSX": ["coordinator"]}
    assert memberships("supervisor") == {"WSX": ["supervisor"]}
    assert memberships("negotiator") == {"WSX": ["negotiator"]}
    assert memberships("avm-coordinator") == {"AVM": ["coordinator"]}
    assert memberships("avm-negotiator") == {"AVM": ["negotiator"]}
    assert memberships("regional-supervisor") == {"WSX": ["supervisor"], "AVM": ["supervisor"]}
    linked = Negotiator.objects.filter(user__isnull=False)
    records = dict(linked.values_list("user__username", "callsign"))
    assert Negotiator.objects.get(user__username="coordinator").has_role("coordinator")
    assert records["negotiator"] == "ALPHA-01"
    assert records["avm-coordinator"] == "KESTREL-06"
    assert records["avm-negotiator"] == "KESTREL-01"
    assert "supervisor" not in records and "regional-supervisor" not in records


def test_it_calls_each_apps_demo_seeder(monkeypatch):
    calls = []
    module = types.ModuleType("roster.demo")
    module.seed = lambda stdout=None: calls.append(Negotiator.objects.count())
    monkeypatch.setitem(sys.modules, "roster.demo", module)
    monkeypatch.setattr("importlib.util.find_spec", lambda name: name == "roster.demo" or None)
    output = seed()
    assert calls and calls[0] > 0  # after the cadre exists
    assert "Demo data for roster: done" in output
