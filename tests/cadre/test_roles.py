"""The server enforces roles: a negotiator or supervisor cannot reach coordinator pages."""

import pytest
from django.urls import reverse

from tests.factories import make_negotiator

COORDINATOR_PAGES = ["negotiator_create", "cadre_import"]
COORDINATOR_OBJECT_PAGES = ["negotiator_edit"]
CADRE_VIEWER_PAGES = ["cadre_list"]
CADRE_VIEWER_OBJECT_PAGES = ["negotiator_detail"]


def urls(names, object_names, pk):
    return [reverse(n) for n in names] + [reverse(n, args=[pk]) for n in object_names]


@pytest.mark.django_db
def test_it_refuses_a_negotiator_every_coordinator_and_cadre_page(negotiator_client, force):
    other = make_negotiator(force=force)
    for url in urls(
        COORDINATOR_PAGES + CADRE_VIEWER_PAGES,
        COORDINATOR_OBJECT_PAGES + CADRE_VIEWER_OBJECT_PAGES,
        other.pk,
    ):
        for method in ("get", "post"):
            response = getattr(negotiator_client, method)(url)
            assert response.status_code == 403, f"{method} {url}"
            assert "Not allowed" in response.text
            assert other.full_name not in response.text


@pytest.mark.django_db
def test_it_refuses_a_supervisor_the_coordinator_pages(supervisor_client, force):
    other = make_negotiator(force=force)
    for url in urls(COORDINATOR_PAGES, COORDINATOR_OBJECT_PAGES, other.pk):
        assert supervisor_client.get(url).status_code == 403, url
    for url in urls(CADRE_VIEWER_PAGES, CADRE_VIEWER_OBJECT_PAGES, other.pk):
        assert supervisor_client.get(url).status_code == 200, url


@pytest.mark.django_db
def test_it_shows_the_navigation_a_role_may_use(negotiator_client):
    page = negotiator_client.get(reverse("dashboard")).text
    assert f'href="{reverse("my_profile")}"' in page
    assert f'href="{reverse("cadre_list")}"' not in page
