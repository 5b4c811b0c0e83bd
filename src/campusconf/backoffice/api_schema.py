"""The OpenAPI 3.0 description of the staff JSON API, kept beside the views it describes."""

from typing import Any

STATES = [
    "requested",
    "invited",
    "conversion_pending",
    "held_elsewhere",
    "invitation_expired",
    "active",
    "unlicensed",
    "failed",
    "suspended",
    "removed",
]
# Databases store 64-bit integers; an offset past this is a mistake, not a page.
MAX_OFFSET = 10_000_000
# Text parameters: anything but NUL, which PostgreSQL text cannot hold (answered 400).
TEXT = {"type": "string", "pattern": "^[^\\x00]*$"}
NULLABLE_TIME = {"type": "string", "format": "date-time", "nullable": True}


def _list_of(ref: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["count", "results"],
        "properties": {
            "count": {"type": "integer", "minimum": 0},
            "results": {"type": "array", "items": {"$ref": f"#/components/schemas/{ref}"}},
        },
        "additionalProperties": False,
    }


def _ok(schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": "OK", "content": {"application/json": {"schema": schema}}}


ERROR = {
    "description": "Error",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}
PAGING = [
    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500}},
    {
        "name": "offset",
        "in": "query",
        "schema": {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET},
    },
]
ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}

REASON = {
    "type": "string",
    "minLength": 3,
    "maxLength": 2000,
    "pattern": "^[^\\x00]*$",
    "description": "why: saved in the audit log",
}
INQUIRY_STATUS = {"type": "string", "enum": ["open", "waiting", "resolved"]}


def _body(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "required": True,
        "content": {
            "application/json": {
                "schema": {"type": "object", "required": required, "properties": properties}
            }
        },
    }


def _write(
    operation: str, summary: str, params: list[Any], body: dict[str, Any], ok: dict[str, Any]
) -> dict[str, Any]:
    return {
        "post": {
            "operationId": operation,
            "summary": summary,
            "parameters": params,
            "requestBody": body,
            "responses": {
                **ok,
                "400": ERROR,
                "401": ERROR,
                "403": ERROR,
                "404": ERROR,
                "409": ERROR,
            },
        }
    }


REASON_ONLY = _body({"reason": REASON}, ["reason"])
ACCOUNT_ACTIONS = ["resend", "retry", "reconcile", "suspend", "deprovision", "reprovision"]
CAMPAIGN_ACTIONS = ["pause", "resume", "cancel"]
NEW_CAMPAIGN = _body(
    {
        "service": {"type": "string", "pattern": "^[^\\x00]*$"},
        "roles": {
            "type": "array",
            "items": {"type": "string", "enum": ["faculty", "staff", "student"]},
        },
        "created_before": {"type": "string", "format": "date"},
        "affiliations": {"type": "array", "items": {"type": "string", "pattern": "^[^\\x00]*$"}},
        "common_ids": {"type": "array", "items": {"type": "string", "pattern": "^[0-9]{10}$"}},
        "start_at": {"type": "string", "format": "date-time"},
        "dry_run": {"type": "boolean"},
        "reason": REASON,
    },
    ["service"],
)

