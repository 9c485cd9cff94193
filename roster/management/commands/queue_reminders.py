from django.core.management.base import BaseCommand

from roster.tasks import ensure_schedule, queue_reminders


class Command(BaseCommand):
    help = (
        "Queue due rota reminders in the outbox (safe to run twice); --schedule installs the job."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--schedule", action="store_true", help="also run it every 15 minutes under django-q2"
        )

    def handle(self, *args, schedule=False, **options):
        if schedule:
            ensure_schedule()
        self.stdout.write(f"Reminders queued: {queue_reminders()}")
