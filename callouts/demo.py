"""Demo data for callouts: the default escalation policy for every demo force.

Called by `manage.py seed_demo` (the foundation's hook); safe to run twice.
"""

from cadre.models import Force
from callouts.policy import create_default_policy


def seed(forces=None):
    for force in forces if forces is not None else Force.objects.all():
        create_default_policy(force)
