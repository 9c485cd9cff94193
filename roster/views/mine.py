"""A negotiator's own rota pages: my shifts, swap requests, unavailability, calendar feed."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from cadre import access
from cadre.access import Can
from cadre.queries import negotiator_for
from roster import queries, services
from roster.forms import SwapForm, UnavailabilityForm
from roster.views.board import found

PAST_PAGE = 20  # past shifts a page; the newest first
SWAPS_SHOWN = 20  # the newest swap requests


def me(request):
    return negotiator_for(request.user)


def swap_takers(negotiator, shift):
    """Who can take this shift over (rules.can_take): the role held, deployable for all of
    it, not on call then already."""
    return queries.picker(
        negotiator.force_id, shift.role, shift.start, shift.end, exclude=[negotiator.pk]
    )


@login_required
def my_shifts(request):
    return render_my_shifts(request, UnavailabilityForm())


def render_my_shifts(request, unavailability_form):
    """The page, with the unavailability form as submitted when it was refused."""
    negotiator = me(request)
    now = timezone.now()
    feed = services.feed_of(request.user, by=request.user)
    context = {
        "negotiator": negotiator,
        "feed": feed,
        "is_coordinator": access.may(request.user, Can.EDIT_ROTA),
    }
    if negotiator:
        upcoming = queries.my_upcoming(negotiator, now, 50)
        for shift in upcoming:
            # The swap picker offers only who could take this shift.
            shift.takers = list(swap_takers(negotiator, shift))
        context.update(
            upcoming=upcoming,
            past=Paginator(queries.my_past(negotiator, now), PAST_PAGE).get_page(
                request.GET.get("page")
            ),
            absences=queries.my_absences(negotiator, now),
            swaps=queries.my_swaps(negotiator, SWAPS_SHOWN),
            swaps_shown=SWAPS_SHOWN,
            unavailability_form=unavailability_form,
        )
    return render(request, "roster/my_shifts.html", context)


@login_required
@require_POST
def mark_unavailable(request):
    negotiator = me(request)
    if negotiator is None:
        return redirect("my_shifts")
    form = UnavailabilityForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        try:
            services.mark_unavailable(
                negotiator, d["start"], d["end"], d["reason"], d["note"], by=request.user
            )
        except services.Refused as e:
            for error in e.errors:
                form.add_error(None, error)
        else:
            messages.success(request, "Marked unavailable. Coordinators can see the reason.")
            return redirect("my_shifts")
    return render_my_shifts(request, form)


@login_required
@require_POST
def request_swap(request, pk):
    negotiator = me(request)
    if negotiator is None:
        raise Http404("No cadre record is linked to your login.")
    shift = found(queries.my_live_shift(negotiator, pk))
    # Checked against the whole cadre: the service says why someone cannot take it.
    form = SwapForm(request.POST, negotiators=queries.force_people(negotiator.force_id))
    if not form.is_valid():
        messages.error(request, "Choose who is to take this shift.")
        return redirect("my_shifts")
    try:
        services.request_swap(shift, form.cleaned_data["taker"], by=request.user)
    except services.Refused as e:
        messages.error(request, " ".join(e.errors))
    else:
        messages.success(request, "Swap requested: a coordinator will approve it.")
    return redirect("my_shifts")


@login_required
@require_POST
def regenerate_feed(request):
    services.regenerate_feed(request.user, by=request.user)
    messages.success(request, "New calendar link made: the old one no longer works.")
    return redirect("my_shifts")


@login_required
@require_POST
def withdraw_swap(request, pk):
    swap = found(queries.my_pending_swap(me(request), pk))
    services.withdraw_swap(swap, by=request.user)
    messages.success(request, "Swap request withdrawn.")
    return redirect("my_shifts")


@login_required
@require_POST
def withdraw_unavailability(request, pk):
    absence = found(queries.my_absence(me(request), pk))
    services.withdraw_unavailability(absence, by=request.user)
    messages.success(request, "Unavailability withdrawn.")
    return redirect("my_shifts")
