"""The configured gateway: settings.SMS_GATEWAY is "simulator" (default) or "twilio"."""

import threading

from django.conf import settings

from callouts.messaging.gateways.base import (
    AmbiguousError,
    Gateway,
    GatewayError,
    PermanentError,
    RejectedError,
    Sent,
    TemporaryError,
)

_local = threading.local()


def get_gateway() -> Gateway:
    """One gateway per thread (the Twilio client holds an HTTP session)."""
    key = (settings.SMS_GATEWAY, settings.TWILIO_API_BASE, settings.TWILIO_ACCOUNT_SID)
    cached = getattr(_local, "gateway", None)
    if cached is None or cached[0] != key:
        if settings.SMS_GATEWAY == "twilio":
            from callouts.messaging.gateways.twilio import TwilioGateway

            gateway = TwilioGateway()
        else:
            from callouts.messaging.gateways.simulator import SimulatorGateway

            gateway = SimulatorGateway()
        _local.gateway = cached = (key, gateway)
    return cached[1]


__all__ = [
    "AmbiguousError",
    "Gateway",
    "GatewayError",
    "PermanentError",
    "RejectedError",
    "Sent",
    "TemporaryError",
    "get_gateway",
]
