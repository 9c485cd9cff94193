import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cadre.models import Negotiator
from tests.factories import make_negotiator

pytestmark = pytest.mark.django_db

HEADER = "callsign,full_name,mobile,roles,force,passed_on,valid_until,username\n"
GOOD = (
    HEADER
    + "BRAVO-02,Ben Blake,07700 900002,negotiator;coordinator,HOME,2025-01-01,2027-12-31,ben\n"
    + "CHARLIE-03,Cat Carver,07700 900003,negotiator,HOME,2025-01-01,2027-12-31,\n"
)


def upload(client, text):
    csv_file = SimpleUploadedFile("cadre.csv", text.encode(), content_type="text/csv")
    return client.post(reverse("cadre_import"), {"file": csv_file})


def test_it_previews_then_imports_every_row(coordinator_client, force):
    preview = upload(coordinator_client, GOOD)
    assert "2 rows ready to import" in preview.text
    assert not Negotiator.objects.exists()
    csv_text = preview.context["confirm"].initial["csv_text"]
    response = coordinator_client.post(
        reverse("cadre_import"), {"confirm": "1", "csv_text": csv_text}, follow=True
    )
    assert "Imported 2 negotiator(s)." in response.text
    ben = Negotiator.objects.get(callsign="BRAVO-02")
    assert ben.roles == ["negotiator", "coordinator"]
    assert ben.user == User.objects.get(username="ben")
    assert ben.accreditations.count() == 1
    assert not ben.user.has_usable_password()


def test_it_lists_problems_and_offers_no_confirm(coordinator_client, force):
    bad = GOOD + "DELTA-04,Dev,07700 900002,pilot,HOME,2025-01-01,2027-12-31,\n"
    preview = upload(coordinator_client, bad)
    assert "Row 4: Mobile +447700900002 is also on row 2." in preview.text
    assert "Row 4: Unknown role “pilot”" in preview.text
    assert preview.context["confirm"] is None
    assert 'name="confirm"' not in preview.text


def test_it_saves_nothing_when_the_register_changed_before_confirming(coordinator_client, force):
    preview = upload(coordinator_client, GOOD)
    make_negotiator(force=force, callsign="CHARLIE-03")
    csv_text = preview.context["confirm"].initial["csv_text"]
    response = coordinator_client.post(
        reverse("cadre_import"), {"confirm": "1", "csv_text": csv_text}
    )
    assert "Row 3: Callsign CHARLIE-03 already exists in HOME." in response.text
    assert list(Negotiator.objects.values_list("callsign", flat=True)) == ["CHARLIE-03"]
    assert not User.objects.filter(username="ben").exists()


def test_it_refuses_a_file_that_is_not_utf8(coordinator_client, force):
    csv_file = SimpleUploadedFile("cadre.csv", "Zoë".encode("utf-16"), content_type="text/csv")
    response = coordinator_client.post(reverse("cadre_import"), {"file": csv_file})
    assert "not UTF-8 text" in response.text
