import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from tests.factories import make_negotiator

pytestmark = pytest.mark.django_db


def test_it_administers_every_cadre_model(client, force):
    person = make_negotiator(force=force)
    client.force_login(User.objects.create_superuser("root", password="pw"))
    for model, pk in (("force", force.pk), ("negotiator", person.pk), ("accreditation", None)):
        assert client.get(reverse(f"admin:cadre_{model}_changelist")).status_code == 200
        assert client.get(reverse(f"admin:cadre_{model}_add")).status_code == 200
        if pk:
            assert client.get(reverse(f"admin:cadre_{model}_change", args=[pk])).status_code == 200
