"""Pages that draw on every app. Each app supplies its own part of the dashboard."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse

from callouts.web.panels import dashboard_context as callouts_context
from roster.views.dashboard import dashboard_context as roster_context


@login_required
def dashboard(request):
    context = {}
    context.update(roster_context(request))
    context.update(callouts_context(request))
    return render(request, "dashboard.html", context)


def admin_login(request):
    """Where the admin sends whoever it does not let in: strangers to our (throttled) login
    page, anyone signed in who is not a superuser to a 403 page that says why."""
    if request.user.is_authenticated:
        raise PermissionDenied("The admin is for Standby's administrators (superusers) only.")
    query = f"?{request.GET.urlencode(safe='/')}" if request.GET else ""
    return redirect(reverse("login") + query)
