"""The control-room API described as OpenAPI 3.1 (served at /api/openapi.json)."""

from django.http import JsonResponse

from callouts import rules
from callouts.models import IncidentKind
from callouts.web.api import api_view

ERROR = {"$ref": "#/components/schemas/Error"}


def responses(ok_code, ok_schema, *codes):
    described = {
        "400": "Invalid input: `errors` has a message per field",
        "401": "Missing, unknown or revoked token",
        "403": "The token's user holds no role for this in that force (or any force)",
        "404": "No such incident (or not your force's)",
    }
    result = {ok_code: {"description": "OK", "content": json_of(ok_schema)}}
    for code in codes:
        result[code] = {"description": described[code], "content": json_of(ERROR)}
    return result


def json_of(schema):
    return {"application/json": {"schema": schema}}


ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
NEEDS = {
    "type": "object",
    "additionalProperties": {"type": "integer", "minimum": 0, "maximum": rules.MAX_PER_ROLE},
    "description": "People needed per role (roles asked for 0 are left out; at least one "
    "person in all)",
    "example": {"negotiator": 2, "coordinator": 1},
}
TIME = {"type": ["string", "null"], "format": "date-time"}

DOCUMENT = {
    "openapi": "3.1.0",
    "info": {
        "title": "Standby control-room API",
        "version": "1.0",
        "description": "Raise and follow negotiator callouts. Send `Authorization: Bearer "
        "<token>` (from `manage.py create_api_token USERNAME`). Times are UTC.",
    },
    "servers": [{"url": "/"}],
    "security": [{"bearer": []}],
    "paths": {
        "/api/incidents/": {
            "post": {
                "summary": "Raise an incident; escalation starts at once",
                "operationId": "raiseIncident",
                "requestBody": {
                    "required": True,
                    "content": json_of({"$ref": "#/components/schemas/NewIncident"}),
                },
                "responses": responses(
                    "201", {"$ref": "#/components/schemas/IncidentSummary"}, "400", "401", "403"
                ),
            }
        },
        "/api/incidents/{id}/": {
            "get": {
                "summary": "An incident's status, needs and everyone asked",
                "operationId": "getIncident",
                "parameters": [ID],
                "responses": responses(
                    "200", {"$ref": "#/components/schemas/Incident"}, "401", "403", "404"
                ),
            }
        },
        "/api/incidents/{id}/stand-down/": {
            "post": {
                "summary": "Stand the incident down; everyone asked is told",
                "operationId": "standDown",
                "parameters": [ID],
                "responses": responses(
                    "200", {"$ref": "#/components/schemas/IncidentSummary"}, "401", "403", "404"
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
                        "description": "ISO-8601; without an offset, Europe/London time. "
                        "Default: now.",
                        "schema": {"type": "string", "format": "date-time"},
                    },
                    {
                        "name": "force",
                        "in": "query",
                        "description": "Force code; required when the token's user belongs to "
                        "several (never guessed)",
                        "schema": {"type": "string"},
                    },
                ],
                "responses": responses(
                    "200", {"$ref": "#/components/schemas/OnCall"}, "400", "401", "403"
                ),
            }
        },
        "/api/openapi.json": {
            "get": {
                "summary": "This document",
                "operationId": "openapi",
                "responses": {
                    "200": {"description": "OpenAPI 3.1 document"},
                    "401": {"description": "Missing, unknown or revoked token"},
                },
            }
        },
    },
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {
            "Error": {
                "type": "object",
                "properties": {
                    "error": {"type": "string"},
                    "errors": {"type": "object", "additionalProperties": {"type": "string"}},
                },
                "required": ["error"],
            },
            "NewIncident": {
                "type": "object",
                "required": ["kind", "location"],
                "properties": {
                    "kind": {"type": "string", "enum": IncidentKind.values},
                    "location": {
                        "type": "string",
                        "maxLength": rules.LOCATION_MAX,
                        "description": "Rough area; goes into the SMS",
                    },
                    "rendezvous": {
                        "type": "string",
                        "maxLength": rules.RENDEZVOUS_MAX,
                        "description": "Never sent by SMS",
                    },
                    "brief": {
                        "type": "string",
                        "maxLength": rules.BRIEF_MAX,
                        "description": "Never sent by SMS",
                    },
                    "needs": NEEDS,
                    "policy": {"type": "string", "description": "Policy name; default if absent"},
                    "force": {
                        "type": "string",
                        "description": "Force code; required when the token's user belongs to "
                        "several (never guessed)",
                    },
                },
            },
            "IncidentSummary": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "reference": {"type": "string"},
                    "status": {
                        "type": "string",
                        "enum": ["calling", "filled", "exhausted", "stood_down", "closed"],
                    },
                },
            },
            "Incident": {
                "allOf": [
                    {"$ref": "#/components/schemas/IncidentSummary"},
                    {
                        "type": "object",
                        "properties": {
                            "kind": {"type": "string"},
                            "location": {"type": "string"},
                            "raised_at": TIME,
                            "filled_at": TIME,
                            "stood_down_at": TIME,
                            "stood_down_by": {"type": ["string", "null"]},
                            "closed_at": TIME,
                            "closed_by": {"type": ["string", "null"]},
                            "step": {"type": "integer", "description": "1-based; 0 = not yet"},
                            "next_step_at": TIME,
                            "needs": {
                                "type": "object",
                                "additionalProperties": {
                                    "type": "object",
                                    "properties": {
                                        "needed": {"type": "integer"},
                                        "filled": {
                                            "type": "integer",
                                            "description": "Places taken by people who went: "
                                            "kept after stand-down and close",
                                        },
                                    },
                                },
                            },
                            "asked": {
                                "type": "array",
                                "items": {"$ref": "#/components/schemas/Asked"},
                            },
                        },
                    },
                ]
            },
            "Asked": {
                "type": "object",
                "properties": {
                    "callsign": {"type": "string"},
                    "asked_for": {"type": "array", "items": {"type": "string"}},
                    "role": {
                        "type": ["string", "null"],
                        "description": "The place they filled (from the deployment record)",
                    },
                    "went": {
                        "type": "boolean",
                        "description": "They accepted a place and did not withdraw: stays "
                        "true after they are stood down",
                    },
                    "state": {
                        "type": "string",
                        "enum": [
                            "asked",
                            "delivered",
                            "accepted",
                            "declined",
                            "no_answer",
                            "unreachable",
                            "stood_down",
                            "not_reached",
                            "unknown",
                        ],
                        "description": "not_reached: the provider has failed the message so "
                        "far (retrying); unknown: the provider cannot say whether it took it",
                    },
                    "late": {"type": "boolean"},
                    "eta_minutes": {"type": ["integer", "null"]},
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
                    "unreachable_on": {"type": "array", "items": {"type": "string"}},
                    "keyword": {
                        "type": ["string", "null"],
                        "enum": ["stop", "start", "help", None],
                        "description": "The last carrier keyword they sent since being asked",
                    },
                    "note": {
                        "type": ["string", "null"],
                        "description": "Why they may not have heard (provider trouble)",
                    },
                },
            },
            "OnCall": {
                "type": "object",
                "properties": {
                    "at": {"type": "string", "format": "date-time"},
                    "force": {"type": "string"},
                    "on_call": {
                        "type": "object",
                        "additionalProperties": {"type": "array", "items": {"type": "string"}},
                    },
                },
            },
        },
    },
}


@api_view(["GET"])
def openapi(request):
    return JsonResponse(DOCUMENT)
