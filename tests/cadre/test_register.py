import html
from datetime import date, timedelta

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cadre.access import COORDINATOR
from cadre.models import Negotiator
from tests.factories import make_force, make_membership, make_negotiator

pytestmark = pytest.mark.django_db


def form_data(force, **overrides):
    data = {
        "force": force.pk,
        "callsign": "golf-07",
        "full_name": "Grace Holloway",
        "mobile": "07700 900123",
        "roles": ["negotiator"],
        "active": "on",
        "acc-TOTAL_FORMS": "1",
        "acc-INITIAL_FORMS": "0",
        "acc-MIN_NUM_FORMS": "0",
        "acc-MAX_NUM_FORMS": "1000",
        "acc-0-kind": "initial",
        "acc-0-passed_on": "2025-01-10",
        "acc-0-valid_until": "2028-01-09",
        "acc-0-note": "",
    }
    data.update(overrides)
    return data


def test_it_lists_the_cadre_with_names_and_mobiles_for_coordinators(coordinator_client, force):
    make_negotiator(force=force, callsign="KILO-07", mobile="+447700900777")
    page = coordinator_client.get(reverse("cadre_list")).text
    assert "KILO-07" in page
    assert "07700 900777" in page
    assert "Deployable" in page


def test_it_hides_names_and_mobiles_from_supervisors(supervisor_client, force):
    person = make_negotiator(force=force, callsign="KILO-07", mobile="+447700900777")
    for url in (reverse("cadre_list"), reverse("negotiator_detail", args=[person.pk])):
        page = supervisor_client.get(url).text
        assert "KILO-07" in page
        assert person.full_name not in page
        assert "900777" not in page


def test_it_filters_by_role_force_deployable_and_lapsing(
    coordinator_client, coordinator_user, force
):
    other = make_force("Other Police", "OTH")
    make_membership(coordinator_user, other, COORDINATOR)  # a regional coordinator
    make_negotiator(force=force, callsign="NEG-1")
    make_negotiator(force=force, callsign="COORD-1", roles=["coordinator"])
    make_negotiator(force=other, callsign="AWAY-1")
    make_negotiator(force=force, callsign="LAPSED-1", valid_until=date.today() - timedelta(days=3))
    make_negotiator(force=force, callsign="SOON-1", valid_until=date.today() + timedelta(days=20))

    def shown(**params):
        rows = coordinator_client.get(reverse("cadre_list"), params).context["rows"]
        return {row.negotiator.callsign for row in rows}

    assert shown(role="coordinator") == {"COORD-1"}
    assert shown(force=other.pk) == {"AWAY-1"}
    assert "LAPSED-1" not in shown(deployable="on")
    assert shown(lapsing="on") == {"SOON-1"}


def test_it_adds_a_negotiator_with_accreditation_and_a_login(coordinator_client, force):
    data = form_data(force, username="grace", password="a-good-long-password")
    response = coordinator_client.post(reverse("negotiator_create"), data)
    assert response.status_code == 302
    person = Negotiator.objects.get(callsign="GOLF-07")
    assert person.mobile == "+447700900123"
    assert person.accreditations.get().valid_until == date(2028, 1, 9)
    assert person.user.username == "grace"
    membership = person.user.memberships.get()
    assert (membership.force, membership.roles) == (force, ["negotiator"])
    assert User.objects.get(username="grace").check_password("a-good-long-password")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"mobile": "not a phone"}, "cannot contain “n”: use digits only"),
        ({"mobile": "()"}, "is not a phone number"),
        ({"mobile": "01632 960123"}, "not a"),
        ({"roles": []}, "Choose at least one role"),
        ({"acc-0-valid_until": "2024-01-01"}, "Valid until must be on or after the date passed"),
        ({"username": "grace"}, "Give an initial password"),
        ({"callsign": "<svg onload=alert(1)>"}, "A callsign is letters and digits"),
        ({"callsign": "GOLF\n07"}, "A callsign is letters and digits"),
        ({"full_name": "Grace\nHolloway"}, "cannot hold line breaks"),
        ({"acc-0-passed_on": "0001-01-01"}, "is not a date an accreditation could have"),
        ({"acc-0-valid_until": "9999-12-31"}, "is not a date an accreditation could have"),
    ],
)
def test_it_refuses_bad_input_and_saves_nothing(coordinator_client, force, overrides, message):
    response = coordinator_client.post(reverse("negotiator_create"), form_data(force, **overrides))
    assert response.status_code == 200
    assert message in response.text
    assert not Negotiator.objects.exists()
    assert not User.objects.filter(username="grace").exists()


