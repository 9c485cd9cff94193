from cadre.queries import negotiator_for
from callouts import queries


def dashboard_context(request) -> dict:
    """What the dashboard shows about incidents (templates/callouts/_dashboard.html)."""
    manager = queries.can_manage(request.user)
    live = queries.live_incidents(request.user, 20)
    if manager:
        boards = queries.boards_for(live, user=request.user)
    else:
        own = negotiator_for(request.user)
        boards = {i.pk: queries.board_for(i, only_negotiator=own) for i in live}
    return {
        "live_incidents": [{"incident": i, "board": boards[i.pk]} for i in live],
        "can_raise": manager,
    }
