"""The policy editor's step rows under hostile input: the management form's counts junk,
negative, huge or missing. Each is a clear form error (400) with nothing saved, never a 500."""

import pytest
from django.urls import reverse

from callouts.engine.policy import create_default_policy
from callouts.models import EscalationPolicy, EscalationStep
from tests.callouts.test_policy_editor import form_data, step

pytestmark = pytest.mark.django_db

BROKEN = "The step rows were sent incomplete or altered"


@pytest.fixture
def standard(force):
    return create_default_policy(force)


def snapshot():
    return list(EscalationPolicy.objects.values_list("pk", "name")), list(
        EscalationStep.objects.values_list("policy", "position", "audience", "wait_minutes")
    )


@pytest.mark.parametrize("total", ["abc", "", "-1", "-1000", "1.5", "10" * 9, str(10**9), "51"])
@pytest.mark.parametrize("action", ["save", "add_step"])
@pytest.mark.parametrize("editing", [False, True])
def test_it_refuses_a_junk_step_count_saving_nothing(
    coordinator_client, standard, total, action, editing
):
    url = reverse("policy_edit", args=[standard.pk]) if editing else reverse("policy_new")
    data = form_data([step(), step("force", "both", "5")]) | {"steps-TOTAL_FORMS": total}
    if action == "add_step":
        data["add_step"] = "1"
    before = snapshot()
    response = coordinator_client.post(url, data)
    assert response.status_code == 400
    assert BROKEN in response.text
    assert snapshot() == before
    if editing:  # the page comes back usable: the policy's own steps, a count that is right
        assert len(response.context["steps"].forms) == standard.steps.count()
        assert f'name="steps-TOTAL_FORMS" value="{standard.steps.count()}"' in response.text


@pytest.mark.parametrize("missing", ["steps-TOTAL_FORMS", "steps-INITIAL_FORMS", "all"])
def test_it_refuses_a_missing_management_form(coordinator_client, standard, missing):
    data = form_data([step()])
    for key in list(data):
        if key == missing or (missing == "all" and key.startswith("steps-")):
            del data[key]
    before = snapshot()
    response = coordinator_client.post(reverse("policy_new"), data)
    assert response.status_code == 400
    assert BROKEN in response.text
    assert snapshot() == before


def test_it_still_saves_a_good_form_and_adds_a_row(coordinator_client, standard):
    data = form_data([step()])
    added = coordinator_client.post(reverse("policy_new"), data | {"add_step": "1"})
    assert added.status_code == 200
    assert 'name="steps-TOTAL_FORMS" value="2"' in added.text
    assert coordinator_client.post(reverse("policy_new"), data).status_code == 302
    assert EscalationPolicy.objects.filter(name="Night").exists()
