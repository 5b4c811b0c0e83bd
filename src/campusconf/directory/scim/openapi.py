"""An OpenAPI 3.0 description of /scim/v2, for fuzzing it (tests/directory/test_scim_fuzz.py).

SCIM describes itself with its own discovery endpoints (RFC 7643 §5-7), which clients
use; this description exists so that schemathesis can generate requests and judge the
answers: what each operation may answer (statuses, the SCIM error shape, the media
type) and the shape of users, groups and lists. Request bodies are described loosely on
purpose — the server must answer any body, valid or not, with a result or a SCIM error.
"""

from typing import Any

SCIM_JSON = "application/scim+json"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"

TEXT = {"type": "string", "maxLength": 300}
ERROR: dict[str, Any] = {
    "type": "object",
    "required": ["schemas", "status"],
    "properties": {
        "schemas": {"type": "array", "items": {"enum": [ERROR_SCHEMA]}},
        "status": {"type": "string", "pattern": "^[45][0-9]{2}$"},
        "scimType": {"type": "string"},
        "detail": {"type": "string"},
    },
}
META = {
    "type": "object",
    "properties": {
        "resourceType": {"type": "string"},
        "created": {"type": "string", "format": "date-time"},
        "lastModified": {"type": "string", "format": "date-time"},
        "version": {"type": "string"},
        "location": {"type": "string"},
    },
}
MULTI = {
    "type": "array",
    "maxItems": 5,
    "items": {
        "type": "object",
        "properties": {
            "value": TEXT,
            "type": TEXT,
            "primary": {"type": "boolean"},
            "display": TEXT,
        },
    },
}
USER_IN: dict[str, Any] = {
    "type": "object",
    "required": ["schemas", "userName"],
    "properties": {
        "schemas": {
            "type": "array",
            "minItems": 1,
            "items": {"enum": ["urn:ietf:params:scim:schemas:core:2.0:User"]},
        },
        "userName": {"type": "string", "minLength": 1, "maxLength": 255},
        "externalId": TEXT,
        "displayName": TEXT,
        "name": {
            "type": "object",
            "properties": {"familyName": TEXT, "givenName": TEXT, "formatted": TEXT},
        },
        "active": {"type": "boolean"},
        "emails": MULTI,
        "roles": MULTI,
        "userType": TEXT,
        "preferredLanguage": TEXT,
    },
}
USER_OUT: dict[str, Any] = {
    "type": "object",
    "required": ["schemas", "id", "userName", "meta"],
    "properties": {
        "schemas": {"type": "array", "items": {"type": "string"}},
        "id": {"type": "string", "minLength": 1},
        "userName": {"type": "string"},
        "active": {"type": "boolean"},
        "emails": {"type": "array"},
        "meta": META,
    },
}
GROUP_IN: dict[str, Any] = {
    "type": "object",
    "required": ["schemas", "displayName"],
    "properties": {
        "schemas": {
            "type": "array",
            "minItems": 1,
            "items": {"enum": ["urn:ietf:params:scim:schemas:core:2.0:Group"]},
        },
        "displayName": {"type": "string", "minLength": 1, "maxLength": 255},
        "externalId": TEXT,
        "members": MULTI,
    },
}
GROUP_OUT: dict[str, Any] = {
    "type": "object",
    "required": ["schemas", "id", "displayName", "meta"],
    "properties": {
        "schemas": {"type": "array", "items": {"type": "string"}},
        "id": {"type": "string", "minLength": 1},
        "displayName": {"type": "string"},
        "members": {"type": "array"},
        "meta": META,
    },
}
PATCH_IN: dict[str, Any] = {
    "type": "object",
    "required": ["schemas", "Operations"],
    "properties": {
        "schemas": {
            "type": "array",
            "items": {"enum": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"]},
        },
        "Operations": {
            "type": "array",
            "maxItems": 3,
            "items": {
                "type": "object",
                "required": ["op"],
                "properties": {
                    "op": {"enum": ["add", "replace", "remove", "Add", "Replace", "Remove"]},
                    "path": TEXT,
                    "value": {},
                },
            },
        },
    },
}
SEARCH_IN: dict[str, Any] = {
    "type": "object",
    "required": ["schemas"],
    "properties": {
        "schemas": {
            "type": "array",
            "items": {"enum": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]},
        },
        "filter": TEXT,
        "startIndex": {"type": "integer"},
        "count": {"type": "integer"},
        "sortBy": TEXT,
        "sortOrder": {"enum": ["ascending", "descending"]},
    },
}


