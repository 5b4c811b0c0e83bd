"""What both vendors' SCIM APIs share: errors, filters, paging, bodies and patches."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, TypeVar

from django.http import HttpRequest, HttpResponse
from pydantic import ValidationError
from scim2_models import Context, PatchOp, User

from vendor_sandbox.errors import ApiError, Dialect, json_response
from vendor_sandbox.pipeline import json_body
from vendor_sandbox.scim.models import CORE, ERROR, LIST

U = TypeVar("U", bound=User[Any])
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# attribute, operator, quoted value (RFC 7644 3.4.2.2, the simple form the vendors take)
FILTER_RE = re.compile(r'^\s*([A-Za-z][\w.]*)\s+(eq|sw|ew)\s+"((?:[^"\\]|\\.)*)"\s*$', re.I)


class ScimDialect(Dialect):
    """A vendor's SCIM errors: RFC 7644's body, the vendor's tracking header."""

    def __init__(self, vendor: Dialect) -> None:
        self.name = vendor.name  # faults and counters go by vendor
        self.tracking_header = vendor.tracking_header
        self._vendor = vendor

    def tracking_id(self) -> str:
        return self._vendor.tracking_id()

    def render(self, err: ApiError, tracking: str) -> HttpResponse:
        body: dict[str, Any] = {"schemas": [ERROR], "status": str(err.status)}
        body["detail"] = err.message
        if err.scim_type:
            body["scimType"] = err.scim_type
        resp = json_response(body, err.status)
        for key, value in err.headers.items():
            resp[key] = value
        return resp

    def malformed_json(self) -> ApiError:
        return ApiError(400, "The request body is not valid JSON.", scim_type="invalidSyntax")

    def too_large(self) -> ApiError:
        return ApiError(413, "The request body is too large.")


def invalid(detail: str, scim_type: str = "invalidValue") -> ApiError:
    return ApiError(400, detail, scim_type=scim_type)


def not_found(user_id: str) -> ApiError:
    return ApiError(404, f"User {user_id} not found.")


def conflict(address: str) -> ApiError:
    return ApiError(409, f"User with userName {address} already exists.", scim_type="uniqueness")


def _validation(exc: ValidationError) -> ApiError:
    first = exc.errors()[0] if exc.errors() else {}
    kind = str(first.get("type", ""))
    where = ".".join(str(p) for p in first.get("loc", ()))
    scim_type = kind.removeprefix("scim_") if kind.startswith("scim_") else "invalidValue"
    return invalid(f"{where}: {first.get('msg', exc)}".strip(": "), scim_type)


def user_from_body(request: HttpRequest, dialect: Dialect, model: type[U]) -> U:
    """A create or replace body, checked: the core schema, a userName that is an address."""
    body = json_body(request, dialect)
    schemas = body.get("schemas")
    if not isinstance(schemas, list) or CORE not in schemas:
        raise invalid(f"schemas must contain {CORE}.")
    try:
        user = model.model_validate(body, scim_ctx=Context.RESOURCE_CREATION_REQUEST)
    except ValidationError as exc:
        raise _validation(exc) from exc
    if not user.user_name or not EMAIL_RE.match(user.user_name) or len(user.user_name) > 320:
        raise invalid("userName must be the user's e-mail address.")
    return user


def patched(request: HttpRequest, dialect: Dialect, current: U) -> U:
    """``current`` with the request's PatchOp applied (scim2-models applies it)."""
    body = json_body(request, dialect)
    try:
        operation = PatchOp[type(current)].model_validate(  # type: ignore[misc]
            body, scim_ctx=Context.RESOURCE_PATCH_REQUEST
        )
        operation.patch(current)
    except ValidationError as exc:
        raise _validation(exc) from exc
    except (ValueError, KeyError) as exc:
        raise invalid(str(exc), "invalidPath") from exc
    return current


def parse_filter(text: str, allowed: dict[str, set[str]]) -> tuple[str, str, str] | None:
    """``attribute op "value"`` -> (attribute, op, value); None for no filter."""
    if not text.strip():
        return None
    match = FILTER_RE.match(text)
    if match is None:
        raise invalid(f"Unsupported filter: {text}", "invalidFilter")
    attribute, op, value = match.group(1), match.group(2).lower(), match.group(3)
    if op not in allowed.get(attribute, set()):
        raise invalid(f"Unsupported filter: {attribute} {op}", "invalidFilter")
    return attribute, op, value.replace('\\"', '"').replace("\\\\", "\\")


def page_bounds(request: HttpRequest, largest: int) -> tuple[int, int]:
    """startIndex (1-based) and count, clamped to ``largest`` as RFC 7644 allows."""
    try:
        start = int(request.GET.get("startIndex", "1"))
        count = int(request.GET.get("count", "100"))
    except ValueError as exc:
        raise invalid("startIndex and count must be integers.") from exc
    return max(1, start), max(0, min(count, largest))


def list_response(resources: Sequence[dict[str, Any]], total: int, start: int) -> HttpResponse:
    return json_response(
        {
            "schemas": [LIST],
            "totalResults": total,
            "itemsPerPage": len(resources),
            "startIndex": start,
            "Resources": list(resources),
        }
    )


def model_of(model: type[U], data: dict[str, Any]) -> U:
    """A stored user's SCIM form as a model, to patch it."""
    return model.model_validate(data, scim_ctx=Context.RESOURCE_QUERY_RESPONSE)
