"""Two-factor login: the code after the password, setting up an authenticator app, recovery
codes, turning it off, and a coordinator's reset of a member's (a lost phone).

Who must use it is cadre.access (scope.second_factor); cadre.middleware sends a login
here before any other page; the devices are django-otp's, changed by cadre.services.
"""

import logging
from urllib.parse import urlencode

import django_otp
import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from cadre import access, codes, queries, services, throttle
from cadre.access import Can, coordinator_required
from cadre.auth_views import password_entered, password_entered_within
from cadre.forms import CodeForm, SetupForm

security = logging.getLogger("standby.security")

SHOW_CODES = "standby_recovery_codes"  # new recovery codes, until their page shows them once
# Setting up an authenticator asks for the password again after this long: a session left
# open (a lost phone's browser, after a coordinator's reset) cannot set up a new one.
PASSWORD_FRESH_SECONDS = 10 * 60
WRONG_CODE = (
    "That code is not right. Type the code the app shows now (a new one comes every 30 "
    "seconds; the phone must set its clock automatically)."
)


def next_url(request) -> str:
    """Where the login was going (?next=, kept through each step), if it is one of ours."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    # A path of ours only: redirect() would take a bare word for a URL name to look up.
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def with_next(name: str, request) -> str:
    return f"{reverse(name)}?{urlencode({'next': next_url(request)})}"


def signed_in(request, device) -> None:
    """The session now has its second factor: a fresh session key for the raised trust."""
    django_otp.login(request, device)
    request.session.cycle_key()


def plural_minutes(minutes: int) -> str:
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def too_many(minutes: int) -> str:
    return (
        f"Too many wrong codes. Wait {plural_minutes(minutes)} before "
        "trying again, or ask a coordinator to reset your two-factor login."
    )


def checked_device(request, form):
    """The device that takes the form's code, wrong codes counted like wrong passwords
    (cadre.throttle, shared by every process): (device or None, HTTP status)."""
    username, address = request.user.get_username(), throttle.client_address(request)
    minutes = throttle.attempt(username, address, throttle.CODE)
    if minutes:
        security.warning("Code refused (throttled): login=%r address=%s", username, address)
        form.add_error(None, too_many(minutes))
        return None, 429
    if not form.is_valid():
        throttle.give_back(username, address, throttle.CODE)  # no code was checked
        return None, 200
    device = services.check_code(request.user, form.cleaned_data["code"], by=request.user)
    if device is None:
        form.add_error("code", WRONG_CODE)  # counted already (throttle.attempt)
    else:
        throttle.succeeded(username, address, throttle.CODE)
    return device, 200


@never_cache
@require_http_methods(["GET", "POST"])
@login_required
def code(request):
    """After the password: a code from the authenticator app, or a recovery code."""
    step = access.two_factor_step(request.user)
    if step is None:
        return redirect(next_url(request))
    if step == access.SETUP:
        return redirect(with_next("two_factor_setup", request))
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        device, status = checked_device(request, form)
        if device is not None:
            signed_in(request, device)
            if form.cleaned_data["code"].recovery:
                left = queries.two_factor_of(request.user).recovery_left
                messages.warning(
                    request,
                    f"You used a recovery code: {left} left, each good once. "
                    "Make new ones on My profile before they run out.",
                )
            return redirect(next_url(request))
    context = {"form": form, "next": next_url(request), "two_factor_pending": True}
    return render(request, "cadre/two_factor_code.html", context, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
@login_required
def setup(request):
    """Set up an authenticator app: scan the QR code (or type the key), then type its code;
    the recovery codes are shown next, once."""
    user = request.user
    if queries.two_factor_on(user):
        if not user.is_verified():
            return redirect(with_next("two_factor_code", request))
        messages.info(request, "Two-factor login is already on.")
        return redirect("my_profile")
    ask_password = not password_entered_within(request, PASSWORD_FRESH_SECONDS)
    username, address = user.get_username(), throttle.client_address(request)
    device = services.start_two_factor(user, by=user)
    form = SetupForm(request.POST or None, user=user, ask_password=ask_password)
    status = 200
    minutes = request.method == "POST" and ask_password and throttle.attempt(username, address)
    if minutes:
        security.warning("Password refused (throttled): login=%r address=%s", username, address)
        form.add_error(
            None, f"Too many wrong passwords. Wait {plural_minutes(minutes)} before trying again."
        )
        status = 429
    elif request.method == "POST" and form.is_valid():
        if ask_password:
            throttle.succeeded(username, address)
            password_entered(request)
        made = services.confirm_two_factor(device, form.cleaned_data["code"].code, by=user)
        if made is not None:
            signed_in(request, device)
            request.session[SHOW_CODES] = made
            return redirect(with_next("two_factor_recovery_codes", request))
        form.add_error("code", WRONG_CODE)
    elif request.method == "POST" and ask_password and "password" not in form.errors:
        throttle.give_back(username, address)  # the password was right: no guess
    qr = segno.make(device.config_url, error="m").svg_inline(
        omitsize=True, svgclass="qr", title="QR code to scan with your authenticator app"
    )
    context = {
        "form": form,
        "next": next_url(request),
        "qr": mark_safe(qr),  # made here by segno from our own otpauth: URL
        "config_url": device.config_url,  # otpauth: opens the app on the phone itself
        "key_groups": codes.key_groups(device.bin_key),
        "two_factor_pending": access.two_factor_step(user) is not None,
    }
    return render(request, "cadre/two_factor_setup.html", context, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
@login_required
def recovery_codes(request):
    """New recovery codes are shown here once (after setting up, or when asked for: a POST
    makes a new set and the old ones stop working)."""
    state = queries.two_factor_of(request.user)
    if not state.on:
        messages.info(request, "Two-factor login is off: there are no recovery codes.")
        return redirect("my_profile")
    if request.method == "POST":
        request.session[SHOW_CODES] = services.new_recovery_codes(request.user, by=request.user)
        return redirect(with_next("two_factor_recovery_codes", request))
    made = request.session.pop(SHOW_CODES, None)
    context = {
        "codes": [codes.shown(c) for c in made] if made else None,
        "state": state,
        "next": next_url(request),
    }
    return render(request, "cadre/two_factor_recovery_codes.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
@login_required
def turn_off(request):
    """A negotiator who opted in (or anyone, when the setting is off) turns it off with a
    code; those the setting covers cannot."""
    if not queries.two_factor_on(request.user):
        messages.info(request, "Two-factor login is already off.")
        return redirect("my_profile")
    if not access.may_turn_off_two_factor(request.user):
        return render(request, "cadre/two_factor_off.html", {"refused": True}, status=403)
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        device, status = checked_device(request, form)
        if device is not None:
            services.turn_off_two_factor(request.user, by=request.user)
            messages.success(request, "Two-factor login is off: you log in with your password.")
            return redirect("my_profile")
    return render(request, "cadre/two_factor_off.html", {"form": form}, status=status)


@require_http_methods(["GET", "POST"])
@coordinator_required
def reset(request, pk):
    """A coordinator clears a member's two-factor login (a lost phone): ask first, then act
    on a confirmed POST. The member sets it up again at their next login."""
    negotiator = get_object_or_404(
        queries.with_login(access.negotiators(request.user, Can.EDIT_CADRE)), pk=pk
    )
    problem = access.two_factor_reset_problem(request.user, negotiator)
    state = queries.two_factor_of(negotiator.user)
    confirmed = request.method == "POST" and request.POST.get("confirm") == "yes"
    if confirmed and state.on and not problem:
        services.reset_two_factor(negotiator, by=request.user)
        messages.success(
            request,
            f"{negotiator.callsign}'s two-factor login is reset: they set it up again when "
            "they next log in.",
        )
        return redirect("negotiator_detail", pk=pk)
    context = {"negotiator": negotiator, "problem": problem, "state": state}
    return render(request, "cadre/two_factor_reset.html", context, status=403 if problem else 200)
