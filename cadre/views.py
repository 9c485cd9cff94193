"""The cadre register: list, a negotiator's page, create/edit, and one's own profile."""

from dataclasses import dataclass
from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import Group, User
from django.db import IntegrityError, transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from cadre import access, rules
from cadre.access import cadre_viewer_required, coordinator_required
from cadre.forms import AccreditationFormSet, CadreFilterForm, NegotiatorForm, OwnMobileForm
from cadre.models import Negotiator


@dataclass(frozen=True)
class CadreRow:
    negotiator: Negotiator
    deployable: bool
    valid_until: date | None  # end of the current run of accreditation, else the last one
    lapsing_on: date | None  # set when that end is within the warning window

    @property
    def status(self) -> tuple[str, str]:
        """(badge class, words) for the deployable badge."""
        if not self.negotiator.active:
            return "", "Inactive"
        return ("good", "Deployable") if self.deployable else ("bad", "Not deployable")


def cadre_row(negotiator: Negotiator, now) -> CadreRow:
    periods = negotiator.periods()
    today = rules.local_date(now)
    until = rules.accredited_until(periods, today)
    if until is None and periods:
        until = max(p.valid_until for p in periods)
    return CadreRow(
        negotiator=negotiator,
        deployable=rules.is_deployable(negotiator.active, periods, now),
        valid_until=until,
        lapsing_on=rules.lapses_within(periods, today) if negotiator.active else None,
    )


def filtered_rows(filters: CadreFilterForm, now) -> list[CadreRow]:
    negotiators = Negotiator.objects.select_related("force").prefetch_related("accreditations")
    data = filters.cleaned_data if filters.is_valid() else {}
    if data.get("role"):
        negotiators = negotiators.with_role(data["role"])
    if data.get("force"):
        negotiators = negotiators.filter(force=data["force"])
    if data.get("deployable"):
        negotiators = negotiators.deployable(now)
    rows = [cadre_row(n, now) for n in negotiators.order_by("force__name", "callsign")]
    if data.get("lapsing"):
        rows = [row for row in rows if row.lapsing_on]
    return rows


@cadre_viewer_required
def cadre_list(request):
    filters = CadreFilterForm(request.GET or None)
    rows = filtered_rows(filters, timezone.now())
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
        {"row": cadre_row(negotiator, timezone.now()), "negotiator": negotiator},
    )


def link_login(negotiator: Negotiator, username: str, password: str) -> None:
    """Attach (or create) the login `username` and put it in the Negotiator group."""
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User.objects.create_user(username, password=password)
    user.groups.add(Group.objects.get(name=access.NEGOTIATOR))
    negotiator.user = user
    negotiator.save(update_fields=["user", "updated_at"])


def save_negotiator(form: NegotiatorForm, formset) -> Negotiator | None:
    """Save the negotiator, their login and accreditations together, or nothing at all."""
    try:
        with transaction.atomic():
            negotiator = form.save()
            formset.instance = negotiator
            formset.save()
            if form.cleaned_data.get("username"):
                link_login(negotiator, form.cleaned_data["username"], form.cleaned_data["password"])
    except IntegrityError:
        # Someone saved the same callsign or mobile a moment ago.
        form.add_error(None, "That callsign or mobile was just taken by someone else. Check it.")
        return None
    return negotiator


def edit_negotiator(request, negotiator: Negotiator | None):
    instance = negotiator or Negotiator()
    own = Negotiator.objects.filter(user=request.user).values_list("force", flat=True).first()
    # A new person is most likely in the coordinator's own force.
    initial = {"force": own} if negotiator is None and own else {}
    form = NegotiatorForm(request.POST or None, instance=instance, initial=initial)
    formset = AccreditationFormSet(request.POST or None, instance=instance, prefix="acc")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        saved = save_negotiator(form, formset)
        if saved is not None:
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
    negotiator = (
        Negotiator.objects.select_related("force")
        .prefetch_related("accreditations")
        .filter(user=request.user)
        .first()
    )
    if negotiator is None:
        raise Http404("No cadre record is linked to your login.")
    form = OwnMobileForm(
        request.POST or None,
        negotiator=negotiator,
        initial={"mobile": negotiator.mobile_display()},
    )
    if request.method == "POST" and form.is_valid():
        negotiator.mobile = form.cleaned_data["mobile"]
        try:
            with transaction.atomic():
                negotiator.save(update_fields=["mobile", "updated_at"])
        except IntegrityError:
            form.add_error("mobile", "That number was just registered to someone else.")
        else:
            messages.success(request, "Your mobile number has been updated.")
            return redirect("my_profile")
    return render(
        request,
        "cadre/me.html",
        {"negotiator": negotiator, "row": cadre_row(negotiator, timezone.now()), "form": form},
    )
