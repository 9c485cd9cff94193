from cadre import access
from cadre.queries import negotiator_for


def roles(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "is_coordinator": access.is_coordinator(user),
        "is_supervisor": access.is_supervisor(user),
        "can_view_cadre": access.can_view_cadre(user),
        "can_use_simulator": access.may(user, access.Can.USE_SIMULATOR),
        "my_negotiator": negotiator_for(user),
    }
