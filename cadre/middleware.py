"""Pages about one force ask a login holding several which one (access.ChooseForce)."""

from urllib.parse import urlencode

from django.shortcuts import render

from cadre.access import ChooseForce


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
