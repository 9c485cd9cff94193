from django import template
from django.conf import settings
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import format_html_join

from cadre.models import Role
from callouts import board

register = template.Library()


@register.filter
def duration(delta):
    return board.duration(delta)


@register.filter
def asked_items(rows):
    """The incident list's "Asked" details, a <li> a person: one filter, where a template
    loop for each of the 1,200 people on a page of history was a third of its time."""
    return format_html_join(
        "",
        "<li>{}: {}{}{}</li>",
        (
            (
                row.callsign,
                str(row.state_label).lower(),
                " (late)" if row.late else "",
                f" after {duration(row.response_time)}" if row.response_time else "",
            )
            for row in rows
        ),
    )


@register.filter
def stamp(moment):
    """A message's time, London time: "19:48:05" today, "Sat 5 Dec 19:48:05" another day (a
    callout from days ago must not look current)."""
    if moment is None:
        return ""
    local = timezone.localtime(moment)
    if local.date() == timezone.localdate():
        return date_format(local, "H:i:s")
    return date_format(local, "D j M H:i:s")


@register.filter
def shortfall(needs):
    """Board.short in words: "2 negotiators and 1 coordinator"."""
    parts = [
        f"{need.missing} {role_label(need.role).lower()}{'s' if need.missing != 1 else ''}"
        for need in needs
    ]
    if len(parts) < 2:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


@register.filter
def role_label(role):
    try:
        return Role(role).label
    except ValueError:
        return role


@register.simple_tag
def simulator_enabled() -> bool:
    return settings.SMS_GATEWAY == "simulator"
