"""Every CSV export read back as a spreadsheet or a script would: csv.DictReader, times
with datetime.fromisoformat (ISO 8601 with the London offset), durations as numbers whose
header names the unit, and each checked against what the database holds."""

import csv
import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from callouts import events
from callouts.models import Callout, Deployment, Event, Incident
from reports import queries
from tests.reports.conftest import deploy, incident, step

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
# The clocks went forward at 01:00 UTC on 29 March 2026: 00:30 UTC is GMT, 01:30 UTC is BST.
BEFORE_CHANGE = datetime(2026, 3, 29, 0, 30, 15, 250_000, tzinfo=UTC)
AFTER_CHANGE = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
SUMMER = datetime(2026, 7, 1, 13, 2, 5, tzinfo=UTC)


def read(response) -> list[dict[str, str]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def when(text: str) -> datetime:
    """An exported time: ISO 8601 with the offset London had then."""
    at = datetime.fromisoformat(text)
    assert at.utcoffset() == at.astimezone(LONDON).utcoffset(), text
    return at


def stored(at: datetime) -> datetime:
    """What an export shows of a stored time: to the second."""
    return at.replace(microsecond=0)


@pytest.fixture
def around_the_clock_change(force, cadre):
    """Incidents raised either side of the spring clock change and in summer."""
    made = {}
    for name, raised in (("gmt", BEFORE_CHANGE), ("bst", AFTER_CHANGE), ("summer", SUMMER)):
        made[name] = incident(
            force,
            raised,
            needs={"negotiator": 1},
            filled_at=raised + timedelta(minutes=7, seconds=30),
            location="=HYPERLINK(1)",
        )
        step(made[name], 1, 0, 2)
        deploy(made[name], cadre["n1"], "negotiator", 7.5)
    return made


def test_it_exports_the_incident_list_with_iso_times_and_minutes(
    coordinator_client, history, around_the_clock_change
):
    rows = read(coordinator_client.get("/reports/export/incidents.csv"))
    assert {r["reference"] for r in rows} == set(
        Incident.objects.values_list("reference", flat=True)
    )
    for row in rows:
        kept = Incident.objects.get(reference=row["reference"])
        assert when(row["raised"]) == stored(kept.raised_at)
        if kept.filled_at:
            filled = (kept.filled_at - kept.raised_at).total_seconds() / 60
            assert float(row["minutes to filled"]) == pytest.approx(filled, abs=0.05)
        first = Deployment.objects.filter(incident=kept).order_by("accepted_at").first()
        if first:
            took = (first.accepted_at - kept.raised_at).total_seconds() / 60
            assert float(row["minutes to first acceptance"]) == pytest.approx(took, abs=0.05)
    by_ref = {r["reference"]: r for r in rows}
    gmt, bst, summer = (around_the_clock_change[k].reference for k in ("gmt", "bst", "summer"))
    assert by_ref[gmt]["raised"] == "2026-03-29T00:30:15+00:00"
    assert by_ref[bst]["raised"] == "2026-03-29T02:30:00+01:00"
    assert by_ref[summer]["raised"] == "2026-07-01T14:02:05+01:00"
    assert by_ref[summer]["minutes to filled"] == "7.5"
    # The guard against spreadsheet formulas still stands for text.
    assert by_ref[summer]["area"] == "'=HYPERLINK(1)"


def test_it_exports_a_timeline_with_iso_times_and_minutes_since_raised(
    coordinator_client, history, around_the_clock_change
):
    for made in (history["i2"], *around_the_clock_change.values()):
        # A line logged before raising (a clock out by a minute) is a negative duration.
        events.log(made, events.K.ALERT, at=made.raised_at - timedelta(seconds=30), text="early")
        rows = read(coordinator_client.get(f"/reports/export/incidents/{made.pk}/timeline.csv"))
        assert list(rows[0]) == ["time", "minutes since raised", "who", "what"]
        times = [when(r["time"]) for r in rows]
        logged = {
            stored(at) for at in Event.objects.filter(incident=made).values_list("at", flat=True)
        }
        assert logged <= set(times)
        for row, at in zip(rows, times, strict=True):
            since = (at - made.raised_at.replace(microsecond=0)).total_seconds() / 60
            assert float(row["minutes since raised"]) == pytest.approx(since, abs=0.05)
        assert "[number]" not in str(rows)
        early = next(r for r in rows if "early" in r["what"])
        assert early["minutes since raised"] == "-0.5"


def test_it_exports_the_workload_with_numbers_a_spreadsheet_reads(
    coordinator_client, history, cadre, force
):
    Callout.objects.update(asked_at=timezone.now() - timedelta(days=3))
    rows = read(coordinator_client.get("/reports/export/workload.csv?days=365"))
    expected = {r.callsign: r for r in queries.workload(force, timezone.now(), 365)}
    assert {r["callsign"] for r in rows} == set(expected)
    for row in rows:
        want = expected[row["callsign"]]
        assert int(row["callouts received (365 days)"]) == want.received
        assert int(row["deployments"]) == want.deployments
        # Durations in minutes, like every export's (the page shows hours).
        assert float(row["minutes deployed"]) == pytest.approx(want.hours_deployed * 60, abs=0.05)
        assert float(row["minutes on call"]) == pytest.approx(want.hours_on_call * 60, abs=0.05)
        assert int(row["nights on call"]) == want.nights
