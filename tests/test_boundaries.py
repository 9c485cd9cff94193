"""Force boundaries: nobody reads or changes another force's things, whatever the URL.

Like test_every_url.py, the URL list is walked from the resolver, so a page or API
endpoint added later by any app is covered without touching this file. A
coordinator, a supervisor and a negotiator of one force (OWN) try every URL
pattern with the ids of another force's (FOR) objects — every object of every
kind, since a URL does not say what its id names — by GET and by POST (with form
fields and a JSON body pointing at FOR), and every API endpoint the same way
with their own bearer tokens:

- a URL with an id answers 403 or 404 (405 for a method it never takes);
- every answer, with or without an id, shows none of FOR's names, mobiles,
  callsigns, incident references or briefs;
- nothing of FOR's changes.

Left out on purpose: /login/ and /logout/ (one's own session), /static/,
/twilio/ (Twilio's signed webhooks, refused without a signature: see
test_every_url and tests/callouts/test_webhooks.py) and /rota/feed/ (the secret
token in the path is the credential; tests/roster/test_feed.py).
"""

import json
from datetime import timedelta

import pytest
from django.db.models import Q
from django.urls import URLResolver, converters, get_resolver
from django.urls.resolvers import RoutePattern
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from cadre.access import COORDINATOR, NEGOTIATOR, SUPERVISOR
from cadre.models import Accreditation, Force, Membership, Negotiator
from cadre.phones import display
from callouts.engine.policy import create_default_policy
from callouts.models import (
    ApiToken,
    Callout,
    Debrief,
    Deployment,
    EscalationPolicy,
    EscalationStep,
    Incident,
    Message,
)
from callouts.web import tokens
from roster.models import (
    CoverageRule,
    FeedToken,
    Rota,
    RotaChange,
    RotationPattern,
    Shift,
    SwapRequest,
    Unavailability,
)
from roster.queries import rota_for
from tests.factories import (
    make_cadre,
    make_callout,
    make_force,
    make_incident,
    make_message,
    make_negotiator,
    make_two_factor,
    make_unavailability,
    make_user,
    put_on,
)
from tests.test_every_url import GROUP_EXAMPLES, NAMED_GROUP, ROUTE_PARAMETER, _converter_example

pytestmark = pytest.mark.django_db

SKIPPED = ("/login/", "/logout/", "/static/", "/twilio/", "/rota/feed/", "/healthz/")
ID = "{id}"
# Converters that name an object: each is tried with every id of the other force.
ID_CONVERTERS = (converters.IntConverter, converters.PathConverter)
ALLOWED_WITH_ID = {403, 404}
# The admin refuses anyone but a superuser before it looks an object up, and it has ~150
# patterns: two of the other force's ids are enough there.
SAMPLED = ("/admin/",)
OWN_RECORD_PK = 1_000_000  # far from the other force's ids, so no id is ambiguous


def route(pattern) -> str:
    """The pattern's text with {id} for each converter that names an object."""
    if isinstance(pattern, RoutePattern):

        def fill(m):
            converter = pattern.converters[m[1]]
            return ID if isinstance(converter, ID_CONVERTERS) else _converter_example(converter)

        return ROUTE_PARAMETER.sub(fill, str(pattern))
    regex = pattern.regex.pattern.removeprefix("^").removesuffix("$").removesuffix(r"\Z")
    return NAMED_GROUP.sub(lambda m: GROUP_EXAMPLES[m[1]], regex)


