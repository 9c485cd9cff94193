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


def test_it_creates_a_login_for_each_role():
    seed()
    coordinator = authenticate(username="coordinator", password="standby-demo")
    supervisor = authenticate(username="supervisor", password="standby-demo")
    negotiator = authenticate(username="negotiator", password="standby-demo")
    assert coordinator.groups.filter(name="Coordinator").exists()
    assert coordinator.negotiator.has_role("coordinator")
    assert supervisor.groups.filter(name="Supervisor").exists()
    assert negotiator.negotiator.callsign == "ALPHA-01"


def test_it_calls_each_apps_demo_seeder(monkeypatch):
    calls = []
    module = types.ModuleType("roster.demo")
    module.seed = lambda stdout=None: calls.append(Negotiator.objects.count())
    monkeypatch.setitem(sys.modules, "roster.demo", module)
    monkeypatch.setattr("importlib.util.find_spec", lambda name: name == "roster.demo" or None)
    output = seed()
    assert calls and calls[0] > 0  # after the cadre exists
    assert "Demo data for roster: done" in output
