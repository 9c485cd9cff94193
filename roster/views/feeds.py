"""Calendar feeds (iCalendar), authenticated by the secret in the URL alone.

They carry callsigns and roles only: a calendar app syncs them to places we
do not control, so no names, mobiles or unavailability reasons.
"""

from datetime import timedelta

from django.http import Http404, HttpResponse
from django.utils import timezone
from icalendar import Calendar, Event

from cadre import access
from cadre.access import Can
from cadre.queries import negotiator_for
from cadre.rules import local_tz
from roster import queries

HISTORY = timedelta(days=60)


def calendar(name, shifts) -> bytes:
    tz = local_tz()
    cal = Calendar()
    cal.add("prodid", "-//Standby//Rota//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", str(tz))
    for s in shifts:
        event = Event()
        event.add("uid", f"shift-{s.pk}@standby")
        event.add("summary", f"On call: {s.negotiator.callsign} ({s.get_role_display()})")
        event.add("dtstart", s.start.astimezone(tz))
        event.add("dtend", s.end.astimezone(tz))
        event.add("dtstamp", s.created_at)
        cal.add_component(event)
    cal.add_missing_timezones()
    return cal.to_ical()


def token_owner(token):
    user = queries.feed_owner(token)
    if user is None:
        raise Http404
    return user


def respond(body):
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, max-age=300"
    return response


def mine(request, token):
    user = token_owner(token)
    negotiator = negotiator_for(user)
    if negotiator is None:
        raise Http404
    shifts = queries.feed_shifts(timezone.now() - HISTORY, negotiator=negotiator)
    return respond(calendar(f"Standby: {negotiator.callsign}", shifts))


def whole_rota(request, token):
    """The whole rota of every force the token's owner coordinates (one calendar)."""
    user = token_owner(token)
    forces = list(access.forces(user, Can.EDIT_ROTA))
    if not forces:
        raise Http404
    shifts = queries.feed_shifts(timezone.now() - HISTORY, forces=forces)
    return respond(calendar(f"Standby rota: {', '.join(f.code for f in forces)}", shifts))