def routes(patterns, prefix="/"):
    for entry in patterns:
        here = prefix + route(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from routes(entry.url_patterns, here)
        else:
            yield here


def every_route():
    found = sorted({r for r in routes(get_resolver().url_patterns) if not r.startswith(SKIPPED)})
    assert len(found) > 30, "the URL walk found suspiciously few patterns"
    assert sum(ID in r for r in found) > 15, "too few patterns with an id"
    return found


class Other:
    """Another force with one of everything, and what must never be seen of it."""

    def __init__(self):
        self.force = make_force("Foreign Constabulary", "FOR")
        cadre = make_cadre(self.force)
        self.people = list(cadre.values())
        for n, person in enumerate(self.people):
            person.full_name = f"Foreigner Surname{n}"
            person.save()
        self.coordinator = make_user("for-coord", [COORDINATOR], force=self.force)
        cadre["c1"].user = self.coordinator
        cadre["c1"].save()
        # A member with two-factor login on: a reset from another force must not touch it.
        self.member = make_user("for-member", [NEGOTIATOR], force=self.force)
        cadre["n2"].user = self.member
        cadre["n2"].save()
        make_two_factor(self.member)
        policy = create_default_policy(self.force)
        self.policy = policy
        self.incident = make_incident(self.force, brief="Secret brief of FOR")
        callout = make_callout(self.incident, cadre["n1"], status="delivered")
        sid = "CA" + "1" * 32
        self.call = make_message(callout, channel="voice", status="ringing", provider_sid=sid)
        make_message(
            direction=Message.Direction.IN,
            negotiator=cadre["n2"],
            from_number=cadre["n2"].mobile,
            body="Y",
        )
        now = timezone.now()
        shift = put_on(cadre["n1"], start=now + timedelta(days=1), days=1)
        put_on(cadre["c1"], "coordinator", start=now - timedelta(hours=1), days=1)
        self.swap = SwapRequest.objects.create(
            shift=shift, taker=cadre["n2"], requested_by=self.coordinator
        )
        make_unavailability(cadre["n3"], start=now + timedelta(days=2))
        rota = rota_for(self.force)
        RotationPattern.objects.create(
            rota=rota, name="FOR weekly", role="negotiator", starts_on=now.date(), order=[1]
        )
        FeedToken.objects.create(user=self.coordinator)

    def ids(self):
        """Every primary key of everything the other force has."""
        force = self.force
        kinds = [
            Negotiator.objects.filter(force=force),
            Accreditation.objects.filter(negotiator__force=force),
            Membership.objects.filter(force=force),
            Incident.objects.filter(force=force),
            Callout.objects.filter(incident__force=force),
            Message.objects.filter(self.messages()),
            EscalationPolicy.objects.filter(force=force),
            EscalationStep.objects.filter(policy__force=force),
            Shift.objects.filter(rota__force=force),
            SwapRequest.objects.filter(shift__rota__force=force),
            Unavailability.objects.filter(negotiator__force=force),
            RotationPattern.objects.filter(rota__force=force),
            Rota.objects.filter(force=force),
            Force.objects.filter(pk=force.pk),
        ]
        ids = set()
        for queryset in kinds:
            ids.update(queryset.values_list("pk", flat=True))
        assert ids and max(ids) < OWN_RECORD_PK
        return sorted(ids)

    def messages(self):
        mobiles = [p.mobile for p in self.people]
        return (
            Q(incident__force=self.force)
            | Q(negotiator__force=self.force)
            | Q(to_number__in=mobiles)
            | Q(from_number__in=mobiles)
        )

    def state(self):
        """Everything of the other force, to see that nothing changed."""
        force = self.force

        def rows(queryset):
            return list(queryset.order_by("pk").values())

        return [
            rows(Force.objects.all()),
            rows(Negotiator.objects.filter(force=force)),
            rows(Accreditation.objects.filter(negotiator__force=force)),
            rows(Membership.objects.filter(force=force)),
            rows(Incident.objects.filter(force=force)),
            rows(Callout.objects.filter(Q(incident__force=force) | Q(negotiator__force=force))),
            rows(Message.objects.filter(self.messages())),
            rows(EscalationPolicy.objects.filter(force=force)),
            rows(EscalationStep.objects.filter(policy__force=force)),
            rows(Rota.objects.filter(force=force)),
            rows(CoverageRule.objects.filter(rota__force=force)),
            rows(RotationPattern.objects.filter(rota__force=force)),
            rows(Shift.objects.filter(rota__force=force)),
            rows(SwapRequest.objects.filter(shift__rota__force=force)),
            rows(Unavailability.objects.filter(negotiator__force=force)),
            rows(RotaChange.objects.filter(rota__force=force)),
            rows(FeedToken.objects.filter(user=self.coordinator)),
            rows(ApiToken.objects.filter(user=self.coordinator)),
            rows(TOTPDevice.objects.filter(user=self.member)),
            rows(StaticToken.objects.filter(device__user=self.member)),
        ]

    def secrets(self):
        found = [self.incident.reference, self.incident.brief]
        for p in self.people:
            found += [p.full_name, p.mobile, display(p.mobile), p.callsign]
        return found

    def form(self):
        """POST fields naming the other force's things, for whatever form a URL has."""
        person = self.people[0]
        csv = (
            "callsign,full_name,mobile,roles,force,passed_on,valid_until,username\n"
            "HIJACK-1,Hijack Person,07700 900999,negotiator,FOR,2025-01-01,2027-12-31,for-coord\n"
        )
        return {
            "force": self.force.pk,
            "negotiator": person.pk,
            "taker": person.pk,
            "policy": self.policy.pk,
            "pattern": RotationPattern.objects.get(rota__force=self.force).pk,
            "callsign": "HIJACK-1",
            "full_name": "Hijack Person",
            "mobile": person.mobile,
            "roles": "negotiator",
            "username": "for-coord",
            "kind": "barricade",
            "location": "Elsewhere",
            "need_negotiator": "1",
            "role": "negotiator",
            "count": "1",
            "decision": "approve",
            "reason": "boundary test",
            "body": "Y",
            "digit": "1",
            "csv_text": csv,
            "confirm": "yes",
        }

    def json(self):
        return json.dumps({"force": "FOR", "kind": "barricade", "location": "Elsewhere"})


@pytest.fixture
def other(db):
    return Other()


@pytest.fixture
def own_users(db):
    """A coordinator, a supervisor and a negotiator of OWN (the negotiator with a record)."""
    own = make_force("Own Constabulary", "OWN")
    negotiator = make_user("own-negotiator", [NEGOTIATOR], force=own)
    make_negotiator(own, "OWN-01", user=negotiator, pk=OWN_RECORD_PK)
    return {
        "coordinator": make_user("own-coordinator", [COORDINATOR], force=own),
        "supervisor": make_user("own-supervisor", [SUPERVISOR], force=own),
        "negotiator": negotiator,
    }


def leaks(response, secrets):
    body = response.content.decode("utf-8", "replace")
    return [s for s in secrets if s and s in body]


def check(failures, what, response, secrets, with_id, sent=()):
    """`sent`: what the request itself carried (a form may show it back; that is no leak)."""
    secrets = [s for s in secrets if not any(s in str(v) for v in sent)]
    if with_id and response.status_code not in ALLOWED_WITH_ID | {405}:
        failures.append(f"{what}: answered {response.status_code}")
    if response.status_code >= 500:
        failures.append(f"{what}: answered {response.status_code}")
    leaked = leaks(response, secrets)
    if leaked:
        failures.append(f"{what}: shows {leaked}")


@pytest.mark.parametrize("who", ["coordinator", "supervisor", "negotiator"])
def test_it_keeps_every_page_of_another_force_from_a_user_of_one_force(
    client, other, own_users, who
):
    ids, before, secrets = other.ids(), other.state(), other.secrets()
    client.force_login(own_users[who])
    failures = []
    for pattern in every_route():
        if pattern.startswith("/api/"):
            continue
        tried = ids[:1] + ids[-1:] if pattern.startswith(SAMPLED) else ids
        urls = [pattern.format(id=i) for i in tried] if ID in pattern else [pattern]
        for url in urls:
            with_id = ID in pattern
            for query in [""] if with_id else ["", "?force=FOR"]:
                response = client.get(url + query, follow=True)
                check(failures, f"{who} GET {url}{query}", response, secrets, with_id)
            form = other.form()
            response = client.post(url, form, follow=True)
            check(failures, f"{who} POST {url}", response, secrets, with_id, form.values())
        if other.state() != before:
            failures.append(f"{who}: {pattern} changed the other force's data")
            before = other.state()
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("who", ["coordinator", "supervisor", "negotiator"])
def test_it_keeps_every_api_endpoint_of_another_force_from_a_token_of_one_force(
    client, other, own_users, who
):
    ids, before, secrets = other.ids(), other.state(), other.secrets()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {tokens.create(own_users[who])[1]}"}
    failures = []
    api = [p for p in every_route() if p.startswith("/api/")]
    assert len(api) >= 5
    for pattern in api:
        with_id = ID in pattern
        urls = [pattern.format(id=i) for i in ids] if with_id else [pattern]
        for url in urls:
            # Naming the other force where a force is taken; an id URL takes no parameter
            # (one it does not take is a 400 before anything is looked up).
            url_get = url if with_id else url + "?force=FOR"
            response = client.get(url_get, **headers)
            check(failures, f"{who} GET {url_get}", response, secrets, with_id)
            refused = response.status_code in ALLOWED_WITH_ID
            if not with_id and url.endswith("/oncall/") and not refused:
                failures.append(f"{who} GET {url}?force=FOR: {response.status_code}")
            response = client.post(url, other.json(), content_type="application/json", **headers)
            check(failures, f"{who} POST {url}", response, secrets, with_id)
            refused = response.status_code in ALLOWED_WITH_ID
            if not with_id and url.endswith("/incidents/") and not refused:
                failures.append(f"{who} POST {url} for FOR: {response.status_code}")
        if other.state() != before:
            failures.append(f"{who}: {pattern} changed the other force's data")
            before = other.state()
    assert not failures, "\n".join(failures)


def test_it_really_tries_the_other_forces_objects(client, other):
    """The walk is not vacuous: the other force's own coordinator reaches its pages."""
    client.force_login(other.coordinator)
    for url in [
        f"/cadre/{other.people[0].pk}/",
        f"/incidents/{other.incident.pk}/",
        f"/policies/{other.policy.pk}/",
        "/cadre/",
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
    page = client.get("/cadre/").content.decode()
    assert other.people[0].full_name in page
    assert "/incidents/{id}/" in every_route()


# Mutual aid: the one crossing between forces. A WSX incident reached AVM's people
# (tests/factories.MutualAid); every URL is walked with the ids of everything it made.


def mutual_aid_ids(lent):
    incident = lent.incident
    kinds = [
        Incident.objects.filter(pk=incident.pk),
        Callout.objects.filter(incident=incident),
        Deployment.objects.filter(incident=incident),
        Negotiator.objects.filter(force__in=[lent.wsx, lent.avm]),
        Debrief.objects.filter(incident=incident),
        Message.objects.filter(incident=incident).order_by("pk")[:3],
    ]
    return sorted({pk for queryset in kinds for pk in queryset.values_list("pk", flat=True)})


def walk_mutual_aid(client, user, ids, secrets):
    """GET every page and export (with each id where the URL takes one), then every API
    endpoint with the login's bearer token: what shows any of `secrets`, or breaks."""
    failures = []
    client.force_login(user)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {tokens.create(user)[1]}"}
    for pattern in every_route():
        if pattern.startswith(SAMPLED):
            continue  # the admin: superusers only (the walk above)
        urls = [pattern.format(id=i) for i in ids] if ID in pattern else [pattern]
        api = pattern.startswith("/api/")
        for url in urls:
            response = client.get(url, **headers) if api else client.get(url, follow=True)
            check(failures, f"{user} GET {url}", response, secrets, with_id=False)
    return failures


@pytest.mark.parametrize("who", ["avm_coordinator", "avm_supervisor", "avm_login"])
def test_it_shows_a_lending_force_only_its_own_people_on_every_page_and_export(client, lent, who):
    failures = walk_mutual_aid(client, getattr(lent, who), mutual_aid_ids(lent), lent.wsx_secrets())
    assert not failures, "\n".join(failures)
    # Not vacuous: they do see the incident, and their own people on it.
    page = client.get(f"/incidents/{lent.incident.pk}/timeline/")
    assert page.status_code == 200 and "KESTREL-02" in page.text


@pytest.mark.parametrize("who", ["wsx_coordinator", "wsx_supervisor"])
def test_it_shows_the_asking_force_lent_people_by_callsign_only_everywhere(client, lent, who):
    # AVM's people look at the incident too: the access audit records who did.
    for avm in (lent.avm_coordinator, lent.avm_login):
        client.force_login(avm)
        assert client.get(f"/incidents/{lent.incident.pk}/timeline/").status_code == 200
    failures = walk_mutual_aid(client, getattr(lent, who), mutual_aid_ids(lent), lent.avm_names())
    assert not failures, "\n".join(failures)
    page = client.get(f"/incidents/{lent.incident.pk}/")
    assert (
        "KESTREL-02" in page.text and "Wessexname Surname1" in page.text or who != "wsx_coordinator"
    )
