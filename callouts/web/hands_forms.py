"""The board's forms for a coordinator's hands: an answer given by phone, a page by hand.

They read the post only; what may be done is the service's to say (services.
record_phoned_answer and services.page, through the pure engine.hands), so the refusals
read the same from any edge.
"""

from django import forms

from callouts.engine.hands import CHANNELS, PHONED_LABELS

STALE = {
    "required": "This form is out of date: reload the board and try again.",
    "max_length": "This form is out of date: reload the board and try again.",
}


class _ByHand(forms.Form):
    # One per form shown: sent twice, the form acts once (services, BoardAction).
    key = forms.CharField(max_length=64, widget=forms.HiddenInput, error_messages=STALE)
    # Any whole number a form may send; only those the board offers are found.
    person = forms.IntegerField(
        min_value=1,
        max_value=2**31 - 1,
        error_messages={
            "required": "Choose who.",
            "invalid": "Choose who.",
            "min_value": "Choose who.",
            "max_value": "Choose who.",
        },
    )


class PhonedAnswerForm(_ByHand):
    answer = forms.ChoiceField(
        choices=list(PHONED_LABELS.items()),
        error_messages={
            "required": "Choose what they said.",
            "invalid_choice": "Choose what they said.",
        },
    )
    # Checked by the service (engine.hands.clean_eta), which says what is wrong with it.
    eta = forms.CharField(max_length=10, required=False)


class PageForm(_ByHand):
    channel = forms.ChoiceField(
        choices=[(c, c) for c in CHANNELS],
        error_messages={
            "required": "Choose SMS, a voice call or both.",
            "invalid_choice": "Choose SMS, a voice call or both.",
        },
    )


def first_error(form) -> str:
    """The form's first error, for the board's message line."""
    for errors in form.errors.values():
        for error in errors:
            return error
    return "Check the form and try again."
