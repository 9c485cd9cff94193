"""Every URL of the project, as every kind of login, with hostile input: never a 5xx.

The URL list is walked from the resolver (tests/test_every_url.py), so a page added later
is covered without touching this file. Each pattern is tried with a real object's id in
its path and with a number too big for any column; each is asked GET and POST, with every
parameter name the project reads (found in its source and in its forms) set to the same
hostile value in the query string and the form: a NUL byte, a number of 20 digits, -1, and
a junk string; under /api/, JSON bodies holding them and a lone surrogate. Run with DEBUG
off, as production is (Django's test runner turns it off).
"""

import itertools
import json
import re
from importlib import import_module
from pathlib import Path

import pytest
from django import forms
from django.contrib.auth.models import User
from django.test import Client
from django.urls import URLResolver, get_resolver
from django.urls.resolvers import RoutePattern

from callouts.engine.policy import create_default_policy
from callouts.web import tokens
from tests.factories import make_incident, make_negotiator, make_user, post_signed, put_on
from tests.test_every_url import CONVERTER_EXAMPLES, GROUP_EXAMPLES, NAMED_GROUP, ROUTE_PARAMETER

ROOT = Path(__file__).resolve().parents[1]
APPS = ("cadre", "roster", "callouts", "reports", "config")
HUGE = "99999999999999999999"  # past any integer column
VALUES = ("\x00", HUGE, "-1", "junk'\"<b>%s{}")
# Turns the test client's login away for the rest of the walk: tried as a stranger only.
SIGNS_OUT = {"/logout/"}


def names_read() -> list[str]:
    """Every parameter name the project reads: request.GET/POST/data .get("x") or ["x"] in
    its source, and every field of its forms."""
    found = set()
    read = re.compile(r"""(?:GET|POST|data|FILES)(?:\.get|\.getlist)?[(\[]\s*["']([\w-]+)["']""")
    for app in APPS:
        for source in (ROOT / app).rglob("*.py"):
            found.update(read.findall(source.read_text()))
    modules = itertools.chain.from_iterable((ROOT / app).rglob("forms.py") for app in APPS)
    for module in modules:  # every form class defined
        import_module(".".join(module.relative_to(ROOT).with_suffix("").parts))
    waiting = [forms.Form, forms.ModelForm]
    while waiting:
        form = waiting.pop()
        waiting.extend(form.__subclasses__())
        if form.__module__.split(".")[0] in APPS:
            found.update(getattr(form, "base_fields", {}))
    return sorted(found)


def ids(world) -> dict:
    """A real object's id for the paths that take one, by what the path starts with."""
    return {
        "/incidents/": world["incident"].pk,
        "/api/incidents/": world["incident"].pk,
        "/reports/export/incidents/": world["incident"].pk,
        "/cadre/": world["negotiator"].pk,
        "/simulator/phones/": world["negotiator"].pk,
        "/rota/shift/": world["shift"].pk,
        "/policies/": world["policy"].pk,
    }


def hostile_paths(world):
    """Each URL pattern's path with a real id (where one is known), and with HUGE."""
    real = ids(world)

    def fill(pattern, prefix, number):
        if isinstance(pattern, RoutePattern):  # path()
            route = str(pattern)

            def one(m):
                kind = type(pattern.converters[m[1]])
                if CONVERTER_EXAMPLES[kind] == "1":
                    if number == "real":
                        before = prefix + route[: m.start()]
                        return str(next((v for p, v in real.items() if before.startswith(p)), 1))
                    return HUGE
                return "x"

            return ROUTE_PARAMETER.sub(one, route)
        regex = pattern.regex.pattern.removeprefix("^").removesuffix("$").removesuffix(r"\Z")
        return NAMED_GROUP.sub(lambda m: GROUP_EXAMPLES[m[1]], regex)

    def walk(patterns, prefix, number):
        for entry in patterns:
            here = prefix + fill(entry.pattern, prefix, number)
            if isinstance(entry, URLResolver):
                yield from walk(entry.url_patterns, here, number)
            else:
                yield here

    found = set()
    for number in ("real", "huge"):
        found.update(walk(get_resolver().url_patterns, "/", number))
    return sorted(found)


