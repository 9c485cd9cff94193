"""The CSV import through its pages: upload, a summary with every problem, confirm."""

import html

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError
from django.urls import reverse

from cadre import import_views, importing, services
from cadre.access import COORDINATOR
from cadre.models import Accreditation, CadreImport, Membership, Negotiator
from tests.factories import make_negotiator, make_user

pytestmark = pytest.mark.django_db

HEADER = "callsign,full_name,mobile,roles,force,passed_on,valid_until,username\n"
GOOD = (
    HEADER
    + "BRAVO-02,Ben Blake,07700 900002,negotiator;coordinator,HOME,2025-01-01,2027-12-31,ben\n"
    + "CHARLIE-03,Cat Carver,07700 900003,negotiator,HOME,2025-01-01,2027-12-31,\n"
)


def upload(client, text, name="cadre.csv"):
    csv_file = SimpleUploadedFile(name, text.encode(), content_type="text/csv")
    return client.post(reverse("cadre_import"), {"file": csv_file}, follow=True)


def confirm(client, preview, **extra):
    """Confirm what `preview` (the preview page's response) showed."""
    url = reverse("cadre_import_preview", args=[preview.context["kept"].pk])
    return client.post(url, {"plan": preview.context["confirm"]["plan"].value(), **extra})


def people():
    return sorted(Negotiator.objects.values_list("callsign", flat=True))


def big(rows, bad_every=0):
    """`rows` people with distinct mobiles (07911 …); every `bad_every`th row has no role."""
    lines = [HEADER]
    for i in range(rows):
        role = "" if bad_every and i % bad_every == 0 else "negotiator"
        lines.append(
            f"BIG-{i:05d},Person {i},07911 {i:06d},{role},HOME,2025-01-01,2027-12-31,big{i}\n"
        )
    return "".join(lines)


def test_it_previews_a_summary_then_imports_every_row(coordinator_client, force):
    preview = upload(coordinator_client, GOOD)
    assert preview.redirect_chain[0][0] == reverse(
        "cadre_import_preview", args=[CadreImport.objects.get().pk]
    )
    assert preview.context["counts"] == {"new": 2, "changed": 0, "unchanged": 0, "problems": 0}
    assert "Import: add 2, change 0" in preview.text
    assert "07700 900002" not in preview.text or "BRAVO-02" in preview.text
    assert not Negotiator.objects.exists()
    response = confirm(coordinator_client, preview)
    assert response.status_code == 302 and response.url == reverse("cadre_list")
    listed = coordinator_client.get(response.url)
    assert "Imported: 2 added, 0 changed." in listed.text
    ben = Negotiator.objects.get(callsign="BRAVO-02")
    assert ben.roles == ["negotiator", "coordinator"]
    assert ben.user == User.objects.get(username="ben")
    assert ben.accreditations.get().note == "Imported from CSV"
    assert not ben.user.has_usable_password()
    assert Membership.objects.get(user=ben.user).roles == ["negotiator"]
    record = CadreImport.objects.get()
    assert (record.added, record.changed, record.text) == (2, 0, "")
    assert record.imported_at is not None and record.by.username == "coord"


def test_it_updates_people_already_registered_and_says_what_changes(coordinator_client, force):
    charlie = make_negotiator(force, "CHARLIE-03", mobile="+447700900003")
    charlie.full_name = "Cat Carver"
    charlie.save()
    preview = upload(coordinator_client, GOOD)
    assert preview.context["counts"] == {"new": 1, "changed": 1, "unchanged": 0, "problems": 0}
    (row,) = preview.context["changed"]
    assert (row.callsign, row.changes) == ("CHARLIE-03", ("accreditation",))
    assert confirm(coordinator_client, preview).status_code == 302
    assert people() == ["BRAVO-02", "CHARLIE-03"]
    assert charlie.accreditations.count() == 2
    # The same file again changes nothing, and says so.
    again = upload(coordinator_client, GOOD)
    assert again.context["counts"] == {"new": 0, "changed": 0, "unchanged": 2, "problems": 0}
    assert again.context["confirm"] is None
    assert "Nothing to import: every row matches the register." in again.text


