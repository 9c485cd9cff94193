"""Cadre speed: the cadre list for a regional mutual-aid register, checking a large CSV, and
importing a register of 18,000 through the import's pages."""

import time
from datetime import date, timedelta

from bench.harness import Figure, setup_django, show, summary, timings_ms
from cadre.importing import Known, read_cadre_csv

REGISTER = 300  # ten forces' cadres, as a region sees them
CSV_ROWS = 1000
IMPORT_ROWS = 18_000  # the file the production issue measured: ten times a large register


def big_csv(rows: int, force="WSX", valid_until="2028-01-01", name="Person") -> str:
    """`rows` people of `force` with distinct real-format mobiles (07911 000000 on)."""
    lines = ["callsign,full_name,mobile,roles,force,passed_on,valid_until,username"]
    for i in range(rows):
        lines.append(
            f"CS-{i:05d},{name} {i},07911 {i:06d},negotiator;adviser,{force},"
            f"2025-01-01,{valid_until},user{i}"
        )
    return "\n".join(lines) + "\n"


def csv_check():
    text = big_csv(CSV_ROWS)
    known = Known(force_codes=frozenset({"WSX"}))
    result = read_cadre_csv(text, known)
    assert result.ok, result.problems[:3]
    samples = timings_ms(lambda: read_cadre_csv(text, known))
    return summary(f"check a {CSV_ROWS}-row CSV", samples, 1000)


def cadre_list():
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from cadre.models import Accreditation, Force, Membership, Negotiator

    forces = [Force.objects.create(name=f"Bench Force {f}", code=f"BF{f}") for f in range(10)]
    people = []
    for i in range(REGISTER):
        n = Negotiator(
            force=forces[i % 10],
            callsign=f"B-{i:03d}",
            full_name=f"Bench {i}",
            mobile=f"+447700900{i:03d}",
        )
        n.roles = ["negotiator"]
        people.append(n)
    Negotiator.objects.bulk_create(people)
    today = date.today()
    Accreditation.objects.bulk_create(
        Accreditation(
            negotiator=n,
            kind=kind,
            passed_on=today - timedelta(days=700),
            valid_until=today + timedelta(days=(i * 7) % 400 - 20),
        )
        for i, n in enumerate(people)
        for kind in ("initial", "refresher")
    )
    user = User.objects.create_user("bench-cadre")
    # A coordinator of all ten forces (a regional one), so the list shows all 300.
    Membership.objects.bulk_create(
        Membership(user=user, force=f, is_coordinator=True) for f in Force.objects.all()
    )
    client = Client()
    client.force_login(user)
    url = "/cadre/?lapsing=on"
    assert client.get("/cadre/").status_code == 200
    connection.queries_log.clear()
    with CaptureQueriesContext(connection) as ctx:
        client.get("/cadre/")
    figures = summary(f"cadre list of {REGISTER}", timings_ms(lambda: client.get("/cadre/")), 300)
    figures += summary("cadre list, lapsing filter", timings_ms(lambda: client.get(url)), 300)
    figures.append(Figure("SQL queries per cadre list", len(ctx.captured_queries), ""))
    return figures


def csv_import():
    """Upload, preview and confirm through the pages (in-process client): a new register,
    the same file again (every row unchanged), then every row with a renewed accreditation."""
    from django.test import override_settings

    # As in production: with DEBUG on, Django keeps every statement with its parameters,
    # which for an import costs more than the import.
    with override_settings(DEBUG=False):
        return import_figures()


def import_figures():
    from django.contrib.auth.models import User
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client

    from cadre.models import Force, Membership, Negotiator

    force = Force.objects.create(name="Bench Import Force", code="BIM")
    user = User.objects.create_user("bench-import")
    Membership.objects.create(user=user, force=force, is_coordinator=True)
    client = Client()
    client.force_login(user)

    def preview(text):
        upload = SimpleUploadedFile("register.csv", text.encode(), content_type="text/csv")
        start = time.perf_counter()
        answer = client.post("/cadre/import/", {"file": upload}, follow=True)
        seconds = time.perf_counter() - start
        assert answer.status_code == 200 and not answer.context["result"].problems
        return answer, seconds

    def confirm(answer):
        url = answer.redirect_chain[-1][0]
        start = time.perf_counter()
        done = client.post(url, {"plan": answer.context["confirm"]["plan"].value()})
        assert done.status_code == 302, done.status_code
        return time.perf_counter() - start

    new = big_csv(IMPORT_ROWS, force="BIM")
    answer, first = preview(new)
    previews = [first] + [preview(new)[1] for _ in range(2)]
    figures = [
        Figure(f"preview {IMPORT_ROWS:,} new rows, median of 3", median(previews), "s", 2),
        Figure("preview page size", len(answer.content) / 1024, "KB", 300),
        Figure(f"confirm {IMPORT_ROWS:,} new rows", confirm(answer), "s", 5),
    ]
    assert Negotiator.objects.filter(force=force).count() == IMPORT_ROWS
    answer, seconds = preview(new)
    assert answer.context["counts"]["unchanged"] == IMPORT_ROWS
    figures.append(Figure("preview the same file again (all unchanged)", seconds, "s", 2))
    renewed = big_csv(IMPORT_ROWS, force="BIM", valid_until="2029-01-01", name="Renamed")
    answer, seconds = preview(renewed)
    assert answer.context["counts"]["changed"] == IMPORT_ROWS
    figures.append(Figure("preview every row renamed and renewed", seconds, "s", 2))
    figures.append(Figure(f"confirm {IMPORT_ROWS:,} changes", confirm(answer), "s", 5))
    return figures


def median(values):
    return sorted(values)[len(values) // 2]


def main():
    show("CSV import check (pure, no database)", csv_check())
    setup_django()
    show(f"cadre list, {REGISTER} people in 10 forces (in-process client)", cadre_list())
    show(f"CSV import of {IMPORT_ROWS:,} rows through the pages (in-process client)", csv_import())
