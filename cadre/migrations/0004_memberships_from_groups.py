"""Bring every login over from the global groups to memberships, then retire the groups.

A login with a negotiator record gets a membership in that record's force, with the
roles its groups gave it (at least "negotiator"). A login in a group without a
record gets a membership only when there is exactly one force, so nothing is ever
guessed; otherwise a superuser gives it its forces in the admin. The groups are
then deleted: memberships are the one place roles live. Reversing recreates the
groups from the memberships.
"""

from django.db import migrations

GROUP_ROLES = {"Coordinator": "coordinator", "Supervisor": "supervisor", "Negotiator": "negotiator"}
FIELDS = {
    "coordinator": "is_coordinator",
    "supervisor": "is_supervisor",
    "negotiator": "is_negotiator",
}


def forward(apps, schema_editor):
    User = apps.get_model("auth", "User")
    Group = apps.get_model("auth", "Group")
    Force = apps.get_model("cadre", "Force")
    Negotiator = apps.get_model("cadre", "Negotiator")
    Membership = apps.get_model("cadre", "Membership")
    forces = list(Force.objects.all()[:2])
    only_force = forces[0] if len(forces) == 1 else None
    records = dict(Negotiator.objects.filter(user__isnull=False).values_list("user_id", "force_id"))
    for user in User.objects.all():
        roles = {
            GROUP_ROLES[name]
            for name in user.groups.values_list("name", flat=True)
            if name in GROUP_ROLES
        }
        force_id = records.get(user.pk)
        if force_id is not None:
            roles = roles or {"negotiator"}
        elif roles and only_force is not None:
            force_id = only_force.pk
        if force_id is None or not roles:
            continue
        membership = Membership.objects.filter(user=user, force_id=force_id).first()
        membership = membership or Membership(user=user, force_id=force_id)
        for role in roles:
            setattr(membership, FIELDS[role], True)
        membership.save()
    Group.objects.filter(name__in=GROUP_ROLES).delete()


def backward(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Membership = apps.get_model("cadre", "Membership")
    for name, role in GROUP_ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        users = Membership.objects.filter(**{FIELDS[role]: True}).values_list("user_id", flat=True)
        group.user_set.add(*set(users))


class Migration(migrations.Migration):
    dependencies = [("cadre", "0003_memberships")]

    operations = [migrations.RunPython(forward, backward)]