def test_it_confirms_a_file_once_however_often_it_is_sent(coordinator_client, force):
    preview = upload(coordinator_client, GOOD)
    assert confirm(coordinator_client, preview).status_code == 302
    twice = confirm(coordinator_client, preview)
    assert twice.status_code == 302
    assert "was imported on" in coordinator_client.get(twice.url).text
    assert people() == ["BRAVO-02", "CHARLIE-03"]
    assert Accreditation.objects.count() == 2 and User.objects.filter(username="ben").count() == 1


def test_it_lists_problems_and_offers_no_confirm(coordinator_client, force):
    bad = GOOD + "DELTA-04,Dev,07700 900002,pilot,HOME,2025-01-01,2027-12-31,\n"
    preview = upload(coordinator_client, bad)
    assert "Row 4: Mobile +447700900002 is also on row 2." in preview.text
    assert "Row 4: Unknown role “pilot”" in preview.text
    assert preview.context["counts"]["problems"] == 1
    assert preview.context["confirm"] is None
    assert 'name="confirm"' not in preview.text
    # A confirm sent anyway (a forged form) saves nothing.
    url = reverse("cadre_import_preview", args=[preview.context["kept"].pk])
    response = coordinator_client.post(url, {"plan": "0" * 64})
    assert response.status_code == 409
    assert not Negotiator.objects.exists()


def test_it_saves_nothing_when_the_register_changed_before_confirming(coordinator_client, force):
    preview = upload(coordinator_client, GOOD)
    make_negotiator(force=force, callsign="CHARLIE-03")
    response = confirm(coordinator_client, preview)
    assert response.status_code == 409
    assert "The register changed since you checked this file" in response.text
    assert response.context["counts"]["changed"] == 1  # CHARLIE-03 is now an update
    assert people() == ["CHARLIE-03"]
    assert not User.objects.filter(username="ben").exists()
    # Confirming what is shown now works.
    assert confirm(coordinator_client, response).status_code == 302
    assert people() == ["BRAVO-02", "CHARLIE-03"]


def test_it_summarises_a_big_file_and_shows_every_problem_a_page_at_a_time(
    coordinator_client, force
):
    preview = upload(coordinator_client, big(1500, bad_every=10))
    assert preview.context["counts"] == {"new": 1350, "changed": 0, "unchanged": 0, "problems": 150}
    assert len(preview.content) < 100_000
    assert "Row 2: No role given." in preview.text and "Row 992: No role given." in preview.text
    assert "Row 1002: No role given." not in preview.text
    assert len(preview.context["added"]) == import_views.SAMPLE
    assert "the first 10 of 1,350" in preview.text
    url = preview.redirect_chain[-1][0]
    second = coordinator_client.get(url, {"page": 2})
    assert "Row 1002: No role given." in second.text and "Row 1492: No role given." in second.text
    assert coordinator_client.get(url, {"page": "junk"}).context["page"].number == 1
    assert coordinator_client.get(url, {"page": "99"}).context["page"].number == 2
    assert not Negotiator.objects.exists()


def test_it_imports_a_big_file_in_queries_that_do_not_grow_with_it(
    coordinator_client, force, django_assert_max_num_queries
):
    small = upload(coordinator_client, big(5))
    with django_assert_max_num_queries(60) as counted:
        assert confirm(coordinator_client, small).status_code == 302
    few = len(counted)
    Negotiator.objects.all().delete()
    User.objects.filter(username__startswith="big").delete()
    large = upload(coordinator_client, big(400))
    with django_assert_max_num_queries(few):
        assert confirm(coordinator_client, large).status_code == 302
    assert Negotiator.objects.count() == 400
    assert Membership.objects.filter(user__username__startswith="big").count() == 400


