"""The control-room JSON API, authenticated by bearer tokens only.

No session cookies are read here, so CSRF does not apply (csrf_exempt).
"""

import calendar
import json
import re
from datetime import UTC, datetime
from functools import wraps

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, ValidationError
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from cadre import access
from cadre import queries as cadre_queries
from cadre.access import Can
from cadre.models import Role
from cadre.rules import local_tz
from callouts import queries, rules, services
from callouts.web import tokens
from roster.queries import on_call


def error(status, message, **extra):
    response = JsonResponse({"error": message, **extra}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="standby"'
    return response


def invalid(errors: dict):
    return error(400, "Invalid input", errors=errors)


def api_view(methods, manager=False, params=()):
    """Bearer token required (401 otherwise); `manager`: a coordinator or supervisor of some
    force (403); what they may touch there is scoped per endpoint (cadre.access). A query
    parameter not in `params` is refused (400), not ignored: `?time=` for `?at=` would
    otherwise answer for now, silently (`params=None`: not looked at)."""

    def decorator(view):
        @csrf_exempt
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            scheme, _, token = request.headers.get("Authorization", "").partition(" ")
            user = tokens.authenticate(token.strip()) if scheme.lower() == "bearer" else None
            if user is None:
                return error(401, "A valid bearer token is required")
            if request.method not in methods:
                response = error(405, f"Use {' or '.join(methods)}")
                response["Allow"] = ", ".join(methods)
                return response
            if manager and not queries.can_manage(user):
                return error(403, "Only coordinators and supervisors may do this")
            request.user = user
            try:
                request.body  # noqa: B018  (read now: too large is our answer, in JSON)
            except RequestDataTooBig:
                return error(413, "The request body is too large")
            try:
                unknown = params is not None and unknown_names(request.GET, params, "parameter")
            except TooManyFieldsSent:
                return invalid({"query": "Too many query parameters"})
            if unknown:
                return invalid(unknown)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def unknown_names(given, known, what):
    """A message for each name in `given` that is not `known`."""
    takes = f"this takes {', '.join(known)}" if known else "this takes none"
    return {name: f"Unknown {what} ({takes})" for name in given if name not in known}


def iso(moment):
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z") if moment else None


class NotYourForce(Exception):
    """The request names a force the token's user holds no role in for it: 403."""


class NoForce(Exception):
    """The token's user holds no role (for this) in any force: 403."""

    message = "Your login belongs to no force: ask an administrator to give it a role in one"


def pick_force(user, code, action=Can.MANAGE_INCIDENTS):
    """The force the request is about, among the token user's for `action`: `code` if given,
    else their only one. Returns (force, problem); a force that is not theirs raises
    NotYourForce."""
    forces = list(access.forces(user, action))
    if code:
        found = [f for f in forces if f.code.lower() == str(code).lower()]
        if found:
            return found[0], None
        if cadre_queries.force_exists(code):
            raise NotYourForce(str(code))
        return None, f"Unknown force {code!r}"
    if len(forces) == 1:
        return forces[0], None
    if not forces:
        raise NoForce()
    return None, "Say which force, by code (you work for several)"


INCIDENT_FIELDS = ("kind", "location", "rendezvous", "brief", "needs", "policy", "force")


def incident_arguments(request, data):
    """Checked arguments for services.raise_incident, or a dict of per-field errors. A field
    not in INCIDENT_FIELDS is an error: "neds" must not quietly mean the default needs."""
    errors = unknown_names(data, INCIDENT_FIELDS, "field")
    fields = {name: data.get(name) for name in ("kind", "location", "rendezvous", "brief")}
    try:
        fields = rules.clean_incident(**fields)
    except ValidationError as e:
        errors.update({f: " ".join(m) for f, m in e.message_dict.items()})
    needs = None
    if data.get("needs") is not None:
        try:
            needs = rules.clean_needs(data["needs"])
        except ValidationError as e:
            errors["needs"] = " ".join(e.message_dict["needs"])
    code = data.get("force")
    if isinstance(code, str | None):
        force, problem = pick_force(request.user, code)
    else:
        force, problem = None, "Give the force's code"
    if problem:
        errors["force"] = problem
    # An empty name means the default, as an empty force code means the only force.
    policy = data.get("policy") if data.get("policy") != "" else None
    if policy is not None and force is not None:
        if not isinstance(policy, str):
            errors["policy"] = "Give the policy's name"
        elif not queries.policy_exists(force, policy):
            errors["policy"] = f"No policy called {policy!r}"
    if errors:
        return None, errors
    return {**fields, "force": force, "needs": needs, "policy": policy}, None


def username(user):
    return user.get_username() if user is not None else None


def incident_summary(incident):
    return {"id": incident.pk, "reference": incident.reference, "status": incident.status}


@api_view(["POST"], manager=True)
def incidents(request):
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError, RecursionError):
        # RecursionError: JSON nested thousands deep is not an incident, and must not be a 500.
        return invalid({"body": "Send a JSON object"})
    if not isinstance(data, dict):
        return invalid({"body": "Send a JSON object"})
    try:
        arguments, errors = incident_arguments(request, data)
    except NotYourForce as e:
        return error(403, f"You hold no role in {e} for this")
    except NoForce as e:
        return error(403, e.message)
    if errors:
        return invalid(errors)
    try:
        incident = services.raise_incident(**arguments, by=request.user)
    except ValidationError as e:
        if hasattr(e, "error_dict"):
            return invalid({f: " ".join(m) for f, m in e.message_dict.items()})
        return invalid({"body": " ".join(e.messages)})
    return JsonResponse(incident_summary(incident), status=201)


