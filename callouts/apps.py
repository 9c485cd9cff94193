from django.apps import AppConfig


class CalloutsConfig(AppConfig):
    name = "callouts"
    verbose_name = "Incidents and callouts"

    def ready(self):
        # Load the sending path (the Twilio SDK's modules included) now, once, so
        # that qcluster's forked workers inherit it instead of 60 sending threads
        # queueing on the import lock the first time a step fires.
        from callouts.messaging import sending  # noqa: F401
        from callouts.messaging.gateways import twilio  # noqa: F401
        from config import jobs

        jobs.connect_worker_start()