@pytest.fixture
def world(force, cadre):
    negotiator = cadre["n1"]
    incident = make_incident(force)
    return {
        "incident": incident,
        "negotiator": negotiator,
        "shift": put_on(negotiator),
        "policy": create_default_policy(force),
    }


def logins(force):
    """A client for each kind of login (and none)."""
    from cadre.access import COORDINATOR, NEGOTIATOR, SUPERVISOR

    negotiator = make_user("hostile-neg", [NEGOTIATOR], force=force)
    make_negotiator(force=force, callsign="HOSTILE-1", user=negotiator)
    users = {
        "anonymous": None,
        "negotiator": negotiator,
        "coordinator": make_user("hostile-coord", [COORDINATOR], force=force),
        "supervisor": make_user("hostile-super", [SUPERVISOR], force=force),
        "superuser": User.objects.create_superuser("hostile-root", password="pw"),
    }
    clients = {}
    for role, user in users.items():
        if user is None:
            clients[role] = Client(raise_request_exception=False)
            continue
        token = tokens.create(user, "Hostile tester")[1]
        client = Client(raise_request_exception=False, headers={"authorization": f"Bearer {token}"})
        client.force_login(user)
        clients[role] = client
    return clients


def api_bodies(names):
    """JSON bodies for the API: each hostile value under every name, and a lone surrogate."""
    for value in (*VALUES, "\ud800", 99999999999999999999, -1, None, ["x"], {"x": 1}):
        yield json.dumps(dict.fromkeys(names, value))


def fine(url, response) -> bool:
    """The monitor's page says 503 when the escalator is not running (as in a test)."""
    return url == "/healthz/" and response.status_code == 503


@pytest.mark.django_db
def test_it_never_answers_5xx_to_hostile_input_on_any_url(world, force, settings):
    settings.DEBUG = False
    names = names_read()
    assert {"force", "person", "policy", "username"} <= set(names)
    paths = hostile_paths(world)
    assert len(paths) > 100, "the URL walk found suspiciously few pages"
    # The admin's formsets render every form TOTAL_FORMS asks for (up to Django's 2000).
    admin_names = [name for name in names if not name.endswith("TOTAL_FORMS")]
    failures, asked = [], 0
    for (r, (role, client)), (u, url) in itertools.product(
        enumerate(logins(force).items()), enumerate(paths)
    ):
        if url in SIGNS_OUT and role != "anonymous":
            continue
        if url.startswith("/admin/") and role != "superuser":
            continue  # sent to the login page (tests/test_every_url.py)
        # Coordinators, who reach the most code, get every value; the others one in turn
        # (each URL gets each value from some login). A NUL is refused before any login is
        # looked at: strangers and coordinators try it.
        if role == "coordinator":
            values = VALUES
        else:
            values = (VALUES[1 + (r + u) % (len(VALUES) - 1)],)
            if role == "anonymous":
                values = (VALUES[0], *values)
        for value in values:
            query = dict.fromkeys(admin_names if url.startswith("/admin/") else names, value)
            answers = [("GET", client.get(url, query))]
            if url.startswith("/twilio/"):
                answers.append(("POST signed", post_signed(client, url, query)))
            elif url.startswith("/api/"):
                for body in api_bodies(names) if value == VALUES[0] else ():
                    answer = client.post(url, body, content_type="application/json")
                    answers.append(("POST json", answer))
            else:
                answers.append(("POST", client.post(url, query)))
            for method, response in answers:
                asked += 1
                if response.status_code >= 500 and not fine(url, response):
                    failures.append(f"{role} {method} {url} {value!r}: {response.status_code}")
    assert asked > 1000
    assert not failures, "\n".join(failures[:40]) + f"\n({len(failures)} in all)"