def managed_incident(request, pk):
    return queries.managed_incident(request.user, pk)


@api_view(["GET"], manager=True)
def incident_detail(request, pk):
    incident = managed_incident(request, pk)
    if incident is None:
        return error(404, "No such incident")
    summary = queries.board_for(incident, user=request.user)
    return JsonResponse(
        {
            **incident_summary(incident),
            "kind": incident.kind,
            "location": incident.location,
            "raised_at": iso(incident.raised_at),
            "filled_at": iso(incident.filled_at),
            "stood_down_at": iso(incident.stood_down_at),
            "stood_down_by": username(incident.stood_down_by),
            "closed_at": iso(incident.closed_at),
            "closed_by": username(incident.closed_by),
            "step": incident.step_index + 1,
            "next_step_at": iso(incident.next_step_at),
            "needs": {r.role: {"needed": r.needed, "filled": r.filled} for r in summary.roles},
            "asked": [
                {
                    "callsign": row.callsign,
                    "asked_for": list(row.asked_roles),
                    "role": row.role or None,
                    "went": row.went,
                    "state": row.state,
                    "late": row.late,
                    "eta_minutes": row.eta_minutes,
                    "eta_at": iso(row.eta_at),
                    "asked_at": iso(row.asked_at),
                    "answered_at": iso(row.answered_at),
                    "accepted_at": iso(row.accepted_at),
                    "arrived_at": iso(row.arrived_at),
                    "stood_down_at": iso(row.stood_down_at),
                    "unreachable_on": list(row.unreachable_on),
                    "keyword": row.keyword or None,
                    "texts_stopped": row.texts_stopped,
                    "note": row.note or None,
                }
                for row in summary.rows
            ],
        }
    )


@api_view(["POST"], manager=True)
def incident_stand_down(request, pk):
    incident = managed_incident(request, pk)
    if incident is None:
        return error(404, "No such incident")
    services.stand_down(incident, by=request.user)
    incident.refresh_from_db()
    return JsonResponse(incident_summary(incident))


def _at_pattern():
    """ISO 8601 as a control room writes it: a real day from 1900 to 2200, hours and minutes,
    seconds and a fraction optional, then Z, an offset, or nothing (TIME_ZONE's clock). A space
    stands for the plus of an offset that was not URL-encoded."""
    # [0-9], not \d: Python's \d takes any script's digits, ECMA-262's only these.
    year = r"(?:19[0-9]{2}|2[01][0-9]{2}|2200)"
    leap = "|".join(str(y) for y in range(1900, 2201) if calendar.isleap(y))
    day = (
        r"(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])"
        r"|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)|02-(?:0[1-9]|1[0-9]|2[0-8]))"
    )
    hour = r"(?:[01][0-9]|2[0-3])"
    time = rf"{hour}:[0-5][0-9](?::[0-5][0-9](?:\.[0-9]{{1,6}})?)?"
    return rf"^(?:{year}-{day}|(?:{leap})-02-29)T{time}(?:Z|[+\- ]{hour}:[0-5][0-9])?$"


AT_PATTERN = _at_pattern()


def parse_at(raw):
    """A moment written as AT_PATTERN says (now when absent), or None."""
    if raw is None:
        return timezone.now()
    if not re.fullmatch(AT_PATTERN, raw):
        return None
    moment = datetime.fromisoformat(raw.replace(" ", "+"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=local_tz())
    # In UTC before any query: PostgreSQL refuses offsets past ±15:59, which ISO allows.
    return moment.astimezone(UTC)


@api_view(["GET", "POST", "PUT", "PATCH", "DELETE"], params=None)
def not_found(request, rest=""):
    """Any other /api/ address: JSON like the rest of the API, never an HTML page (and, as
    everywhere under /api/, nothing at all without a token)."""
    return error(404, "No such endpoint or object")


@api_view(["GET"], params=("at", "force"))
def oncall(request):
    at = parse_at(request.GET.get("at"))
    if at is None:
        return invalid(
            {"at": "Give a date and time from 1900 to 2200, e.g. 2026-03-29T01:30:00+00:00"}
        )
    try:
        force, problem = pick_force(request.user, request.GET.get("force"), Can.READ_ON_CALL)
    except NotYourForce as e:
        return error(403, f"You hold no role in {e}")
    except NoForce as e:
        return error(403, e.message)
    if problem:
        return invalid({"force": problem})
    people = on_call(force, at)
    return JsonResponse(
        {
            "at": iso(at),
            "force": force.code,
            "on_call": {role: [n.callsign for n in people.get(role, [])] for role in Role.values},
        }
    )
