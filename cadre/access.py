"""Who may see and do what. Groups are the roles of the people using Standby."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

COORDINATOR = "Coordinator"
SUPERVISOR = "Supervisor"
NEGOTIATOR = "Negotiator"
GROUPS = (COORDINATOR, SUPERVISOR, NEGOTIATOR)


def in_group(user, *names) -> bool:
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    cached = getattr(user, "_standby_groups", None)
    if cached is None:
        cached = set(user.groups.values_list("name", flat=True))
        user._standby_groups = cached
    return bool(cached.intersection(names))


def is_coordinator(user) -> bool:
    return in_group(user, COORDINATOR)


def is_supervisor(user) -> bool:
    return in_group(user, SUPERVISOR)


def can_view_cadre(user) -> bool:
    return in_group(user, COORDINATOR, SUPERVISOR)


def require_group(*names):
    """Login required, then 403 unless the user is in one of the groups."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(request, *args, **kwargs):
            if not in_group(request.user, *names):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


coordinator_required = require_group(COORDINATOR)
cadre_viewer_required = require_group(COORDINATOR, SUPERVISOR)
