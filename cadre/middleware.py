"""Pages about one force ask a login holding several which one (access.ChooseForce); a login
that still owes its second factor is sent to enter a code or set up an authenticator first."""

from urllib.parse import urlencode

from django.shortcuts import redirect, render
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect

from cadre import access
from cadre.access import ChooseForce

# Left alone by TwoFactorMiddleware: the steps of logging in and out, and what does not log
# in with a session at all (static files, monitors, Twilio's signed webhooks, the API's
# bearer tokens, the calendar feeds' secret addresses).
TWO_FACTOR_EXEMPT = (
    "/login/",
    "/logout/",
    "/two-factor/code/",
    "/two-factor/setup/",
    "/static/",
    "/healthz/",
    "/twilio/",
    "/api/",
    "/rota/feed/",
)


class TwoFactorMiddleware:
    """After django_otp's OTPMiddleware: a signed-in login whose second factor is owed
    (access.two_factor_step) reaches no page but the code or set-up page, then goes on to
    where it was going."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path_info.startswith(TWO_FACTOR_EXEMPT):
            step = access.two_factor_step(request.user)
            if step is not None:
                return self.send_to(request, step)
        return self.get_response(request)

    def send_to(self, request, step):
        page = reverse("two_factor_code" if step == access.CODE else "two_factor_setup")
        if request.htmx:
            # A polled partial: the whole page goes, and comes back to the page, not the part.
            going = request.htmx.current_url_abs_path or "/"
            return HttpResponseClientRedirect(f"{page}?{urlencode({'next': going})}")
        going = request.get_full_path() if request.method == "GET" else "/"
        return redirect(f"{page}?{urlencode({'next': going})}")


class ChooseForceMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, ChooseForce):
            return None
        params = request.GET.copy()
        params.pop("force", None)
        links = [
            (force, f"{request.path}?{urlencode({**params.dict(), 'force': force.code})}")
            for force in exception.choices
        ]
        return render(request, "cadre/choose_force.html", {"links": links})
