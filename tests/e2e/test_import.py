"""The cadre import in a browser, at desktop and phone size: a file with problems is
summarised and its problems paged; a good one is imported with one click. And a paged list
(the rota changes) reads on both sizes."""

import pytest
from playwright.sync_api import expect

from roster.models import RotaChange
from roster.queries import rota_for
from tests.e2e.conftest import looks_right
from tests.factories import login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

HEADER = "callsign,full_name,mobile,roles,force,passed_on,valid_until,username\n"


def register(rows, bad_every=0):
    lines = [HEADER]
    for i in range(rows):
        role = "pilot" if bad_every and i % bad_every == 0 else "negotiator"
        lines.append(f"IM-{i:04d},Person {i},07911 {i:06d},{role},HOME,2025-01-01,2027-12-31,\n")
    return "".join(lines).encode()


def choose(page, name, content):
    page.get_by_label("CSV file").set_input_files(
        {"name": name, "mimeType": "text/csv", "buffer": content}
    )
    page.get_by_role("button", name="Check file").click()


def test_it_imports_a_cadre_from_a_file_summarised_not_listed(
    sized, live_server, coordinator_user, force
):
    page = sized
    login(page, live_server, "coord")
    page.goto(f"{live_server.url}/cadre/import/")
    choose(page, "with-problems.csv", register(300, bad_every=2))
    expect(page.locator('[data-count="problems"]')).to_contain_text("150 with problems")
    expect(page.locator('[data-count="new"]')).to_contain_text("150 new")
    expect(page.get_by_text("Row 2: Unknown role “pilot”")).to_be_visible()
    expect(page.get_by_role("button", name="Import")).to_have_count(0)
    looks_right(page, "import-problems")
    page.get_by_role("link", name="Next").click()
    expect(page.get_by_text("Row 202: Unknown role “pilot”")).to_be_visible()
    expect(page.get_by_text("Page 2 of 2")).to_be_visible()

    page.get_by_role("link", name="Check another file").click()
    choose(page, "good.csv", register(300))
    expect(page.locator('[data-count="new"]')).to_contain_text("300 new")
    expect(page.get_by_role("heading", name="New (the first 10 of 300)")).to_be_visible()
    looks_right(page, "import-preview")
    page.get_by_role("button", name="Import: add 300, change 0").click()
    expect(page.get_by_text("Imported: 300 added, 0 changed.")).to_be_visible()
    expect(page.get_by_text("300 people")).to_be_visible()


def test_it_pages_the_rota_changes(sized, live_server, coordinator_user, force):
    rota = rota_for(force)
    RotaChange.objects.bulk_create(
        RotaChange(rota=rota, action="add", summary=f"Change {i:03d}") for i in range(150)
    )
    page = sized
    login(page, live_server, "coord")
    page.goto(f"{live_server.url}/rota/changes/")
    expect(page.get_by_text("Page 1 of 2")).to_be_visible()
    looks_right(page, "rota-changes-paged")
    page.get_by_role("link", name="Older").click()
    expect(page.get_by_text("Change 000")).to_be_visible()
    page.get_by_role("link", name="Newest").click()
    expect(page.get_by_text("Change 149")).to_be_visible()
