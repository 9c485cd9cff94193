"""The control-room API described as OpenAPI 3.1 (served at /api/openapi.json)."""

from django.http import JsonResponse

from cadre.models import Role
from callouts import rules
from callouts.board import STATE_LABELS
from callouts.models import Incident, IncidentKind
from callouts.web.api import AT_PATTERN, api_view

ERROR = {"$ref": "#/components/schemas/Error"}
# What each error status means, for every operation that can answer it.
DESCRIBED = {
    "400": "Invalid input, or a field or query parameter this does not take: `errors` has "
    "a message for each",
    "401": "Missing, unknown or revoked token (with `WWW-Authenticate: Bearer`)",
    "403": "The token's user holds no role for this in that force (or any force)",
    "404": "No such incident (or not your force's)",
    "413": "The request body is larger than the server takes",
}


def responses(ok_code, ok_schema, *codes, ok="OK", links=None):
    result = {ok_code: {"description": ok, "content": json_of(ok_schema)}}
    if links:
        result[ok_code]["links"] = links
    for code in ("400", *codes, "401", "413"):
        result[code] = {"description": DESCRIBED[code], "content": json_of(ERROR)}
    return result


def json_of(schema):
    return {"application/json": {"schema": schema}}


def ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema):
    return {**schema, "type": [schema["type"], "null"]}


def text(limit, description, pattern=rules.TEXT_PATTERN):
    return {"type": "string", "maxLength": limit, "pattern": pattern, "description": description}


def closed(properties, required=None):
    """An object with exactly these properties (all of them, unless `required` says which):
    an answer that gains or loses a key no longer matches its document."""
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
        "additionalProperties": False,
    }


def by_id(operation):
    return {"operationId": operation, "parameters": {"id": "$response.body#/id"}}


ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
COUNT = {"type": "integer", "minimum": 0, "maximum": rules.MAX_PER_ROLE}
NEEDS = {
    "type": ["object", "null"],
    "properties": dict.fromkeys(Role.values, COUNT),
    "additionalProperties": False,
    # At least one person in all: some role asked for one or more.
    "anyOf": [{"required": [role], "properties": {role: {"minimum": 1}}} for role in Role.values],
    "description": "People needed per role (roles asked for 0 are left out; at least one "
    "person in all). Absent or null: the policy's own needs",
    "example": {"negotiator": 2, "coordinator": 1},
}
TIME = {"type": ["string", "null"], "format": "date-time"}
ROLE = {"type": "string", "enum": Role.values}
SUMMARY = {
    "id": {"type": "integer", "minimum": 1},
    "reference": {"type": "string"},
    "status": {"type": "string", "enum": Incident.Status.values},
}
FORCE_CODE = {
    "type": ["string", "null"],
    "description": "Force code; required when the token's user belongs to several (never "
    "guessed). A force that is not theirs: 403",
}

