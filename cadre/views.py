from django.contrib.auth import views as auth_views
from django.shortcuts import render

from cadre.access import cadre_viewer_required
from cadre.models import Negotiator


class ThrottledLoginView(auth_views.LoginView):
    pass


@cadre_viewer_required
def cadre_list(request):
    negotiators = Negotiator.objects.select_related("force").order_by("callsign")
    return render(request, "cadre/list.html", {"negotiators": negotiators})