def test_it_refuses_a_duplicate_callsign_in_the_force_or_a_duplicate_mobile(
    coordinator_client, force
):
    make_negotiator(force=force, callsign="GOLF-07", mobile="+447700900555")
    response = coordinator_client.post(reverse("negotiator_create"), form_data(force))
    assert "GOLF-07 is already a callsign in Home Constabulary" in response.text
    data = form_data(force, callsign="HOTEL-08", mobile="+44 7700 900555")
    response = coordinator_client.post(reverse("negotiator_create"), data)
    assert "+447700900555 is already the mobile of GOLF-07" in response.text
    assert Negotiator.objects.count() == 1


def test_it_allows_the_same_callsign_in_another_force(coordinator_client, force):
    make_negotiator(force=make_force("Other Police", "OTH"), callsign="GOLF-07")
    response = coordinator_client.post(reverse("negotiator_create"), form_data(force))
    assert response.status_code == 302
    saved = Negotiator.objects.get(force=force, callsign="GOLF-07")
    assert (saved.full_name, saved.mobile) == ("Grace Holloway", "+447700900123")


def test_it_edits_a_negotiator_and_keeps_their_own_mobile(coordinator_client, force):
    person = make_negotiator(force=force, callsign="GOLF-07", mobile="+447700900123")
    acc = person.accreditations.get()
    data = form_data(
        force,
        full_name="Grace Renamed",
        **{
            "acc-INITIAL_FORMS": "1",
            "acc-0-id": acc.pk,
            "acc-0-valid_until": "2029-05-01",
        },
    )
    response = coordinator_client.post(reverse("negotiator_edit", args=[person.pk]), data)
    assert response.status_code == 302, response.text
    person.refresh_from_db()
    assert person.full_name == "Grace Renamed"
    assert person.accreditations.get().valid_until == date(2029, 5, 1)


def test_it_shows_a_negotiator_their_own_profile_and_lets_them_change_their_mobile(
    negotiator_client, negotiator_user
):
    page = negotiator_client.get(reverse("my_profile")).text
    assert "ALPHA-01" in page
    assert "My accreditation" in page
    response = negotiator_client.post(reverse("my_profile"), {"mobile": "07700 900999"})
    assert response.status_code == 302
    assert Negotiator.objects.get(user=negotiator_user).mobile == "+447700900999"


def test_it_refuses_a_bad_or_taken_mobile_on_the_profile(negotiator_client, negotiator_user, force):
    make_negotiator(force=force, mobile="+447700900444")
    before = Negotiator.objects.get(user=negotiator_user).mobile
    for mobile, message in (("12", "not a"), ("07700900444", "already registered to someone else")):
        response = negotiator_client.post(reverse("my_profile"), {"mobile": mobile})
        assert message in response.text
    assert Negotiator.objects.get(user=negotiator_user).mobile == before


def test_it_shows_a_login_without_a_cadre_record_its_forces_on_its_page(supervisor_client):
    response = supervisor_client.get(reverse("my_profile"))
    assert response.status_code == 200
    assert "Home Constabulary (HOME)" in response.text
    assert "Supervisor" in response.text
    assert "My mobile number" not in response.text


def test_it_lists_the_cadre_in_the_same_number_of_queries_however_large(
    coordinator_client, force, django_assert_max_num_queries
):
    for _ in range(3):
        make_negotiator(force=force)
    coordinator_client.get(reverse("cadre_list"))
    with CaptureQueriesContext(connection) as small:
        coordinator_client.get(reverse("cadre_list"))
    for _ in range(20):
        make_negotiator(force=force)
    with django_assert_max_num_queries(len(small.captured_queries)):
        coordinator_client.get(reverse("cadre_list"))


def test_it_offers_the_coordinators_only_force_for_a_new_negotiator(
    coordinator_client, coordinator_user, force
):
    make_force("Another Police", "ANO")
    form = coordinator_client.get(reverse("negotiator_create")).context["form"]
    assert form["force"].value() == force.pk
    assert list(form.fields["force"].queryset) == [force]


def test_it_offers_a_regional_coordinator_the_force_they_chose(
    coordinator_client, coordinator_user, force
):
    wessex = make_force("Wessex Constabulary", "WSX")
    make_membership(coordinator_user, wessex, COORDINATOR)
    form = coordinator_client.get(reverse("negotiator_create")).context["form"]
    assert form["force"].value() is None  # nothing guessed
    form = coordinator_client.get(reverse("negotiator_create"), {"force": "WSX"}).context["form"]
    assert form["force"].value() == wessex.pk
    form = coordinator_client.get(reverse("negotiator_create")).context["form"]
    assert form["force"].value() == wessex.pk  # remembered