DOCUMENT = {
    "openapi": "3.1.0",
    "info": {
        "title": "Standby control-room API",
        "version": "1.0",
        "description": "Raise and follow negotiator callouts. Send `Authorization: Bearer "
        "<token>` (from `manage.py create_api_token USERNAME`). Times are UTC. Every answer "
        "is JSON, errors an `Error`: a method an address does not take is 405 with `Allow`, "
        "and any other address under /api/ is 404.",
    },
    "servers": [{"url": "/"}],
    "security": [{"bearer": []}],
    "paths": {
        "/api/incidents/": {
            "post": {
                "summary": "Raise an incident; escalation starts at once",
                "operationId": "raiseIncident",
                "requestBody": {"required": True, "content": json_of(ref("NewIncident"))},
                "responses": responses(
                    "201",
                    ref("IncidentSummary"),
                    "403",
                    ok="Raised",
                    links={"getIncident": by_id("getIncident"), "standDown": by_id("standDown")},
                ),
            }
        },
        "/api/incidents/{id}/": {
            "get": {
                "summary": "An incident's status, needs and everyone asked",
                "operationId": "getIncident",
                "parameters": [ID],
                "responses": responses("200", ref("Incident"), "403", "404"),
            }
        },
        "/api/incidents/{id}/stand-down/": {
            "post": {
                "summary": "Stand the incident down; everyone asked is told (again: no change)",
                "operationId": "standDown",
                "parameters": [ID],
                "responses": responses(
                    "200",
                    ref("IncidentSummary"),
                    "403",
                    "404",
                    links={"getIncident": by_id("getIncident")},
                ),
            }
        },
        "/api/oncall/": {
            "get": {
                "summary": "Who is on call, by role (callsigns only)",
                "operationId": "onCall",
                "parameters": [
                    {
                        "name": "at",
                        "in": "query",
                        "description": "ISO 8601, a day from 1900 to 2200: "
                        "`2026-03-29T01:30:00Z`, with an offset, or without one for "
                        "Europe/London's clock (`2026-03-29T02:30`). Default: now.",
                        "schema": {"type": "string", "pattern": AT_PATTERN},
                    },
                    {"name": "force", "in": "query", "schema": FORCE_CODE},
                ],
                "responses": responses("200", ref("OnCall"), "403"),
            }
        },
        "/api/openapi.json": {
            "get": {
                "summary": "This document",
                "operationId": "openapi",
                "responses": responses("200", {"type": "object"}, ok="OpenAPI 3.1 document"),
            }
        },
    },
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {
            "Error": closed(
                {
                    "error": {"type": "string"},
                    "errors": {"type": "object", "additionalProperties": {"type": "string"}},
                },
                required=["error"],
            ),
            "NewIncident": {
                "type": "object",
                "required": ["kind", "location"],
                "additionalProperties": False,
                "properties": {
                    "kind": {"type": "string", "enum": IncidentKind.values},
                    "location": text(
                        rules.LOCATION_MAX,
                        "Rough area; goes into the SMS (spaces and line breaks squeezed)",
                        rules.FILLED_TEXT_PATTERN,
                    ),
                    "rendezvous": nullable(text(rules.RENDEZVOUS_MAX, "Never sent by SMS")),
                    "brief": nullable(text(rules.BRIEF_MAX, "Never sent by SMS")),
                    "needs": NEEDS,
                    "policy": {
                        "type": ["string", "null"],
                        "description": "The name of one of the force's policies; absent or "
                        "null: its default",
                    },
                    "force": FORCE_CODE,
                },
            },
            "IncidentSummary": closed(SUMMARY),
            "Incident": closed(
                {
                    **SUMMARY,
                    "kind": {"type": "string", "enum": IncidentKind.values},
                    "location": {"type": "string"},
                    "raised_at": {"type": "string", "format": "date-time"},
                    "filled_at": TIME,
                    "stood_down_at": TIME,
                    "stood_down_by": {"type": ["string", "null"]},
                    "closed_at": TIME,
                    "closed_by": {"type": ["string", "null"]},
                    "step": {
                        "type": "integer",
                        "minimum": 0,
                        "description": "1-based; 0 = not yet",
                    },
                    "next_step_at": TIME,
                    "needs": {
                        "type": "object",
                        "propertyNames": ROLE,
                        "additionalProperties": closed(
                            {
                                "needed": {"type": "integer", "minimum": 0},
                                "filled": {
                                    "type": "integer",
                                    "minimum": 0,
                                    "description": "Places taken by people who went: "
                                    "kept after stand-down and close",
                                },
                            }
                        ),
                    },
                    "asked": {"type": "array", "items": ref("Asked")},
                }
            ),
            "Asked": closed(
                {
                    "callsign": {"type": "string"},
                    "asked_for": {"type": "array", "items": ROLE},
                    "role": {
                        "type": ["string", "null"],
                        "enum": [*Role.values, None],
                        "description": "The place they filled (from the deployment record)",
                    },
                    "went": {
                        "type": "boolean",
                        "description": "They accepted a place and did not withdraw: stays "
                        "true after they are stood down",
                    },
                    "state": {
                        "type": "string",
                        "enum": list(STATE_LABELS),
                        "description": "not_reached: the provider has failed the message so "
                        "far (retrying); unknown: the provider cannot say whether it took it",
                    },
                    "late": {"type": "boolean"},
                    "eta_minutes": {"type": ["integer", "null"], "minimum": 0},
                    "eta_at": {
                        **TIME,
                        "description": "Minutes counted from the message that gave the ETA; "
                        "null once arrived",
                    },
                    "asked_at": TIME,
                    "answered_at": TIME,
                    "accepted_at": TIME,
                    "arrived_at": TIME,
                    "stood_down_at": TIME,
                    "unreachable_on": {
                        "type": "array",
                        "items": {"type": "string", "enum": ["sms", "voice"]},
                    },
                    "keyword": {
                        "type": ["string", "null"],
                        "enum": ["stop", "start", "help", None],
                        "description": "The last carrier keyword they sent since being asked",
                    },
                    "texts_stopped": {
                        "type": "boolean",
                        "description": "They sent STOP (now or before): reached by voice only",
                    },
                    "note": {
                        "type": ["string", "null"],
                        "description": "Why they may not have heard (provider trouble)",
                    },
                }
            ),
            "OnCall": closed(
                {
                    "at": {"type": "string", "format": "date-time"},
                    "force": {"type": "string"},
                    "on_call": closed(
                        dict.fromkeys(Role.values, {"type": "array", "items": {"type": "string"}})
                    ),
                }
            ),
        },
    },
}


@api_view(["GET"])
def openapi(request):
    return JsonResponse(DOCUMENT)