def _listing(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["schemas", "totalResults"],
        "properties": {
            "schemas": {"type": "array", "items": {"enum": [LIST_SCHEMA]}},
            "totalResults": {"type": "integer", "minimum": 0},
            "startIndex": {"type": "integer", "minimum": 1},
            "itemsPerPage": {"type": "integer", "minimum": 0},
            "Resources": {"type": "array", "items": item},
        },
    }


def _answer(schema: dict[str, Any] | None, description: str = "OK") -> dict[str, Any]:
    if schema is None:
        return {"description": description}
    return {"description": description, "content": {SCIM_JSON: {"schema": schema}}}


def _errors(*statuses: int) -> dict[str, Any]:
    return {str(s): _answer(ERROR, "SCIM error (RFC 7644 §3.12)") for s in statuses}


# Every operation may answer these: no or a wrong token, a token without the right, a
# body over the limit, a malformed request.
COMMON = (400, 401, 403, 413)
ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 64}}
QUERY = [
    {"name": "filter", "in": "query", "schema": TEXT},
    {"name": "startIndex", "in": "query", "schema": {"type": "integer"}},
    {"name": "count", "in": "query", "schema": {"type": "integer"}},
    {"name": "sortBy", "in": "query", "schema": TEXT},
    {"name": "sortOrder", "in": "query", "schema": {"enum": ["ascending", "descending"]}},
]


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {SCIM_JSON: {"schema": schema}}}


def _resource_paths(
    endpoint: str, item_in: dict[str, Any], item_out: dict[str, Any]
) -> dict[str, Any]:
    name = endpoint.strip("/").lower()
    return {
        endpoint: {
            "get": {
                "operationId": f"search_{name}",
                "parameters": QUERY,
                "responses": {"200": _answer(_listing(item_out)), **_errors(*COMMON)},
            },
            "post": {
                "operationId": f"create_{name}",
                "requestBody": _body(item_in),
                "responses": {"201": _answer(item_out, "Created"), **_errors(*COMMON, 409)},
            },
        },
        f"{endpoint}/{{id}}": {
            "get": {
                "operationId": f"get_{name}",
                "parameters": [ID],
                "responses": {"200": _answer(item_out), **_errors(*COMMON, 404)},
            },
            "put": {
                "operationId": f"replace_{name}",
                "parameters": [ID],
                "requestBody": _body(item_in),
                # 409: uniqueness, or a deactivation held for staff
                "responses": {"200": _answer(item_out), **_errors(*COMMON, 404, 409, 412)},
            },
            "patch": {
                "operationId": f"patch_{name}",
                "parameters": [ID],
                "requestBody": _body(PATCH_IN),
                "responses": {
                    "200": _answer(item_out),
                    "204": _answer(None, "Patched"),
                    **_errors(*COMMON, 404, 409, 412),
                },
            },
            "delete": {
                "operationId": f"delete_{name}",
                "parameters": [ID],
                "responses": {"204": _answer(None, "Deleted"), **_errors(*COMMON, 404, 409, 412)},
            },
        },
        f"{endpoint}/.search": {
            "post": {
                "operationId": f"search_{name}_with_body",
                "requestBody": _body(SEARCH_IN),
                "responses": {"200": _answer(_listing(item_out)), **_errors(*COMMON)},
            }
        },
    }


def _discovery(path: str) -> dict[str, Any]:
    return {
        "get": {
            "operationId": path.strip("/").lower(),
            "responses": {"200": _answer({"type": "object"}), **_errors(400, 401, 403)},
        }
    }


SCHEMA: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "CampusConf SCIM 2.0 directory feed", "version": "2"},
    "servers": [{"url": "/scim/v2"}],
    "security": [{"token": []}],
    "components": {"securitySchemes": {"token": {"type": "http", "scheme": "bearer"}}},
    "paths": {
        **_resource_paths("/Users", USER_IN, USER_OUT),
        **_resource_paths("/Groups", GROUP_IN, GROUP_OUT),
        "/ServiceProviderConfig": _discovery("/ServiceProviderConfig"),
        "/Schemas": _discovery("/Schemas"),
        "/ResourceTypes": _discovery("/ResourceTypes"),
    },
}
