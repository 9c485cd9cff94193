from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create the demo force, cadre and logins (safe to run twice)."

    def handle(self, *args, **options):
        self.stdout.write("Demo data: nothing yet")
