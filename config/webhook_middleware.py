"""Twilio's webhooks take a shorter way through the middleware than a person's pages.

A webhook is a signed form post from Twilio's servers: no session, no login, no second
factor, no messages, no htmx, no CSRF token (the views are csrf_exempt). Those layers
did nothing for it and cost about a tenth of the SMS webhook's CPU. So `WebhookShortcut`,
next after the request id in settings.MIDDLEWARE, sends a request under
settings.WEBHOOK_PREFIX through settings.WEBHOOK_MIDDLEWARE only: the layers that shape
what goes back (HTTPS redirect and HSTS, Content-Length, the security headers), each also
in MIDDLEWARE, in the same order. Everything else goes on down MIDDLEWARE as before.
No CSRF check runs on that way: every view under the prefix checks Twilio's signature
instead (callouts.web.webhooks.twilio_signed; a test holds each to it).
"""

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.core.handlers.base import BaseHandler
from django.core.handlers.exception import convert_exception_to_response
from django.utils.module_loading import import_string


class WebhookShortcut:
    def __init__(self, get_response):
        self.get_response = get_response
        self.prefix = settings.WEBHOOK_PREFIX
        self.webhook = WebhookHandler(settings.WEBHOOK_MIDDLEWARE).chain

    def __call__(self, request):
        if request.path_info.startswith(self.prefix):
            return self.webhook(request)
        return self.get_response(request)


class WebhookHandler(BaseHandler):
    """Django's own request handling (URL resolving, the view, errors turned into
    responses) behind a middleware list of its own; synchronous, as WSGI serves it."""

    def __init__(self, middleware_paths):
        self._view_middleware = []
        self._template_response_middleware = []
        self._exception_middleware = []
        handler = convert_exception_to_response(self._get_response)
        for path in reversed(middleware_paths):
            try:
                middleware = import_string(path)(handler)
            except MiddlewareNotUsed:
                continue
            if hasattr(middleware, "process_view"):
                self._view_middleware.insert(0, middleware.process_view)
            if hasattr(middleware, "process_template_response"):
                self._template_response_middleware.append(middleware.process_template_response)
            if hasattr(middleware, "process_exception"):
                self._exception_middleware.append(middleware.process_exception)
            handler = convert_exception_to_response(middleware)
        self.chain = handler
