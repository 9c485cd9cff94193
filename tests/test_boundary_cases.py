"""Issue 9's cases, each as it was found: a user of one force acting on another's."""

import csv
import io
import json
from io import BytesIO

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from cadre import access
from cadre.access import COORDINATOR, NEGOTIATOR, SUPERVISOR
from cadre.models import Membership, Negotiator
from callouts.engine.policy import create_default_policy
from callouts.models import Callout, Deployment, EscalationPolicy, Event, Incident
from callouts.queries import seen
from callouts.web import tokens
from tests.factories import (
    make_cadre,
    make_callout,
    make_force,
    make_incident,
    make_membership,
    make_negotiator,
    make_user,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def wessex(db):
    force = make_force("Wessex Constabulary", "WSX")
    create_default_policy(force)
    return force


@pytest.fixture
def avonmoor(db):
    force = make_force("Avonmoor Police", "AVM")
    create_default_policy(force)
    return force


@pytest.fixture
def alpha(wessex):
    return make_negotiator(wessex, "ALPHA-01", mobile="+447700900001")


@pytest.fixture
def avm_coordinator(client, avonmoor):
    user = make_user("avm-coordinator", [COORDINATOR], force=avonmoor)
    client.force_login(user)
    return user


def bearer(user):
    return {"HTTP_AUTHORIZATION": f"Bearer {tokens.create(user)[1]}"}


def test_it_refuses_a_coordinator_editing_another_forces_negotiator(client, avm_coordinator, alpha):
    data = {"force": alpha.force_id, "callsign": "ALPHA-01", "full_name": "X"}
    data |= {"roles": "negotiator", "mobile": "07700 900666", "active": "on"}
    data |= {"acc-TOTAL_FORMS": "0"}
    data |= {"acc-INITIAL_FORMS": "0"}
    assert client.post(reverse("negotiator_edit", args=[alpha.pk]), data).status_code == 404
    assert client.get(reverse("negotiator_detail", args=[alpha.pk])).status_code == 404
    alpha.refresh_from_db()
    assert alpha.mobile == "+447700900001"


def test_it_shows_a_coordinator_only_their_own_forces_register(client, avm_coordinator, alpha):
    kestrel = make_negotiator(avm_coordinator.memberships.get().force, "KESTREL-01")
    page = client.get(reverse("cadre_list")).text
    assert kestrel.full_name in page and kestrel.callsign in page
    assert alpha.full_name not in page and "ALPHA-01" not in page and "900001" not in page


def test_it_refuses_an_import_into_another_force(client, avm_coordinator, wessex):
    csv = (
        "callsign,full_name,mobile,roles,force,passed_on,valid_until\n"
        "HIJACK-1,Hijack Person,07700 900777,negotiator,WSX,2025-01-01,2027-12-31\n"
    )
    response = upload_and_confirm_anyway(client, csv)
    assert "You are not a coordinator of WSX" in response.text
    assert not Negotiator.objects.filter(callsign="HIJACK-1").exists()


def upload_and_confirm_anyway(client, csv):
    """Upload a CSV, then send a confirm the preview did not offer: the confirm's answer."""
    upload = BytesIO(csv.encode())
    upload.name = "cadre.csv"
    preview = client.post(reverse("cadre_import"), {"file": upload}, follow=True)
    assert preview.context["confirm"] is None
    response = client.post(
        preview.redirect_chain[-1][0], {"plan": preview.context["result"].digest()}
    )
    assert response.status_code == 409
    return response


def test_it_refuses_a_supervisor_token_raising_or_standing_down_in_another_force(
    client, wessex, avonmoor
):
    supervisor = make_user("supervisor", [SUPERVISOR], force=wessex)
    body = json.dumps({"kind": "hostage", "location": "Bristol", "force": "AVM"})
    response = client.post(
        reverse("api_incidents"), body, content_type="application/json", **bearer(supervisor)
    )
    assert response.status_code == 403
    assert not Incident.objects.filter(force=avonmoor).exists()
    incident = make_incident(avonmoor)
    response = client.post(reverse("api_stand_down", args=[incident.pk]), **bearer(supervisor))
    assert response.status_code == 404
    incident.refresh_from_db()
    assert incident.status == Incident.Status.CALLING
    oncall = client.get(reverse("api_oncall") + "?force=AVM", **bearer(supervisor))
    assert oncall.status_code == 403


def test_it_never_picks_a_force_for_a_regional_coordinator(client, wessex, avonmoor):
    # "DSH" would sort first and Wessex is the largest: neither may be picked for them.
    make_force("Downshire Constabulary", "DSH")
    make_cadre(wessex)
    regional = make_user("regional", [COORDINATOR], forces=[wessex, avonmoor])
    client.force_login(regional)
    for url in (reverse("rota_board"), reverse("policy_new")):
        page = client.get(url)
        assert page.status_code == 200
        assert "Choose a force" in page.text, url
        assert "?force=AVM" in page.text and "?force=WSX" in page.text
        assert "DSH" not in page.text
    data = {"name": "Quick", "is_default": "", "need_negotiator": "1"}
    client.post(reverse("policy_new"), data)
    assert not EscalationPolicy.objects.filter(name="Quick").exists()
    raise_form = client.get(reverse("incident_raise")).context["form"]
    assert raise_form["force"].value() is None
    assert set(raise_form.fields["force"].queryset) == {wessex, avonmoor}
    page = client.get(reverse("rota_board") + "?force=AVM")
    assert page.context["rota"].force == avonmoor
    assert client.get(reverse("rota_board")).context["rota"].force == avonmoor  # remembered
    assert client.get(reverse("rota_board") + "?force=DSH").status_code == 404


def test_it_refuses_to_link_a_superuser_by_csv_import(client, wessex):
    admin = User.objects.create_superuser("admin", password="pw")
    coordinator = make_user("coord", [COORDINATOR], force=wessex)
    client.force_login(coordinator)
    csv = (
        "callsign,full_name,mobile,roles,force,passed_on,valid_until,username\n"
        "NEW-01,New Person,07700 900555,negotiator,WSX,2025-01-01,2027-12-31,admin\n"
    )
    response = upload_and_confirm_anyway(client, csv)
    assert "Login “admin” is an administrator" in response.text
    assert not Negotiator.objects.filter(callsign="NEW-01").exists()
    assert not Membership.objects.filter(user=admin).exists()


@pytest.mark.parametrize("tie", ["superuser", "staff", "other force", "record"])
def test_it_refuses_to_link_a_login_with_another_tie_from_the_form(client, wessex, avonmoor, tie):
    login = User.objects.create_user("taken", password="pw")
    if tie == "superuser":
        login.is_superuser = True
    elif tie == "staff":
        login.is_staff = True
    elif tie == "other force":
        make_membership(login, avonmoor, SUPERVISOR)
    else:
        make_negotiator(wessex, "OLD-1", user=login)
    login.save()
    client.force_login(make_user("coord", [COORDINATOR], force=wessex))
    data = {"force": wessex.pk, "callsign": "NEW-01", "full_name": "New Person"}
    data |= {"mobile": "07700 900555", "roles": "negotiator", "active": "on"}
    data |= {"username": "taken", "acc-TOTAL_FORMS": "0", "acc-INITIAL_FORMS": "0"}
    response = client.post(reverse("negotiator_create"), data)
    assert response.status_code == 200
    assert "Login “taken”" in response.text
    assert not Negotiator.objects.filter(callsign="NEW-01").exists()
    assert not Membership.objects.filter(user=login, force=wessex, is_negotiator=True).exists()


def test_it_links_a_free_login_and_gives_it_a_membership(client, wessex):
    free = User.objects.create_user("free", password="pw")
    client.force_login(make_user("coord", [COORDINATOR], force=wessex))
    data = {"force": wessex.pk, "callsign": "NEW-01", "full_name": "New Person"}
    data |= {"mobile": "07700 900555", "roles": "negotiator", "active": "on"}
    data |= {"username": "free", "acc-TOTAL_FORMS": "0", "acc-INITIAL_FORMS": "0"}
    assert client.post(reverse("negotiator_create"), data).status_code == 302
    assert Negotiator.objects.get(callsign="NEW-01").user == free
    assert free.memberships.get().force == wessex


def test_it_shows_the_simulator_only_to_coordinators_and_only_their_handsets(
    client, avm_coordinator, alpha
):
    kestrel = make_negotiator(avm_coordinator.memberships.get().force, "KESTREL-01")
    page = client.get(reverse("simulator_phones")).text
    assert kestrel.mobile in page
    assert alpha.mobile not in page and "ALPHA-01" not in page
    response = client.post(reverse("simulator_reply", args=[alpha.pk]), {"body": "Y"})
    assert response.status_code == 404
    negotiator = make_user("neg", [NEGOTIATOR], force=alpha.force)
    client.force_login(negotiator)
    assert client.get(reverse("simulator_phones")).status_code == 403


def test_it_refuses_the_admin_to_anyone_but_a_superuser_with_a_403_page(client, wessex):
    client.force_login(make_user("coord", [COORDINATOR], force=wessex))
    response = client.get("/admin/", follow=True)
    assert response.status_code == 403
    assert "administrators (superusers) only" in response.text
    staff = make_user("staff")
    staff.is_staff = True
    staff.save()
    client.force_login(staff)
    assert client.get("/admin/cadre/negotiator/", follow=True).status_code == 403
    client.force_login(User.objects.create_superuser("root", password="pw"))
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/cadre/membership/").status_code == 200


def mutual_aid(wessex, avonmoor):
    """A Wessex incident that called ALPHA-01 (WSX) and KESTREL-01 (AVM, lent)."""
    incident = make_incident(wessex)
    alpha = make_negotiator(wessex, "ALPHA-01")
    kestrel = make_negotiator(avonmoor, "KESTREL-01")
    make_callout(incident, alpha, status="delivered")
    make_callout(incident, kestrel, status="delivered")
    return incident, alpha, kestrel


def test_it_shows_a_lending_coordinator_their_own_people_on_a_neighbours_incident(
    client, wessex, avonmoor, avm_coordinator
):
    incident, alpha, kestrel = mutual_aid(wessex, avonmoor)
    assert incident in client.get(reverse("incident_list")).context["page"].object_list
    page = client.get(reverse("incident_board", args=[incident.pk])).text
    assert "KESTREL-01" in page and kestrel.full_name in page and kestrel.mobile in page
    assert "ALPHA-01" not in page and alpha.full_name not in page and alpha.mobile not in page
    assert incident.brief not in page
    assert client.post(reverse("incident_stand_down", args=[incident.pk])).status_code == 404
    incident.refresh_from_db()
    assert incident.status == Incident.Status.CALLING


def test_it_shows_the_calling_force_only_the_callsigns_of_lent_people(client, wessex, avonmoor):
    incident, alpha, kestrel = mutual_aid(wessex, avonmoor)
    client.force_login(make_user("coord", [COORDINATOR], force=wessex))
    page = client.get(reverse("incident_board", args=[incident.pk])).text
    assert "ALPHA-01" in page and alpha.full_name in page and alpha.mobile in page
    assert "KESTREL-01" in page
    assert kestrel.full_name not in page and kestrel.mobile not in page
    live = client.get(reverse("incident_board_live", args=[incident.pk])).text
    assert kestrel.full_name not in live and kestrel.mobile not in live


def test_it_keeps_a_neighbours_incident_from_a_force_it_did_not_call(client, wessex, avonmoor):
    incident, *_ = mutual_aid(wessex, avonmoor)
    downshire = make_force("Downshire Constabulary", "DSH")
    client.force_login(make_user("dsh", [COORDINATOR], force=downshire))
    assert client.get(reverse("incident_board", args=[incident.pk])).status_code == 404
    assert incident not in client.get(reverse("incident_list")).context["page"].object_list


# Issue 20: mutual aid showed the lending force the requesting force's whole timeline, and
# the requesting force's incident-list export named the lent people.


def read_csv(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode())))


