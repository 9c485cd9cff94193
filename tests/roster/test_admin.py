import pytest
from django.contrib.auth.models import User

from tests.factories import put_on


@pytest.mark.parametrize(
    "model",
    ["rota", "rotationpattern", "shift", "unavailability", "rotachange", "swaprequest", "reminder"],
)
def test_it_lists_rota_records_in_the_admin(client, rota, cadre, model):
    put_on(cadre["n1"])
    client.force_login(User.objects.create_superuser("admin", password="pw"))
    assert client.get(f"/admin/roster/{model}/").status_code == 200


def test_it_keeps_shifts_read_only_in_the_admin(client, rota, cadre):
    shift = put_on(cadre["n1"])
    client.force_login(User.objects.create_superuser("admin", password="pw"))
    client.post(f"/admin/roster/shift/{shift.pk}/delete/", {"post": "yes"})
    assert client.get("/admin/roster/shift/add/").status_code == 403
    shift.refresh_from_db()
