"""With two-factor login required, a session that has only its password reaches no page but
the steps of logging in; what does not log in with a session works as before."""

import pytest
from django.urls import reverse

from cadre.middleware import TWO_FACTOR_EXEMPT
from callouts.models import Message
from callouts.web import tokens
from roster.models import FeedToken
from roster.queries import rota_for
from tests.factories import make_two_factor, post_sms
from tests.test_every_url import MACHINE, OPEN

pytestmark = pytest.mark.django_db

CODE_PAGE = reverse("two_factor_code")


@pytest.fixture
def half_signed_in(settings, client, coordinator_user):
    """A coordinator with an authenticator who has typed their password, not yet a code."""
    settings.REQUIRE_TWO_FACTOR = True
    make_two_factor(coordinator_user)
    client.post(reverse("login"), {"username": "coord", "password": "pw"})
    assert client.get("/")["Location"] == f"{CODE_PAGE}?next=%2F"
    return client


def test_it_leaves_the_webhooks_alone(half_signed_in, cadre):
    assert post_sms(half_signed_in, cadre["n1"], "Y").status_code == 200
    taken = Message.objects.get(direction="in")
    assert (taken.from_number, taken.body) == (cadre["n1"].mobile, "Y")


def test_it_leaves_the_api_alone(half_signed_in, coordinator_user):
    _, token = tokens.create(coordinator_user)
    response = half_signed_in.get("/api/oncall/", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    assert response.json()["force"] == "HOME"


def test_it_leaves_the_calendar_feeds_healthz_static_files_and_logging_out_alone(
    half_signed_in, coordinator_user, force
):
    rota_for(force)
    token = FeedToken.objects.create(user=coordinator_user).token
    assert half_signed_in.get(f"/rota/feed/{token}/rota.ics").status_code == 200
    assert half_signed_in.get("/healthz/").status_code in {200, 503}
    assert half_signed_in.get("/static/css/standby.css").status_code in {200, 404}
    assert half_signed_in.get("/login/").status_code == 200
    assert half_signed_in.post("/logout/")["Location"] == reverse("login")
    assert half_signed_in.get("/cadre/")["Location"].startswith("/login/")


def test_it_sends_a_polled_partial_to_the_code_page_as_a_whole_page(half_signed_in):
    response = half_signed_in.get(
        "/rota/board/",
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL="http://testserver/rota/board/?view=month",
    )
    assert response.status_code == 200
    assert response["HX-Redirect"] == f"{CODE_PAGE}?next=%2Frota%2Fboard%2F%3Fview%3Dmonth"


def test_it_sends_every_page_and_form_to_the_code_page(half_signed_in):
    assert half_signed_in.get("/cadre/?page=2")["Location"] == (
        f"{CODE_PAGE}?next=%2Fcadre%2F%3Fpage%3D2"
    )
    assert half_signed_in.post("/incidents/new/", {"kind": "other"})["Location"].startswith(
        CODE_PAGE
    )
    assert half_signed_in.get("/password/")["Location"].startswith(CODE_PAGE)
    assert half_signed_in.get(reverse("two_factor_recovery_codes"))["Location"].startswith(
        CODE_PAGE
    )


def test_it_exempts_only_the_login_steps_and_what_the_url_walk_lets_strangers_reach():
    steps = {reverse("logout"), reverse("two_factor_code"), reverse("two_factor_setup")}
    assert set(TWO_FACTOR_EXEMPT) == set(OPEN) | set(MACHINE) | steps
