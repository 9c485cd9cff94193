"""The provider banner: on every page of a coordinator or supervisor while sending is in
trouble, so that nobody trusts a board that cannot reach people."""

from callouts import queries
from callouts.messaging import health


def provider(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not queries.can_manage(user):
        return {}
    failing = health.current()
    unknown = health.unknown_count()
    if failing is None and not unknown:
        return {}
    return {
        "provider_trouble": {
            "failing": failing,
            "waiting": health.waiting_count() if failing else 0,
            "unknown": unknown,
        }
    }
