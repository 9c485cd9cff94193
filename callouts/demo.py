"""Demo data for callouts: the default escalation policy for every demo force.

Called by `manage.py seed_demo` (the foundation's hook); safe to run twice.
"""

from cadre.models import Force
from callouts.engine.policy import create_default_policy


def seed(stdout):
    forces = list(Force.objects.all())
    for force in forces:
        create_default_policy(force)
    stdout.write(f"Escalation policy “Standard” for {len(forces)} force(s)")
