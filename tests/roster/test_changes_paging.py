"""The rota changes log a page at a time: older changes a page on, junk page numbers harmless."""

from datetime import timedelta

import pytest
from django.utils import timezone

from roster.models import RotaChange
from roster.views.planning import CHANGES_PER_PAGE

pytestmark = pytest.mark.django_db


def log_changes(rota, count):
    start = timezone.now() - timedelta(days=count)
    changes = RotaChange.objects.bulk_create(
        RotaChange(rota=rota, action="add", summary=f"Change {i:04d}") for i in range(count)
    )
    for i, change in enumerate(changes):
        change.at = start + timedelta(hours=i)
    RotaChange.objects.bulk_update(changes, ["at"])


def shown(response):
    return [e.summary for e in response.context["entries"]]


def test_it_shows_the_newest_changes_first_and_older_ones_a_page_on(coordinator_client, rota):
    log_changes(rota, CHANGES_PER_PAGE + 30)
    first = coordinator_client.get("/rota/changes/")
    assert shown(first)[0] == f"Change {CHANGES_PER_PAGE + 29:04d}"
    assert len(shown(first)) == CHANGES_PER_PAGE
    assert "Page 1 of 2" in first.text and "?page=2" in first.text
    older = coordinator_client.get("/rota/changes/?page=2")
    assert shown(older) == [f"Change {i:04d}" for i in reversed(range(30))]
    assert "Change 0000" in older.text and f"Change {CHANGES_PER_PAGE + 29:04d}" not in older.text


@pytest.mark.parametrize(
    ("asked", "number"), [("junk", 1), ("", 1), ("2.5", 1), ("999", 2), ("-1", 2), ("0", 2)]
)
def test_it_answers_a_junk_or_out_of_range_page_with_the_first_or_last(
    coordinator_client, rota, asked, number
):
    log_changes(rota, CHANGES_PER_PAGE + 1)
    response = coordinator_client.get(f"/rota/changes/?page={asked}")
    assert response.status_code == 200
    assert response.context["page"].number == number


def test_it_reads_a_page_in_the_same_queries_however_long_the_log(
    coordinator_client, rota, django_assert_max_num_queries
):
    log_changes(rota, 3)
    with django_assert_max_num_queries(20) as counted:
        coordinator_client.get("/rota/changes/")
    few = len(counted)
    log_changes(rota, 3 * CHANGES_PER_PAGE)
    with django_assert_max_num_queries(few):
        coordinator_client.get("/rota/changes/?page=2")
