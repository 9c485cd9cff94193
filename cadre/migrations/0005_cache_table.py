from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    # The login-throttle counters live in Django's database cache unless REDIS_URL is
    # set (config/settings.py): its table is made here so that no one has to remember
    # `createcachetable`. With another cache backend this does nothing.
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("cadre", "0004_memberships_from_groups")]

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
