from django.db import migrations


def unschedule(apps, schema_editor):
    # The escalator clock queues reminders now (config/jobs.py): one clock, not two.
    apps.get_model("django_q", "Schedule").objects.filter(name="roster: queue reminders").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("roster", "0005_drop_rota_time_zone"),
        ("django_q", "__latest__"),
    ]

    operations = [migrations.RunPython(unschedule, migrations.RunPython.noop)]
