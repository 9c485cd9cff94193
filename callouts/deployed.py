"""Who went: the one definition, for every page, export, figure, the API and the demo.

Someone went when their deployment filled a place (a role), was not late (no place left)
and was not withdrawn (they replied N after accepting). `went` decides it for one
deployment's facts; `WENT` is the same rule as a filter on Deployment rows, for the lists
and counts that must not load every row (Deployment.objects.went() uses it).
tests/callouts/test_deployed.py checks that the two agree.

At the bottom of the house: it needs nothing but Django's Q.
"""

from datetime import datetime

from django.db.models import Q


def went(role: str, late: bool, withdrawn_at: datetime | None) -> bool:
    """A place filled, not late, not withdrawn."""
    return bool(role) and not late and withdrawn_at is None


# The same rule on Deployment rows (or through a relation: prefix the names yourself).
WENT = Q(late=False, withdrawn_at__isnull=True) & ~Q(role="")