def test_it_saves_nothing_when_saving_fails_half_way(coordinator_client, force, monkeypatch):
    preview = upload(coordinator_client, GOOD)

    insert = services._insert

    def fail_at_accreditations(model, rows):
        if model is Accreditation:  # the people and logins are written by now
            raise IntegrityError("the disk filled up")
        insert(model, rows)

    monkeypatch.setattr(services, "_insert", fail_at_accreditations)
    response = confirm(coordinator_client, preview)
    assert response.status_code == 409
    assert "nothing was saved" in response.text
    assert not Negotiator.objects.exists()
    assert not User.objects.filter(username="ben").exists()
    assert CadreImport.objects.get().imported_at is None
    monkeypatch.undo()
    assert confirm(coordinator_client, preview).status_code == 302
    assert people() == ["BRAVO-02", "CHARLIE-03"]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (big(6), "more than 5 rows"),
        (GOOD + "X" * 3000 + "\n", "the import takes files up to"),
        (GOOD.replace("Ben", "B\x00en"), "NUL"),
    ],
)
def test_it_refuses_a_file_over_the_limits_saving_nothing(
    coordinator_client, force, monkeypatch, text, says
):
    monkeypatch.setattr(importing, "MAX_ROWS", 5)
    monkeypatch.setattr(import_views, "MAX_BYTES", 2000)
    response = upload(coordinator_client, text)
    assert response.status_code == 400
    assert says in response.text
    assert not CadreImport.objects.exists() and not Negotiator.objects.exists()


def test_it_refuses_a_file_that_is_not_utf8(coordinator_client, force):
    csv_file = SimpleUploadedFile("cadre.csv", "Zoë".encode("utf-16"), content_type="text/csv")
    response = coordinator_client.post(reverse("cadre_import"), {"file": csv_file})
    assert response.status_code == 400
    assert "not UTF-8 text" in response.text
    assert not CadreImport.objects.exists() and not Negotiator.objects.exists()


def test_it_shows_an_upload_only_to_whoever_uploaded_it(coordinator_client, client, force):
    preview = upload(coordinator_client, GOOD)
    url = preview.redirect_chain[-1][0]
    client.force_login(make_user("other", [COORDINATOR], force=force))
    assert client.get(url).status_code == 404
    assert client.post(url, {"plan": preview.context["result"].digest()}).status_code == 404
    assert not Negotiator.objects.exists()


def test_it_forgets_uploads_never_confirmed_after_a_day(coordinator_client, force):
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    forgotten = upload(coordinator_client, GOOD).context["kept"]
    done = upload(coordinator_client, GOOD)
    confirm(coordinator_client, done)
    fresh = upload(coordinator_client, GOOD).context["kept"]
    two_days_ago = timezone.now() - timedelta(days=2)
    CadreImport.objects.exclude(pk=fresh.pk).update(uploaded_at=two_days_ago)
    call_command("escalator", "--once")  # the clock's hourly job, as it runs it
    assert not CadreImport.objects.filter(pk=forgotten.pk).exists()
    assert CadreImport.objects.filter(pk=fresh.pk).exists()
    record = CadreImport.objects.get(pk=done.context["kept"].pk)  # the import's record stays
    assert (record.added, record.text) == (2, "")


def test_it_saves_nothing_when_the_database_refuses_a_row(coordinator_client, force, monkeypatch):
    """A mobile taken between the check and the save (here: the check is not told of it)."""
    preview = upload(coordinator_client, GOOD)
    make_negotiator(force, "ZULU-26", mobile="+447700900003")
    blind = importing.Known(force_codes=frozenset({"HOME"}))
    monkeypatch.setattr(services.queries, "known_register", lambda allowed=None: blind)
    response = confirm(coordinator_client, preview)
    assert response.status_code == 409
    assert "The register changed while importing; nothing was saved." in response.text
    assert people() == ["ZULU-26"]
    assert not User.objects.filter(username="ben").exists()
    assert CadreImport.objects.get().imported_at is None


def test_it_refuses_a_row_whose_mobile_has_letters_and_imports_nothing(coordinator_client, force):
    lettered = GOOD + "DELTA-04,Dev Dale,0770O 9OO633,negotiator,HOME,2025-01-01,2027-12-31,\n"
    preview = upload(coordinator_client, lettered)
    assert "Row 4: Mobile: The mobile number cannot contain “O”: use digits only." in (
        html.unescape(preview.text)
    )
    assert preview.context["counts"]["problems"] == 1
    assert preview.context["confirm"] is None
    assert not Negotiator.objects.exists()