def test_it_lists_a_large_register_a_page_at_a_time(coordinator_client, force):
    for n in range(230):
        make_negotiator(force=force, callsign=f"P-{n:03d}", valid_until=date(2030, 1, 1))
    lapsing = make_negotiator(
        force=force, callsign="Z-LAPSING", valid_until=timezone.localdate() + timedelta(days=20)
    )
    first = coordinator_client.get(reverse("cadre_list"))
    assert len(first.context["rows"]) == 100
    assert "231 people; 1–100 shown" in first.text
    last = coordinator_client.get(reverse("cadre_list"), {"page": 3})
    assert [r.negotiator.callsign for r in last.context["rows"]][-1] == "Z-LAPSING"
    assert len(last.context["rows"]) == 31
    only = coordinator_client.get(reverse("cadre_list"), {"lapsing": "on"})
    assert [r.negotiator for r in only.context["rows"]] == [lapsing]


# A mobile typed with letters is refused, never read as a phone keypad (0770O 9OO002 must
# not become +447706966002, someone else's number).
LETTERED = "0770O 9OO002"
NOT_DIGITS = "The mobile number cannot contain “O”: use digits only."


def test_it_refuses_a_mobile_with_letters_on_the_register_form(coordinator_client, force):
    response = coordinator_client.post(
        reverse("negotiator_create"), form_data(force, mobile=LETTERED)
    )
    assert response.status_code == 200
    assert NOT_DIGITS in html.unescape(response.text)
    assert not Negotiator.objects.exists()


def test_it_refuses_a_mobile_with_letters_when_editing(coordinator_client, force):
    person = make_negotiator(force=force, callsign="GOLF-07", mobile="+447700900123")
    data = form_data(force, mobile=LETTERED, **{"acc-TOTAL_FORMS": "0"})
    response = coordinator_client.post(reverse("negotiator_edit", args=[person.pk]), data)
    assert NOT_DIGITS in html.unescape(response.text)
    person.refresh_from_db()
    assert person.mobile == "+447700900123"


def test_it_refuses_a_mobile_with_letters_on_my_profile(negotiator_client, negotiator_user):
    before = Negotiator.objects.get(user=negotiator_user).mobile
    response = negotiator_client.post(reverse("my_profile"), {"mobile": LETTERED})
    assert response.status_code == 200
    assert NOT_DIGITS in html.unescape(response.text)
    assert Negotiator.objects.get(user=negotiator_user).mobile == before
    assert not Negotiator.objects.filter(mobile="+447706966002").exists()


def test_it_refuses_a_mobile_with_letters_in_the_admin(client, force):
    person = make_negotiator(force=force, callsign="GOLF-07", mobile="+447700900123")
    client.force_login(User.objects.create_superuser("root", password="pw"))
    data = {
        "force": force.pk,
        "callsign": "GOLF-07",
        "full_name": person.full_name,
        "mobile": LETTERED,
        "is_negotiator": "on",
        "active": "on",
        "accreditations-TOTAL_FORMS": "0",
        "accreditations-INITIAL_FORMS": "0",
    }
    response = client.post(reverse("admin:cadre_negotiator_change", args=[person.pk]), data)
    assert NOT_DIGITS in html.unescape(response.text)
    person.refresh_from_db()
    assert person.mobile == "+447700900123"


def test_texts_stopped_is_recorded_once_and_cleared_by_the_service(force):
    from cadre import services

    person = make_negotiator(force=force)
    first = timezone.now() - timedelta(days=3)
    assert services.record_texts_stopped(person, first, by=None)
    # STOP again: the first time is kept.
    assert not services.record_texts_stopped(person, timezone.now(), by=None)
    person.refresh_from_db()
    assert person.texts_stopped_at == first and person.texts_stopped
    assert services.record_texts_stopped(person, None, by=None)
    assert not services.record_texts_stopped(person, None, by=None)
    person.refresh_from_db()
    assert person.texts_stopped_at is None and not person.texts_stopped


def test_a_coordinator_giving_a_new_mobile_turns_texts_back_on(coordinator_client, force):
    person = make_negotiator(force=force, callsign="GOLF-07", mobile="+447700900123")
    Negotiator.objects.filter(pk=person.pk).update(texts_stopped_at=timezone.now())
    page = coordinator_client.get(reverse("negotiator_detail", args=[person.pk])).text
    assert "Texts stopped on" in page
    acc = person.accreditations.get()
    same = form_data(force, **{"acc-INITIAL_FORMS": "1", "acc-0-id": acc.pk})
    coordinator_client.post(reverse("negotiator_edit", args=[person.pk]), same)
    person.refresh_from_db()
    assert person.texts_stopped  # the same number: still stopped
    new = {**same, "mobile": "+44 7700 900456"}
    response = coordinator_client.post(reverse("negotiator_edit", args=[person.pk]), new)
    assert response.status_code == 302, response.text
    person.refresh_from_db()
    assert person.mobile == "+447700900456" and not person.texts_stopped
