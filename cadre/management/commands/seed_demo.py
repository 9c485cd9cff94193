"""Demo data, deterministic and safe to run twice.

Every app with a `demo` module seeds its own data with `demo.seed(stdout)`: the
cadre first, then the others in INSTALLED_APPS order, each in its own
transaction. Cadre never imports the apps built on it; they hook in this way.
"""

import importlib
import importlib.util

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from cadre import demo


def app_seeders():
    """(app label, its demo.seed) for every app after the cadre that has one."""
    for config in apps.get_app_configs():
        if config.name == "cadre":
            continue
        module_name = f"{config.name}.demo"
        if importlib.util.find_spec(module_name) is None:
            continue
        seed = getattr(importlib.import_module(module_name), "seed", None)
        if callable(seed):
            yield config.label, seed


class Command(BaseCommand):
    help = "Create the demo cadre and logins, then each app's demo data (safe to run twice)."

    def handle(self, *args, **options):
        with transaction.atomic():
            demo.seed(self.stdout)
        for label, seed in app_seeders():
            with transaction.atomic():
                seed(self.stdout)
            self.stdout.write(f"Demo data for {label}: done")
