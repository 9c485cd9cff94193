"""A coordinator's hands on a live incident, from its board: record an answer someone gave
by phone, and page a named person now. Thin: the board shows the pickers
(queries.picker), the services do and refuse (services.record_phoned_answer, services.page),
and the board says what happened."""

import secrets

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views.decorators.http import require_POST

from cadre import access
from cadre.access import Can
from callouts import queries, services
from callouts.models import Incident
from callouts.web.hands_forms import PageForm, PhonedAnswerForm, first_error

# As the board's other buttons (callouts.web.views): the force's coordinators and
# supervisors; an incident of another force is a 404.
manager_required = access.require(Can.MANAGE_INCIDENTS)


def board_context(request, incident) -> dict:
    """What the board's "By phone and by hand" section needs: for its managers, on a live
    incident, the pickers and a fresh key per form."""
    if incident.status not in Incident.LIVE or not queries.can_manage(
        request.user, incident.force_id
    ):
        return {}
    asked, others = queries.picker(incident, request.user, timezone.now())
    return {
        "hands": {
            "asked": asked,
            "others": others,
            "answer_key": secrets.token_urlsafe(18),
            "page_key": secrets.token_urlsafe(18),
            "filled": incident.status == Incident.Status.FILLED,
        }
    }


def _act(request, pk, form_class, action):
    incident = get_object_or_404(queries.managed_incidents(request.user), pk=pk)
    form = form_class(request.POST)
    if not form.is_valid():
        messages.error(request, first_error(form))
        return redirect("incident_board", pk=pk)
    person = queries.offered(incident).filter(pk=form.cleaned_data["person"]).first()
    if person is None:
        messages.error(request, "Choose someone from the list.")
        return redirect("incident_board", pk=pk)
    try:
        done = action(incident, person, form.cleaned_data)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        (messages.info if done.repeated else messages.success)(request, done.text)
    return redirect("incident_board", pk=pk)


@require_POST
@manager_required
def record_answer(request, pk):
    """Record what someone said on the phone: counted as the same reply by SMS."""
    return _act(
        request,
        pk,
        PhonedAnswerForm,
        lambda incident, person, data: services.record_phoned_answer(
            incident, person, data["answer"], data["eta"], key=data["key"], by=request.user
        ),
    )


@require_POST
@manager_required
def page_person(request, pk):
    """Page someone now by SMS, voice or both (again, for someone asked already)."""
    return _act(
        request,
        pk,
        PageForm,
        lambda incident, person, data: services.page(
            incident, person, data["channel"], key=data["key"], by=request.user
        ),
    )
