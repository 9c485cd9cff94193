"""Response figures against a hand-computed history (tests/reports/conftest.py `history`).

Q1 2026, home force: four incidents (minutes after raising)
  i1 barricade Jan   needs 2N+1C  accepted N 2, C 4, N 6          filled 6   step 1 only
  i2 at height Jan   needs 2N+1C  accepted N 5, N 10, C 12        filled 12  voice step 2
  i3 barricade Feb   needs 2N+1C  N 8 (withdrew), C 15, N 20      never filled; exhausted;
                                                                  step 2 by SMS and voice
  i4 hostage   Mar   needs 2N     N 30, neighbour's N 35, C 40 late  filled 35; mutual aid
                                                                  step (SMS) at 12
First acceptance 2, 5, 8, 30: median 6.5, 90th percentile 8 + 0.7 x 22 = 23.4
Filled 6, 12, 35: median 12, 90th 12 + 0.8 x 23 = 30.4
Negotiator filled 6, 10, 35 (i3 had one of two): median 10, 90th 10 + 0.8 x 25 = 30
Coordinator first = filled 4, 12, 15: median 12, 90th 12 + 0.8 x 3 = 14.4
"""

import pytest

from cadre.access import SUPERVISOR
from tests.factories import make_membership, make_user

Q1 = "/reports/?preset=custom&since=2026-01-01&until=2026-03-31"


def figures_for(client, url=Q1):
    response = client.get(url)
    assert response.status_code == 200
    return response, response.context["figures"]


def test_it_computes_medians_and_90th_percentiles_by_hand(supervisor_client, history):
    _, f = figures_for(supervisor_client)
    assert f.total == 4
    assert (f.first_accept.median, f.first_accept.p90) == (6.5, pytest.approx(23.4))
    assert (f.filled.count, f.filled.median, f.filled.p90) == (3, 12, pytest.approx(30.4))
    roles = {r.role: r for r in f.roles}
    assert (roles["negotiator"].first_accept.median, roles["negotiator"].first_accept.p90) == (
        6.5,
        pytest.approx(23.4),
    )
    assert (roles["negotiator"].filled.median, roles["negotiator"].filled.p90) == (
        10,
        pytest.approx(30),
    )
    assert roles["negotiator"].filled.count == 3  # i3 never had its second negotiator
    assert (roles["coordinator"].filled.median, roles["coordinator"].filled.p90) == (
        12,
        pytest.approx(14.4),
    )
    assert "adviser" not in roles


def test_it_counts_shares_from_the_record_and_the_log(supervisor_client, history):
    _, f = figures_for(supervisor_client)
    assert f.counts == {
        "total": 4,
        "filled": 3,
        "first_step": 1,
        "exhausted": 1,
        "voice": 2,
        "mutual_aid": 1,
    }
    assert f.shares["filled"] == 75.0 and f.shares["first_step"] == 25.0


def test_it_counts_incidents_by_kind_and_month(supervisor_client, history):
    _, f = figures_for(supervisor_client)
    grid = {row["kind"]: row["cells"] for row in f.grid}
    assert grid["barricade"] == [1, 1, 0]
    assert grid["person_at_height"] == [1, 0, 0]
    assert grid["hostage"] == [0, 0, 1]
    assert [m.incidents for m in f.months] == [2, 1, 1]
    assert [m.filled.median for m in f.months] == [9, None, 35]


def test_it_counts_mutual_aid_given_and_received_per_neighbour(supervisor_client, history):
    _, f = figures_for(supervisor_client)
    (row,) = f.aid
    assert (row.force, row.neighbour) == ("Neighbour Police", True)
    assert (row.given_people, row.given_incidents) == (1, 1)
    assert (row.received_people, row.received_incidents) == (1, 1)


def test_it_draws_the_charts_with_their_tables(supervisor_client, history):
    response, f = figures_for(supervisor_client)
    html = response.content.decode()
    assert html.count("<svg") == 2 and 'role="img"' in html
    assert "Minutes from raising to filled, by month" in html
    assert 'data-month="2026-03"' in html
    assert 'data-callsign="N-ONE"' in html
    assert " style=" not in html  # the CSP allows no inline style
    assert dict(f.per_person)["N-ONE"] == 3


def test_it_takes_the_same_number_of_queries_however_long_the_history(
    client, history, force, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(make_user("sup2", [SUPERVISOR], force=force))

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(Q1).status_code == 200
        return len(ctx.captured_queries)

    before = count()
    from tests.reports.conftest import at, deploy, incident

    for day in range(2, 28):
        more = incident(force, at((2, day)), filled_at=at((2, day), 9))
        deploy(more, force.negotiators.first(), "negotiator", 9)
    assert count() == before


def test_it_explains_a_bad_period_and_shows_the_default(supervisor_client, history):
    response, f = figures_for(
        supervisor_client, "/reports/?preset=custom&since=2026-03-01&until=2026-01-01"
    )
    assert "“To” is before “From”." in response.content.decode()
    assert f.period.label == "Last 12 months"


def test_it_shows_figures_to_coordinators_and_supervisors_only(negotiator_client, history):
    assert negotiator_client.get("/reports/").status_code == 403


def test_it_shows_the_force_it_reports_on_in_the_force_select(
    supervisor_client, supervisor_user, history, force
):
    _, f = figures_for(supervisor_client, "/reports/?preset=quarter")
    assert f.force == force  # their one force
    make_membership(supervisor_user, history["neighbour"], "supervisor")  # now regional
    response, f = figures_for(supervisor_client, f"{Q1}&force={history['neighbour'].code}")
    assert f'<option value="{history["neighbour"].code}" selected>' in response.content.decode()
    assert f.force == history["neighbour"] and f.total == 1
