"""Every change to a model has its migration: branches merged side by side each add one, and
a choice list two of them extend is only complete in a third."""

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_it_has_a_migration_for_every_model_change():
    # --check exits (SystemExit) when a migration is missing; --dry-run writes nothing.
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)
