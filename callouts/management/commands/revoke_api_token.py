from django.core.management.base import BaseCommand, CommandError

from callouts.web import tokens


class Command(BaseCommand):
    help = "Revoke the API token(s) with this prefix (the 8 characters after 'sby_')."

    def add_arguments(self, parser):
        parser.add_argument("prefix")

    def handle(self, *args, prefix, **options):
        count = tokens.revoke(prefix)
        if not count:
            raise CommandError(f"No live token with prefix {prefix!r}")
        self.stdout.write(f"Revoked {count} token(s).")
