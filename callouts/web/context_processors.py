"""Banners on every page of a coordinator or supervisor while callouts cannot work as they
should: the provider failing, or the escalator clock or the queue stopped. Nobody should
trust a board that cannot reach people."""

from django.utils import timezone

from callouts import queries
from callouts.engine import watch
from callouts.messaging import health


def provider(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not queries.can_manage(user):
        return {}
    now = timezone.now()
    state = watch.check(now)  # reads the provider's state too: not read a second time
    stopped = watch.problems(state, now)
    context = {"machinery_stopped": list(stopped.values())} if stopped else {}
    failing = state.provider_failing
    unknown = health.unknown_count()
    if failing is None and not unknown:
        return context
    context["provider_trouble"] = {
        "failing": failing,
        "waiting": health.waiting_count() if failing else 0,
        "unknown": unknown,
    }
    return context
