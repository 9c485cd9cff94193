from django.core.management.base import BaseCommand

from roster import services


class Command(BaseCommand):
    help = (
        "Queue due rota reminders in the outbox now (safe to run twice). The escalator clock "
        "does this every 15 minutes (config/jobs.py)."
    )

    def handle(self, *args, **options):
        self.stdout.write(f"Reminders queued: {services.queue_reminders(by=None)}")