def shows(text, secrets):
    return [s for s in secrets if s in text]


def test_the_scene_is_what_it_says(lent):
    """Not vacuous: WSX's people answered, AVM's were asked by mutual aid, one went."""
    incident = lent.incident
    assert incident.mutual_aid and incident.status == Incident.Status.CLOSED
    asked = set(incident.callouts.values_list("negotiator__callsign", flat=True))
    assert {"WREN-01", "WREN-02", "KESTREL-01", "KESTREL-02"} <= asked
    went = incident.deployments.filter(withdrawn_at=None, late=False)
    assert "KESTREL-02" in went.values_list("negotiator__callsign", flat=True)


@pytest.mark.parametrize("who", ["avm_coordinator", "avm_supervisor"])
def test_it_shows_the_lending_force_only_its_own_people_on_the_timeline(client, lent, who):
    client.force_login(getattr(lent, who))
    page = client.get(reverse("incident_timeline", args=[lent.incident.pk]))
    assert page.status_code == 200
    assert "KESTREL-02" in page.text and lent.AVM_REPLY in page.text
    assert shows(page.text, lent.wsx_secrets()) == []
    rows = read_csv(client.get(reverse("export_timeline", args=[lent.incident.pk])))
    assert rows[0] == ["time", "minutes since raised", "who", "what"]
    assert {row[2] for row in rows[1:]} == {"KESTREL-01", "KESTREL-02"}
    assert any(lent.AVM_REPLY in row[3] for row in rows[1:])
    assert shows("\n".join(",".join(r) for r in rows), lent.wsx_secrets()) == []
    # Asking for a WSX person by callsign shows nothing of theirs either.
    url = reverse("export_timeline", args=[lent.incident.pk]) + "?person=WREN-01"
    assert read_csv(client.get(url))[1:] == []
    page = client.get(reverse("incident_timeline", args=[lent.incident.pk]) + "?person=WREN-01")
    assert "Nobody called WREN-01 appears" in page.text  # only what was asked, said back
    assert page.context["timeline"].lines == ()
    assert shows(page.text, [s for s in lent.wsx_secrets() if s != "WREN-01"]) == []


