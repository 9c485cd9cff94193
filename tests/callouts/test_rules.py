"""The one check of an incident's input, and the places that must agree with it."""

import pytest
from django.core.exceptions import ValidationError

from callouts import rules
from callouts.web import forms, openapi


def test_it_cleans_needs_leaving_out_roles_asked_for_none():
    assert rules.clean_needs({"negotiator": 2, "adviser": 0}) == {"negotiator": 2}


@pytest.mark.parametrize(
    "needs",
    [{}, {"negotiator": 0}, {"negotiator": 21}, {"negotiator": -1}, {"negotiator": True},
     {"negotiator": "2"}, {"chef": 1}, [2], None],
)  # fmt: skip
def test_it_refuses_needs_a_person_could_not_mean(needs):
    with pytest.raises(ValidationError) as caught:
        rules.clean_needs(needs)
    assert set(caught.value.message_dict) == {"needs"}


def test_it_squeezes_the_area_and_measures_it_after():
    cleaned = rules.clean_incident(kind="hostage", location="  Medway \n bridge ")
    assert cleaned["location"] == "Medway bridge"
    spaced = "Dover   " * 12  # 96 characters typed, 71 once squeezed: short enough
    assert len(rules.clean_incident(kind="hostage", location=spaced)["location"]) == 71


def test_it_names_every_bad_field_at_once():
    with pytest.raises(ValidationError) as caught:
        rules.clean_incident(kind="picnic", location=" ", rendezvous="x" * 201, brief=7)
    assert set(caught.value.message_dict) == {"kind", "location", "rendezvous", "brief"}


def test_the_form_the_api_document_and_the_rules_agree_on_limits():
    form = forms.RaiseNeedsForm()
    assert form.fields["count"].max_value == rules.MAX_PER_ROLE
    schema = openapi.DOCUMENT["components"]["schemas"]["NewIncident"]["properties"]
    assert schema["needs"]["additionalProperties"]["maximum"] == rules.MAX_PER_ROLE
    assert schema["location"]["maxLength"] == rules.LOCATION_MAX
    assert schema["rendezvous"]["maxLength"] == rules.RENDEZVOUS_MAX
    assert schema["brief"]["maxLength"] == rules.BRIEF_MAX
