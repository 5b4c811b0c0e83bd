"""The OpenAPI 3.0 description of the staff JSON API, kept beside the views it describes.

It is also the API's input check: ``views/api_http.py`` validates each request's query,
path and body against the operation described here before the view runs.
"""

from typing import Any

from campusconf.backoffice.api_schema_types import (
    ACCOUNT,
    ACCOUNT_ACTIONS,
    CAMPAIGN,
    CAMPAIGN_ACTIONS,
    ERROR,
    ID,
    INQUIRY,
    INQUIRY_STATUSES,
    MAX_OFFSET,
    NEW_CAMPAIGN,
    PREVIEW,
    REASON,
    REPLY_BODY,
    STATES,
    TEXT,
    closed_object,
)

__all__ = ["MAX_OFFSET", "SCHEMA"]


def _ok(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _listing(name: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["count", "results"],
        "properties": {
            "count": {"type": "integer", "minimum": 0},
            "results": {"type": "array", "items": _ref(name)},
        },
        "additionalProperties": False,
    }


def _error(description: str) -> dict[str, Any]:
    return _ok(_ref("Error"), description)


BAD_REQUEST = _error("The query or body does not fit this description; nothing was changed")
UNAUTHORIZED = _error("No valid bearer token")
FORBIDDEN = _error("The token's user has no staff rights")
NOT_FOUND = _error("No such resource")
CONFLICT = _error(
    "Well formed, but not possible now (the state of what it names, a time that has "
    "passed, a service or affiliation that does not exist); nothing was changed"
)
# Answered by the HTTP server in front (gunicorn) before the application sees the request.
URI_TOO_LONG = {"description": "The URL is longer than the HTTP server reads"}
TOO_LARGE = {"description": "The body is larger than the API reads"}
UNSUPPORTED = _error("The body is not application/json")

PAGING = [
    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500}},
    {
        "name": "offset",
        "in": "query",
        "schema": {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET},
    },
]
ID_PARAMETER = {"name": "id", "in": "path", "required": True, "schema": ID}


def _read(operation: str, parameters: list[Any], ok: dict[str, Any]) -> dict[str, Any]:
    responses = {"200": ok, "400": BAD_REQUEST, "401": UNAUTHORIZED, "403": FORBIDDEN}
    if any(p["in"] == "path" for p in parameters):
        responses["404"] = NOT_FOUND
    responses["414"] = URI_TOO_LONG
    return {"operationId": operation, "parameters": parameters, "responses": responses}


def _write(
    operation: str,
    summary: str,
    parameters: list[Any],
    body: dict[str, Any],
    ok: dict[str, Any],
) -> dict[str, Any]:
    responses = {
        **ok,
        "400": BAD_REQUEST,
        "401": UNAUTHORIZED,
        "403": FORBIDDEN,
        "409": CONFLICT,
        "413": TOO_LARGE,
        "414": URI_TOO_LONG,
        "415": UNSUPPORTED,
    }
    if any(p["in"] == "path" for p in parameters):
        responses["404"] = NOT_FOUND
    return {
        "operationId": operation,
        "summary": summary,
        "parameters": parameters,
        "requestBody": {"required": True, "content": {"application/json": {"schema": body}}},
        "responses": responses,
    }


def _action_parameter(actions: list[str]) -> dict[str, Any]:
    return {
        "name": "action",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "enum": actions},
    }


REASON_ONLY = closed_object({"reason": REASON}, ["reason"])
QUEUED = {
    "type": "object",
    "required": ["detail", "waiting_for_seat", "account"],
    "properties": {
        "detail": {"type": "string"},
        "waiting_for_seat": {"type": "integer", "minimum": 1},
        "account": _ref("Account"),
    },
}

SCHEMA: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {
        "title": "CampusConf staff API",
        "version": "1",
        "description": "Errors are JSON objects with an `error` text in the language of "
        "Accept-Language (English or Japanese; English when the header says nothing).",
    },
    "servers": [{"url": "/staff/api/v1"}],
    "security": [{"token": []}],
    "components": {
        "securitySchemes": {"token": {"type": "http", "scheme": "bearer"}},
        "schemas": {
            "Error": ERROR,
            "Account": ACCOUNT,
            "Campaign": CAMPAIGN,
            "Preview": PREVIEW,
            "Inquiry": INQUIRY,
        },
    },
    "paths": {
        "/accounts": {
            "get": _read(
                "listAccounts",
                [
                    {"name": "service", "in": "query", "schema": TEXT},
                    {"name": "state", "in": "query", "schema": {"type": "string", "enum": STATES}},
                    {"name": "q", "in": "query", "schema": {**TEXT, "maxLength": 200}},
                    *PAGING,
                ],
                _ok(_listing("Account")),
            )
        },
        "/accounts/{id}": {"get": _read("getAccount", [ID_PARAMETER], _ok(_ref("Account")))},
        "/accounts/{id}/{action}": {
            "post": _write(
                "accountAction",
                "the account desk's actions, through the engine, audited with the reason",
                [ID_PARAMETER, _action_parameter(ACCOUNT_ACTIONS)],
                REASON_ONLY,
                {
                    "200": _ok(_ref("Account")),
                    # retry / reprovision when every seat is taken: queued, done later
                    "202": _ok(QUEUED, "Queued: the member waits for a seat"),
                },
            )
        },
        "/campaigns": {
            "get": _read("listCampaigns", PAGING, _ok(_listing("Campaign"))),
            "post": _write(
                "createCampaign",
                "dry run (changes nothing) or start, now or at start_at; a start needs a "
                "reason and is enrolled by the workers",
                [],
                NEW_CAMPAIGN,
                {"200": _ok(_ref("Preview")), "201": _ok(_ref("Campaign"), "Created")},
            ),
        },
        "/campaigns/{id}": {"get": _read("getCampaign", [ID_PARAMETER], _ok(_ref("Campaign")))},
        "/campaigns/{id}/{action}": {
            "post": _write(
                "campaignAction",
                "pause, resume or cancel (a scheduled one too), audited with the reason",
                [ID_PARAMETER, _action_parameter(CAMPAIGN_ACTIONS)],
                REASON_ONLY,
                {"200": _ok(_ref("Campaign"))},
            )
        },
        "/inquiries": {
            "get": _read(
                "listInquiries",
                [
                    {
                        "name": "status",
                        "in": "query",
                        "schema": {"type": "string", "enum": INQUIRY_STATUSES},
                    },
                    *PAGING,
                ],
                _ok(_listing("Inquiry")),
            )
        },
        "/inquiries/{id}/reply": {
            "post": _write(
                "replyToInquiry",
                "stored for the portal, mailed to the member; the reply is the audit reason",
                [ID_PARAMETER],
                closed_object(
                    {"body": REPLY_BODY, "status": {"type": "string", "enum": INQUIRY_STATUSES}},
                    ["body"],
                ),
                {"201": _ok(_ref("Inquiry"), "Replied")},
            )
        },
        "/inquiries/{id}/status": {
            "post": _write(
                "setInquiryStatus",
                "open, waiting on the member, or resolved; audited with the reason",
                [ID_PARAMETER],
                closed_object(
                    {"status": {"type": "string", "enum": INQUIRY_STATUSES}, "reason": REASON},
                    ["status", "reason"],
                ),
                {"200": _ok(_ref("Inquiry"))},
            )
        },
    },
}
