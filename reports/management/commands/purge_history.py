"""Strip message bodies, raw reply texts and phone numbers from old incidents.

    manage.py purge_history [--dry-run] [--years N]

Keeps incidents, callouts, deployments, the event log's lines and so every figure.
"""

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from reports import services


class Command(BaseCommand):
    help = "Remove message bodies, reply texts and phone numbers from incidents past retention."

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Print what would go; change nothing"
        )
        parser.add_argument(
            "--years",
            type=int,
            default=settings.HISTORY_RETENTION_YEARS,
            help="Retention in years (default HISTORY_RETENTION_YEARS, 7)",
        )

    def handle(self, *args, dry_run=False, years=None, **options):
        if years is None or years < 1:
            raise CommandError("Retention must be at least 1 year.")
        cutoff = timezone.now() - timedelta(days=round(365.25 * years))
        found = services.purge_history(cutoff, dry_run=dry_run, by=None)
        verb = "would strip" if dry_run else "stripped"
        self.stdout.write(
            f"Incidents raised before {cutoff:%Y-%m-%d} ({years} years): {found['incidents']} "
            f"incident(s); {verb} {found['messages']} message(s) of their text and numbers and "
            f"{found['events']} log line(s) of reply texts. The record and figures are kept."
        )
