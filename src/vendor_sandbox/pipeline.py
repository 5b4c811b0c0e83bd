"""The one path every vendor API request takes.

authenticate → the token's scopes → rate limit → faults (latency, 5xx, time-out) →
handler in a transaction → faults after commit (lost response, Webex's
400-although-created) → tracking header and counters. Any exception becomes the vendor's own 500 body: never a stack trace.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.http.request import RawPostDataException
from django.views.decorators.csrf import csrf_exempt

from vendor_sandbox import counters, faults, scopes, writelock
from vendor_sandbox.conf import CONFIG
from vendor_sandbox.errors import ApiError, Dialect

log = logging.getLogger(__name__)


@dataclass
class Ctx:
    request: HttpRequest
    principal: Any  # WebexOrg or ZoomAccount
    now: datetime
    faults: dict[str, Any]
    tracking: str
    webhook_url: str = ""
    variants: dict[str, str] = field(default_factory=dict)  # variants.py: the choices in force
    after_commit_error: ApiError | None = None
    extra: dict[str, Any] = field(default_factory=dict)


Handler = Callable[..., HttpResponse]
Check = Callable[[HttpRequest, Any, datetime, dict[str, str]], None]  # …, variants


@dataclass(frozen=True)
class Endpoint:
    name: str
    handler: Handler
    category: str = "Light"  # Zoom rate-limit category
    precheck: Check | None = None  # runs before the handler, outside its transaction


@dataclass(frozen=True)
class Api:
    dialect: Dialect
    authenticate: Callable[[HttpRequest, datetime], Any]
    limit: Callable[[Any, Endpoint], None]


def json_body(request: HttpRequest, dialect: Dialect) -> dict[str, Any]:
    try:
        raw = request.body
    except RawPostDataException as exc:  # pragma: no cover - body already streamed
        raise dialect.malformed_json() from exc
    try:
        data = json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise dialect.malformed_json() from exc
    if not isinstance(data, dict):
        raise dialect.malformed_json()
    return data


def route(api: Api, endpoints: dict[str, Endpoint]) -> Callable[..., HttpResponse]:
    @csrf_exempt
    def view(request: HttpRequest, **kwargs: Any) -> HttpResponse:
        tracking = api.dialect.tracking_id()
        endpoint = endpoints.get(request.method or "")
        name = endpoint.name if endpoint else "unrouted"
        try:
            resp = _serve(api, endpoint, request, tracking, kwargs)
        except ApiError as err:
            resp = api.dialect.render(err, tracking)
            if err.status == 413 and not _drain(request):
                resp["Connection"] = "close"  # an unread body would poison keep-alive
        except Exception:
            log.exception("unexpected error in %s %s", request.method, request.path)
            resp = api.dialect.render(ApiError(500, "Internal server error.", code=500), tracking)
        resp[api.dialect.tracking_header] = tracking
        counters.hit(f"{api.dialect.name} {request.method} {name} {resp.status_code}")
        return resp

    return view


def _serve(
    api: Api, endpoint: Endpoint | None, request: HttpRequest, tracking: str, kwargs: Any
) -> HttpResponse:
    if endpoint is None:
        raise ApiError(405, "Method not allowed.", code=405)
    length = request.META.get("CONTENT_LENGTH") or "0"
    if not length.isdigit() or int(length) > CONFIG.max_body_bytes:
        raise api.dialect.too_large()
    fault_cfg, offset, webhook_url, chosen = faults.load()
    now = datetime.fromtimestamp(time.time() + offset, tz=UTC)
    principal = api.authenticate(request, now)
    scopes.check(api.dialect.name, request, endpoint.name)
    if CONFIG.limits_enabled:
        api.limit(principal, endpoint)
    if endpoint.precheck:
        endpoint.precheck(request, principal, now, chosen)
    active = faults.applies(fault_cfg, api.dialect.name)
    if active:
        _before(api, fault_cfg)
    ctx = Ctx(request, principal, now, fault_cfg if active else faults.DEFAULTS, tracking)
    ctx.webhook_url = webhook_url
    ctx.variants = chosen
    if request.method == "GET":
        resp = endpoint.handler(ctx, **kwargs)
    else:
        with writelock.held(), transaction.atomic():
            resp = endpoint.handler(ctx, **kwargs)
        if active and faults.draw(fault_cfg, "lost_response_rate"):
            _drop_connection(request)
    if ctx.after_commit_error is not None:
        raise ctx.after_commit_error
    return resp


DRAIN_LIMIT = 16 * 1024 * 1024


def _drain(request: HttpRequest) -> bool:
    """Read and drop an oversized body so the client sees the 413, not a reset."""
    length = request.META.get("CONTENT_LENGTH") or "0"
    if not length.isdigit() or int(length) > DRAIN_LIMIT:
        return False
    stream, left = request.META["wsgi.input"], int(length)
    while left > 0:
        chunk = stream.read(min(left, 65536))
        if not chunk:
            break
        left -= len(chunk)
    return True


def _before(api: Api, cfg: dict[str, Any]) -> None:
    if cfg["latency_ms"]:
        time.sleep(cfg["latency_ms"] / 1000)
    rng = faults.draw(cfg, "error_rate")
    if rng:
        status = rng.choice([500, 502, 503])
        messages = {500: "Internal server error.", 502: "Bad gateway.", 503: "Service unavailable."}
        raise ApiError(status, messages[status], code=status)
    if faults.draw(cfg, "timeout_rate"):
        # Held past the client's deadline, then served normally: the client cannot know
        # whether the request took effect, which is the point of this fault.
        time.sleep(cfg["timeout_seconds"])


def _drop_connection(request: HttpRequest) -> None:
    """Close the socket under the server: the change is committed, no answer arrives."""
    sock = request.META.get("gunicorn.socket")
    counters.hit("faults lost_response")
    if sock is None:
        return
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
