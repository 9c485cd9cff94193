"""Pages that draw on every app. Each app supplies its own part of the dashboard."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from callouts.engine import watch
from callouts.web.panels import dashboard_context as callouts_context
from reports.panels import dashboard_context as reports_context
from roster.panels import dashboard_context as roster_context


@login_required
def dashboard(request):
    context = {}
    context.update(roster_context(request))
    context.update(callouts_context(request))
    context.update(reports_context(request))
    return render(request, "dashboard.html", context)


@never_cache
@require_GET
def healthz(request):
    """For a monitor or a load balancer: no login, no personal data. 503 when anything
    that callouts depend on has stopped; `live` is the web process and its database only."""
    now = timezone.now()
    state = watch.check(now)
    found = watch.problems(state, now)
    if request.GET.get("scope") == "live":
        found = {k: v for k, v in found.items() if k == "database"}
    age = (now - state.escalator_seen).total_seconds() if state.escalator_seen else None
    lag = (now - state.oldest_waiting).total_seconds() if state.oldest_waiting else 0
    body = {
        "status": "fail" if found else "ok",
        "problems": found,
        "database": "ok" if state.database else "fail",
        "escalator_last_tick_seconds_ago": round(age, 1) if age is not None else None,
        "queue_oldest_waiting_seconds": round(lag, 1),
        "provider": "failing" if state.provider_failing else "ok",
    }
    return JsonResponse(body, status=503 if found else 200)


def admin_login(request):
    """Where the admin sends whoever it does not let in: strangers to our (throttled) login
    page, anyone signed in who is not a superuser to a 403 page that says why."""
    if request.user.is_authenticated:
        raise PermissionDenied("The admin is for Standby's administrators (superusers) only.")
    query = f"?{request.GET.urlencode(safe='/')}" if request.GET else ""
    return redirect(reverse("login") + query)


def _api(request) -> bool:
    return request.path_info.startswith("/api/")


def bad_request(request, exception):
    if _api(request):
        return JsonResponse({"error": "Bad request"}, status=400)
    return defaults.bad_request(request, exception)


def permission_denied(request, exception):
    if _api(request):
        return JsonResponse({"error": "You may not do this"}, status=403)
    return defaults.permission_denied(request, exception)


def page_not_found(request, exception):
    if _api(request):
        return JsonResponse({"error": "No such endpoint or object"}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    if _api(request):
        return JsonResponse(
            {"error": "Something went wrong on our side; it has been logged"}, status=500
        )
    return defaults.server_error(request)
