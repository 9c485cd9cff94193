from django import template
from django.conf import settings

from cadre.models import Role
from callouts import board

register = template.Library()


@register.filter
def duration(delta):
    return board.duration(delta)


@register.filter
def role_label(role):
    try:
        return Role(role).label
    except ValueError:
        return role


@register.simple_tag
def simulator_enabled() -> bool:
    return settings.SMS_GATEWAY == "simulator"
