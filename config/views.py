"""Pages that draw on every app. Each app supplies its own part of the dashboard."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from callouts.web.panels import dashboard_context as callouts_context
from reports.panels import dashboard_context as reports_context
from roster.views.dashboard import dashboard_context as roster_context


@login_required
def dashboard(request):
    context = {}
    context.update(roster_context(request))
    context.update(callouts_context(request))
    context.update(reports_context(request))
    return render(request, "dashboard.html", context)
