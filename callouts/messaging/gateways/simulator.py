"""The local gateway: nothing leaves the machine. Sending saves state only.

Messages get a provider-like sid ("SM…" or "CA…"); an SMS then moves on to
"delivered" as a status callback would. The phones page shows Message rows,
and its replies and keypresses go through the signed webhooks.
"""

import uuid

from callouts.messaging.gateways.base import Gateway, Sent


class SimulatorGateway(Gateway):
    def send_sms(self, message) -> Sent:
        return Sent("SM" + uuid.uuid4().hex, "sent")

    def place_call(self, message) -> Sent:
        return Sent("CA" + uuid.uuid4().hex, "ringing")

    def after_send(self, message):
        if message.channel == "sms":
            from callouts.messaging import status

            status.apply(message.provider_sid, "delivered", message_id=message.pk)
