"""Demo data, deterministic and safe to run twice.

The cadre seeds itself; then every installed app that has a `demo` module with
a `seed()` function is called (with `stdout=` if it takes that argument), in
INSTALLED_APPS order, each in its own transaction. Cadre never imports the apps
built on it; they hook in this way.
"""

import importlib
import importlib.util
import inspect

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from cadre.demo import seed_cadre


def app_seeders():
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
            seed_cadre(timezone.localdate(), self.stdout)
        for label, seed in app_seeders():
            with transaction.atomic():
                # stdout is offered only to seeders that ask for it by name.
                if "stdout" in inspect.signature(seed).parameters:
                    seed(stdout=self.stdout)
                else:
                    seed()
            self.stdout.write(f"Demo data for {label}: done")
