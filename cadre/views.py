"""The cadre register: list, a negotiator's page, create/edit, and one's own profile."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from cadre import access, queries, rules, services
from cadre.access import Can, cadre_viewer_required, coordinator_required
from cadre.forms import AccreditationFormSet, CadreFilterForm, NegotiatorForm, OwnMobileForm
from cadre.models import Negotiator


@cadre_viewer_required
def cadre_list(request):
    forces = access.forces(request.user, Can.READ_CADRE)
    filters = CadreFilterForm(request.GET or None, forces=forces)
    cleaned = filters.cleaned_data if filters.is_valid() else {}
    page, rows = queries.cadre_page(
        access.negotiators(request.user, Can.READ_CADRE),
        cleaned,
        timezone.now(),
        request.GET.get("page"),
    )
    return render(
        request,
        "cadre/list.html",
        {
            "rows": rows,
            "page": page,
            "filters": filters,
            "lapsing_days": rules.LAPSING_WINDOW_DAYS,
            "names_of": access.force_ids(request.user, Can.SEE_NAMES),
            "several_forces": len(forces) > 1,
        },
    )


@cadre_viewer_required
def negotiator_detail(request, pk):
    negotiator = get_object_or_404(
        queries.with_accreditations(access.negotiators(request.user, Can.READ_CADRE)), pk=pk
    )
    return render(
        request,
        "cadre/detail.html",
        {
            "row": queries.cadre_row(negotiator, timezone.now()),
            "negotiator": negotiator,
            "show_names": access.may(request.user, Can.SEE_NAMES, negotiator.force_id),
            "two_factor": queries.two_factor_of(negotiator.user),
        },
    )


def edit_negotiator(request, negotiator: Negotiator | None):
    instance = negotiator or Negotiator()
    forces = access.forces(request.user, Can.EDIT_CADRE)
    # A new person is most likely in the force the coordinator chose last (or their only one).
    chosen = access.chosen_force(request, Can.EDIT_CADRE, required=False)
    initial = {"force": chosen.pk} if negotiator is None and chosen else {}
    form = NegotiatorForm(request.POST or None, instance=instance, initial=initial, forces=forces)
    formset = AccreditationFormSet(request.POST or None, instance=instance, prefix="acc")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        try:
            saved = services.save_negotiator(
                negotiator, form.cleaned_data, formset.cleaned_data, by=request.user
            )
        except services.Taken:
            form.add_error(
                None, "That callsign or mobile was just taken by someone else. Check it."
            )
        except services.LoginRefused as refused:
            form.add_error("username", str(refused))
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
    return edit_negotiator(
        request, get_object_or_404(access.negotiators(request.user, Can.EDIT_CADRE), pk=pk)
    )


@login_required
def my_profile(request):
    """One's own page: the forces the login belongs to and, with a cadre record, its
    accreditation and mobile."""
    memberships = list(queries.memberships_of(request.user))
    negotiator = queries.negotiator_for(request.user)
    two_factor = {
        "two_factor": queries.two_factor_of(request.user),
        "may_turn_off_two_factor": access.may_turn_off_two_factor(request.user),
    }
    if negotiator is None:
        return render(request, "cadre/me.html", {"memberships": memberships, **two_factor})
    form = OwnMobileForm(
        request.POST or None,
        negotiator=negotiator,
        initial={"mobile": negotiator.mobile_display()},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.change_own_mobile(negotiator, form.cleaned_data["mobile"], by=request.user)
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
            "memberships": memberships,
            **two_factor,
        },
    )
