"""Log in and change a password, both throttled. Logout is Django's own view.

After the password, TwoFactorMiddleware (cadre/middleware.py) asks for a code where one is
needed (cadre/twofactor_views.py).
"""

import logging
import time

from django.contrib.auth import views as auth_views

from cadre import throttle

log = logging.getLogger("standby.security")


class ThrottledLoginView(auth_views.LoginView):
    # redirect_authenticated_user stays off: a logged-in non-staff user sent here
    # by the admin would otherwise bounce between the two pages for ever.

    def post(self, request, *args, **kwargs):
        username = request.POST.get("username", "")
        address = throttle.client_address(request)
        minutes = throttle.attempt(username, address)
        if minutes:
            # Refused before the password is checked, so a blocked caller learns nothing.
            log.warning("Login refused (throttled): username=%r address=%s", username, address)
            form = self.get_form_class()(request, initial={"username": username})
            context = self.get_context_data(form=form, throttled_minutes=minutes)
            return self.render_to_response(context, status=429)
        # Counted already (throttle.attempt): a wrong password stays counted.
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        throttle.succeeded(
            self.request.POST.get("username", ""), throttle.client_address(self.request)
        )
        response = super().form_valid(form)
        password_entered(self.request)
        return response


PASSWORD_AT = "standby_password_at"


def password_entered(request) -> None:
    """Remember when the password was last typed in this session (setting up two-factor
    login asks for it again when that was long ago: a session left open is not enough)."""
    request.session[PASSWORD_AT] = int(time.time())


def password_entered_within(request, seconds: int) -> bool:
    return time.time() - request.session.get(PASSWORD_AT, 0) <= seconds


class ThrottledPasswordChangeView(auth_views.PasswordChangeView):
    """Guessing the old password from a session left open is throttled like logging in."""

    success_url = "/password/done/"

    def post(self, request, *args, **kwargs):
        username = request.user.get_username()
        minutes = throttle.attempt(username, "")
        if minutes:
            log.warning("Password change refused (throttled): username=%r", username)
            context = self.get_context_data(throttled_minutes=minutes)
            return self.render_to_response(context, status=429)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        if "old_password" not in form.errors:  # the old password was right: no guess
            throttle.give_back(self.request.user.get_username(), "")
        return super().form_invalid(form)

    def form_valid(self, form):
        throttle.succeeded(self.request.user.get_username(), "")
        return super().form_valid(form)
