"""The cadre register: list, a negotiator's page, create/edit, and one's own profile."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from cadre import queries, rules, services
from cadre.access import cadre_viewer_required, coordinator_required
from cadre.forms import AccreditationFormSet, CadreFilterForm, NegotiatorForm, OwnMobileForm
from cadre.models import Negotiator


@cadre_viewer_required
def cadre_list(request):
    filters = CadreFilterForm(request.GET or None)
    rows = queries.cadre_rows(filters.cleaned_data if filters.is_valid() else {}, timezone.now())
    return render(
        request,
        "cadre/list.html",
        {"rows": rows, "filters": filters, "lapsing_days": rules.LAPSING_WINDOW_DAYS},
    )


@cadre_viewer_required
def negotiator_detail(request, pk):
    negotiator = get_object_or_404(
        Negotiator.objects.select_related("force", "user").prefetch_related("accreditations"),
        pk=pk,
    )
    return render(
        request,
        "cadre/detail.html",
        {"row": queries.cadre_row(negotiator, timezone.now()), "negotiator": negotiator},
    )


def edit_negotiator(request, negotiator: Negotiator | None):
    instance = negotiator or Negotiator()
    own = queries.negotiator_for(request.user)
    # A new person is most likely in the coordinator's own force.
    initial = {"force": own.force_id} if negotiator is None and own else {}
    form = NegotiatorForm(request.POST or None, instance=instance, initial=initial)
    formset = AccreditationFormSet(request.POST or None, instance=instance, prefix="acc")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        try:
            saved = services.save_negotiator(form, formset)
        except services.Taken:
            form.add_error(
                None, "That callsign or mobile was just taken by someone else. Check it."
            )
        else:
            messages.success(request, f"Saved {saved.callsign}.")
            return redirect("negotiator_detail", pk=saved.pk)
    return render(
        request,
        "cadre/form.html",
        {"form": form, "formset": formset, "negotiator": negotiator},
    )


@coordinator_required
def negotiator_create(request):
    return edit_negotiator(request, None)


@coordinator_required
def negotiator_edit(request, pk):
    return edit_negotiator(request, get_object_or_404(Negotiator, pk=pk))


@login_required
def my_profile(request):
    negotiator = queries.negotiator_for(request.user)
    if negotiator is None:
        raise Http404("No cadre record is linked to your login.")
    form = OwnMobileForm(
        request.POST or None,
        negotiator=negotiator,
        initial={"mobile": negotiator.mobile_display()},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.change_own_mobile(negotiator, form.cleaned_data["mobile"])
        except services.Taken:
            form.add_error("mobile", "That number was just registered to someone else.")
        else:
            messages.success(request, "Your mobile number has been updated.")
            return redirect("my_profile")
    return render(
        request,
        "cadre/me.html",
        {
            "negotiator": negotiator,
            "row": queries.cadre_row(negotiator, timezone.now()),
            "form": form,
        },
    )
