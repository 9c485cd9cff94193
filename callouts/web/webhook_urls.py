"""Twilio's webhooks, under /twilio/ (configure these in the Twilio console)."""

from django.urls import path

from callouts.web import webhooks

urlpatterns = [
    path("sms/", webhooks.sms, name="twilio_sms"),
    # As the Twilio console may be given it: Django cannot redirect a POST to the slash.
    path("sms", webhooks.sms),
    path("status/", webhooks.status_callback, name="twilio_status"),
    path("voice/<int:pk>/", webhooks.call, name="twilio_voice"),
    path("voice/<int:pk>/key/", webhooks.keypress, name="twilio_voice_key"),
]