SCHEMA: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "CampusConf staff API", "version": "1"},
    "servers": [{"url": "/staff/api/v1"}],
    "security": [{"token": []}],
    "components": {
        "securitySchemes": {"token": {"type": "http", "scheme": "bearer"}},
        "schemas": {
            "Error": {
                "type": "object",
                "required": ["error"],
                "properties": {"error": {"type": "string"}},
            },
            "Account": {
                "type": "object",
                "required": ["id", "common_id", "service", "state", "desired_state"],
                "properties": {
                    "id": {"type": "integer"},
                    "common_id": {"type": "string", "pattern": "^[0-9]{10}$"},
                    "service": {"type": "string"},
                    "state": {"type": "string", "enum": STATES},
                    "desired_state": {"type": "string", "enum": ["present", "absent"]},
                    "observed_state": {"type": "string"},
                    "vendor_user_id": {"type": "string"},
                    "vendor_address": {"type": "string"},
                    "invitation_sent_at": NULLABLE_TIME,
                    "invitation_expires_at": NULLABLE_TIME,
                    "activated_at": NULLABLE_TIME,
                    "last_error_code": {"type": "string"},
                    "last_error_message": {"type": "string"},
                },
            },
            "Campaign": {
                "type": "object",
                "required": [
                    "id",
                    "service",
                    "status",
                    "planned",
                    "done",
                    "failed",
                    "remaining",
                    "retrying",
                    "last_error",
                    "waiting_for_seat",
                    "per_minute",
                    "finish_at",
                ],
                "properties": {
                    "id": {"type": "integer"},
                    "service": {"type": "string"},
                    "status": {
                        "type": "string",
                        "enum": [
                            "scheduled",
                            "enrolling",
                            "running",
                            "paused",
                            "cancelled",
                            "done",
                        ],
                    },
                    "cohort": {"type": "object"},
                    "planned": {"type": "integer"},
                    "skipped": {"type": "integer"},
                    "done": {"type": "integer"},
                    "failed": {"type": "integer"},
                    "remaining": {"type": "integer"},
                    "retrying": {"type": "integer", "minimum": 0},
                    "last_error": {"type": "string"},
                    "waiting_for_seat": {"type": "integer", "minimum": 0},
                    "per_minute": {"type": "number", "minimum": 0},
                    "finish_at": NULLABLE_TIME,
                    "start_at": NULLABLE_TIME,
                    "created_at": {"type": "string", "format": "date-time"},
                },
            },
            "Preview": {
                "type": "object",
                "required": ["dry_run", "in_cohort", "to_invite", "already_live", "sample"],
                "properties": {
                    "dry_run": {"type": "boolean", "enum": [True]},
                    "in_cohort": {"type": "integer", "minimum": 0},
                    "to_invite": {"type": "integer", "minimum": 0},
                    "already_live": {"type": "integer", "minimum": 0},
                    "sample": {"type": "array", "items": {"type": "string"}},
                    "unknown_ids": {"type": "array", "items": {"type": "string"}},
                },
            },
            "Inquiry": {
                "type": "object",
                "required": ["id", "common_id", "topic", "status", "created_at"],
                "properties": {
                    "id": {"type": "integer"},
                    "common_id": {"type": "string"},
                    "service": {"type": "string", "nullable": True},
                    "account_id": {"type": "integer", "nullable": True},
                    "topic": {"type": "string"},
                    "status": {"type": "string", "enum": ["open", "waiting", "resolved"]},
                    "account_state_when_asked": {"type": "string"},
                    "what_happened": {"type": "string"},
                    "created_at": {"type": "string", "format": "date-time"},
                },
            },
        },
    },
    "paths": {
        "/accounts": {
            "get": {
                "operationId": "listAccounts",
                "parameters": [
                    {"name": "service", "in": "query", "schema": TEXT},
                    {"name": "state", "in": "query", "schema": {"type": "string", "enum": STATES}},
                    {"name": "q", "in": "query", "schema": TEXT},
                    *PAGING,
                ],
                "responses": {
                    "200": _ok(_list_of("Account")),
                    "400": ERROR,
                    "401": ERROR,
                    "403": ERROR,
                },
            }
        },
        "/accounts/{id}": {
            "get": {
                "operationId": "getAccount",
                "parameters": [ID],
                "responses": {
                    "200": _ok({"$ref": "#/components/schemas/Account"}),
                    "401": ERROR,
                    "403": ERROR,
                    "404": ERROR,
                },
            }
        },
        "/accounts/{id}/{action}": _write(
            "accountAction",
            "the account desk's actions, through the engine, audited with the reason",
            [
                ID,
                {
                    "name": "action",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", "enum": ACCOUNT_ACTIONS},
                },
            ],
            REASON_ONLY,
            {
                "200": _ok({"$ref": "#/components/schemas/Account"}),
                # retry / reprovision when every seat is taken: queued, done later
                "202": _ok(
                    {
                        "type": "object",
                        "required": ["detail", "waiting_for_seat", "account"],
                        "properties": {
                            "detail": {"type": "string"},
                            "waiting_for_seat": {"type": "integer", "minimum": 1},
                            "account": {"$ref": "#/components/schemas/Account"},
                        },
                    }
                ),
            },
        ),
        "/campaigns": {
            "post": {
                "operationId": "createCampaign",
                "summary": "dry run (changes nothing) or start, now or at start_at; "
                "a start needs a reason and is enrolled by the workers",
                "requestBody": NEW_CAMPAIGN,
                "responses": {
                    "200": _ok({"$ref": "#/components/schemas/Preview"}),
                    "201": _ok({"$ref": "#/components/schemas/Campaign"}),
                    "400": ERROR,
                    "401": ERROR,
                    "403": ERROR,
                },
            },
            "get": {
                "operationId": "listCampaigns",
                "parameters": PAGING,
                "responses": {
                    "200": _ok(_list_of("Campaign")),
                    "400": ERROR,
                    "401": ERROR,
                    "403": ERROR,
                },
            },
        },
        "/campaigns/{id}": {
            "get": {
                "operationId": "getCampaign",
                "parameters": [ID],
                "responses": {
                    "200": _ok({"$ref": "#/components/schemas/Campaign"}),
                    "401": ERROR,
                    "403": ERROR,
                    "404": ERROR,
                },
            }
        },
        "/campaigns/{id}/{action}": _write(
            "campaignAction",
            "pause, resume or cancel (a scheduled one too), audited with the reason",
            [
                ID,
                {
                    "name": "action",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", "enum": CAMPAIGN_ACTIONS},
                },
            ],
            REASON_ONLY,
            {"200": _ok({"$ref": "#/components/schemas/Campaign"})},
        ),
        "/inquiries/{id}/reply": _write(
            "replyToInquiry",
            "stored for the portal, mailed to the member; the reply is the audit reason",
            [ID],
            _body(
                {
                    "body": {
                        "type": "string",
                        "minLength": 3,
                        "maxLength": 10000,
                        "pattern": "^[^\\x00]*$",
                    },
                    "status": INQUIRY_STATUS,
                },
                ["body"],
            ),
            {"201": _ok({"$ref": "#/components/schemas/Inquiry"})},
        ),
        "/inquiries/{id}/status": _write(
            "setInquiryStatus",
            "open, waiting on the member, or resolved; audited with the reason",
            [ID],
            _body({"status": INQUIRY_STATUS, "reason": REASON}, ["status", "reason"]),
            {"200": _ok({"$ref": "#/components/schemas/Inquiry"})},
        ),
        "/inquiries": {
            "get": {
                "operationId": "listInquiries",
                "parameters": [
                    {
                        "name": "status",
                        "in": "query",
                        "schema": {"type": "string", "enum": ["open", "waiting", "resolved"]},
                    },
                    *PAGING,
                ],
                "responses": {
                    "200": _ok(_list_of("Inquiry")),
                    "400": ERROR,
                    "401": ERROR,
                    "403": ERROR,
                },
            }
        },
    },
}