@pytest.mark.parametrize("who", ["avm_coordinator", "avm_supervisor"])
def test_it_exports_to_the_lending_force_only_its_own_people_in_the_incident_list(
    client, lent, who
):
    client.force_login(getattr(lent, who))
    rows = read_csv(client.get(reverse("export_incidents")))
    (row,) = [r for r in rows[1:] if r[0] == lent.incident.reference]
    header = rows[0]
    went = row[header.index("went")]
    assert went.startswith("KESTREL-02 (negotiator)")
    assert ("Harvey Thorne" in went) == (who == "avm_coordinator")
    assert row[header.index("asked")] == "2"  # KESTREL-01 and -02, not WSX's people
    assert shows(",".join(row), lent.wsx_secrets()) == []


@pytest.mark.parametrize("who", ["wsx_coordinator", "wsx_supervisor"])
def test_it_shows_the_requesting_force_lent_people_by_callsign_only(client, lent, who):
    client.force_login(getattr(lent, who))
    rows = read_csv(client.get(reverse("export_incidents")))
    (row,) = [r for r in rows[1:] if r[0] == lent.incident.reference]
    went = row[rows[0].index("went")]
    assert "KESTREL-02 (negotiator)" in went
    assert shows(went, lent.avm_names()) == []
    assert ("Wessexname" in went) == (who == "wsx_coordinator")  # their own people by name
    for url in (
        reverse("incident_board", args=[lent.incident.pk]),
        reverse("incident_timeline", args=[lent.incident.pk]),
        reverse("incident_list"),
        reverse("export_timeline", args=[lent.incident.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "KESTREL-02" in response.content.decode(), url
        assert shows(response.content.decode(), lent.avm_names()) == [], url


def test_it_filters_rows_in_the_database_exactly_as_the_pure_rule_decides(lent):
    """callouts.queries.seen (SQL, for lists and exports) is cadre.scope.People.sees."""
    make_user("dsh-coordinator", [COORDINATOR], force=make_force("Downshire", "DSH"))
    logins = User.objects.all()
    rows = [
        *Callout.objects.select_related("incident", "negotiator"),
        *Deployment.objects.select_related("incident", "negotiator"),
        *Event.objects.select_related("incident", "negotiator"),
    ]
    assert len(logins) >= 6 and any(r.negotiator_id is None for r in rows)
    for user in logins:
        people = access.people(user)
        for model in (Callout, Deployment, Event):
            found = set(model.objects.filter(seen(people)).values_list("pk", flat=True))
            decided = {
                r.pk
                for r in rows
                if isinstance(r, model)
                and people.sees(
                    r.incident.force_id,
                    r.negotiator.force_id if r.negotiator else None,
                    r.negotiator_id,
                )
            }
            assert found == decided, (user.username, model.__name__)


def test_it_names_in_the_audit_only_logins_of_ones_own_force(client, lent):
    for user in (lent.avm_login, lent.avm_coordinator, lent.wsx_coordinator):
        client.force_login(user)
        assert client.get(reverse("incident_timeline", args=[lent.incident.pk])).status_code == 200
    client.force_login(lent.wsx_supervisor)
    whos = [r.who for r in client.get(reverse("access_audit")).context["page"].object_list]
    assert whos == ["wsx-coordinator", "a login (AVM)", "KESTREL-02 (AVM)"]
    client.force_login(lent.avm_supervisor)
    whos = [r.who for r in client.get(reverse("access_audit")).context["page"].object_list]
    assert whos == ["avm-coordinator", "harvey.thorne"]  # what AVM's own people looked at
