from django.db import migrations


def schedule(apps, schema_editor):
    # Every 15 minutes, under django-q2's scheduler; queue_reminders is idempotent.
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name="roster: queue reminders",
        defaults={"func": "roster.tasks.queue_reminders", "schedule_type": "I", "minutes": 15},
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name="roster: queue reminders").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("roster", "0002_rules_rotations_audit_swaps_feeds_reminders"),
        ("django_q", "__latest__"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
