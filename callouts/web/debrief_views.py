"""An incident's debrief note: written by a coordinator or supervisor once it is closed."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from cadre.access import Can, require
from callouts import queries, services


class DebriefForm(forms.Form):
    outcome = forms.CharField(label="Outcome", widget=forms.Textarea({"rows": 3}), max_length=5000)
    lessons = forms.CharField(
        label="Lessons", widget=forms.Textarea({"rows": 4}), max_length=5000, required=False
    )


@require_POST
@require(Can.MANAGE_INCIDENTS)
def incident_debrief(request, pk):
    incident = get_object_or_404(queries.managed_incidents(request.user), pk=pk)
    form = DebriefForm(request.POST)
    if form.is_valid():
        try:
            services.save_debrief(incident, **form.cleaned_data, by=request.user)
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, f"Debrief of {incident.reference} saved.")
            return redirect(reverse("incident_timeline", args=[pk]) + "#debrief")
    return render(
        request,
        "callouts/debrief_form.html",
        {
            "incident": incident,
            "form": form,
            "debrief": queries.debrief_of(incident),
        },
        status=400,
    )
