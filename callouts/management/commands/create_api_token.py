from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from callouts.web import tokens


class Command(BaseCommand):
    help = "Create a control-room API token for USERNAME and print it (shown only this once)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="What the token is for, e.g. 'Control room'")

    def handle(self, *args, username, name, **options):
        try:
            user = get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"No user called {username!r}") from None
        record, token = tokens.create(user, name=name)
        self.stderr.write(
            f"Token {record.prefix} for {username} created. Keep it safe: it is not shown again."
        )
        self.stdout.write(token)
