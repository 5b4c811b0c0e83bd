"""Typed API errors and the two vendors' ways of writing them on the wire."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpResponse


@dataclass
class ApiError(Exception):
    status: int
    message: str
    code: int | None = None  # Zoom's numeric code; Webex has none
    errors: list[dict[str, str]] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    scim_type: str | None = None  # SCIM's error keyword (RFC 7644, 3.12); SCIM APIs only


def json_response(data: Any, status: int = 200) -> HttpResponse:
    body = json.dumps(data).encode()
    resp = HttpResponse(body, status=status, content_type="application/json")
    # An explicit length spares the server chunked encoding on every answer.
    resp["Content-Length"] = str(len(body))
    return resp


class Dialect:
    name = ""
    tracking_header = ""

    def tracking_id(self) -> str:
        raise NotImplementedError

    def render(self, err: ApiError, tracking: str) -> HttpResponse:
        raise NotImplementedError

    def malformed_json(self) -> ApiError:
        raise NotImplementedError

    def too_large(self) -> ApiError:
        raise NotImplementedError


class WebexDialect(Dialect):
    name = "webex"
    tracking_header = "trackingid"

    def tracking_id(self) -> str:
        return "ROUTER_" + str(uuid.uuid4()).upper()

    def render(self, err: ApiError, tracking: str) -> HttpResponse:
        descriptions = err.errors or [{"description": err.message}]
        body = {"message": err.message, "errors": descriptions, "trackingId": tracking}
        resp = json_response(body, err.status)
        for key, value in err.headers.items():
            resp[key] = value
        return resp

    def malformed_json(self) -> ApiError:
        return ApiError(400, "The request body is not valid JSON.")

    def too_large(self) -> ApiError:
        return ApiError(413, "Request entity too large.")


class ZoomDialect(Dialect):
    name = "zoom"
    tracking_header = "x-zm-trackingid"

    def tracking_id(self) -> str:
        return "v=2.0;clid=us06;rid=WEB_" + uuid.uuid4().hex

    def render(self, err: ApiError, tracking: str) -> HttpResponse:
        body: dict[str, Any] = {"code": err.code if err.code is not None else err.status}
        body["message"] = err.message
        if err.errors:
            body["errors"] = err.errors
        resp = json_response(body, err.status)
        for key, value in err.headers.items():
            resp[key] = value
        return resp

    def malformed_json(self) -> ApiError:
        return ApiError(400, "Request Body should be a valid JSON object.", code=300)

    def too_large(self) -> ApiError:
        return ApiError(413, "Request body is too large.", code=300)


WEBEX = WebexDialect()
ZOOM = ZoomDialect()


def webex_invalid(description: str) -> ApiError:
    return ApiError(400, "Invalid request.", errors=[{"description": description}])


def zoom_invalid(field_name: str, message: str = "Invalid field.") -> ApiError:
    return ApiError(
        400, "Validation Failed.", code=300, errors=[{"field": field_name, "message": message}]
    )
