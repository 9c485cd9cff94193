"""The one check of an incident's input, and the places that must agree with it."""

import re

import pytest
from django.core.exceptions import ValidationError
from hypothesis import example, given
from hypothesis import strategies as st

from callouts import rules
from callouts.web import api, forms, openapi


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


def test_it_squeezes_the_area_and_measures_it_as_typed():
    cleaned = rules.clean_incident(kind="hostage", location="  Medway \n bridge ")
    assert cleaned["location"] == "Medway bridge"
    # 96 characters typed, 71 once squeezed: too long, as the form's field and the API
    # document's maxLength say (the document cannot measure after squeezing).
    with pytest.raises(ValidationError):
        rules.clean_incident(kind="hostage", location="Dover   " * 12)


def test_it_names_every_bad_field_at_once():
    with pytest.raises(ValidationError) as caught:
        rules.clean_incident(kind="picnic", location=" ", rendezvous="x" * 201, brief=7)
    assert set(caught.value.message_dict) == {"kind", "location", "rendezvous", "brief"}


def test_the_form_the_api_document_and_the_rules_agree_on_limits():
    form = forms.RaiseNeedsForm()
    assert form.fields["count"].max_value == rules.MAX_PER_ROLE
    schema = openapi.DOCUMENT["components"]["schemas"]["NewIncident"]["properties"]
    assert set(schema) == set(api.INCIDENT_FIELDS)
    for count in schema["needs"]["properties"].values():
        assert count["maximum"] == rules.MAX_PER_ROLE
    assert schema["location"]["maxLength"] == rules.LOCATION_MAX
    assert schema["rendezvous"]["maxLength"] == rules.RENDEZVOUS_MAX
    assert schema["brief"]["maxLength"] == rules.BRIEF_MAX


@given(st.text())
@example("")
@example(" \t\n\u3000")
@example("Dover\x00")
@example("\ufeff")
def test_the_document_s_patterns_accept_what_the_rules_accept(typed):
    def accepted(field, **fields):
        try:
            rules.clean_incident(kind="hostage", **{"location": "Dover", **fields})
        except ValidationError as e:
            return field not in e.message_dict
        return True

    short = typed[: rules.LOCATION_MAX]
    assert accepted("location", location=short) == bool(re.search(rules.FILLED_TEXT_PATTERN, short))
    assert accepted("brief", brief=short) == bool(re.search(rules.TEXT_PATTERN, short))
