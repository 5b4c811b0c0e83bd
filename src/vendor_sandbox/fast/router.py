"""The fast path's front door: the WSGI wrapper that sends the plain creates and list
pages to ``creates`` and ``list_pages``, and everything else, or anything they hand back
(``Fallback``), to Django with the body put back.

Which path served a request is the sandbox's own business, never on the wire: the
counters record it as ``fastpath <vendor> <method> <endpoint> <status>`` for the tests.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

from vendor_sandbox import counters
from vendor_sandbox.conf import CONFIG
from vendor_sandbox.errors import WEBEX, ZOOM, ApiError, Dialect
from vendor_sandbox.fast import checks, creates, group_commit, list_pages
from vendor_sandbox.fast.group_commit import Fallback
from vendor_sandbox.fast.list_pages import Answer

log = logging.getLogger(__name__)
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


# (method, path) -> handler, dialect, endpoint name (as the API module's route counts it)
ROUTES: dict[tuple[str, str], tuple[Callable[[dict[str, Any], bytes], Answer], Dialect, str]] = {
    ("POST", "/zoom/v2/users"): (creates.zoom_create, ZOOM, "users.create"),
    ("POST", "/webex/v1/people"): (creates.webex_create, WEBEX, "people.create"),
    ("GET", "/zoom/v2/users"): (list_pages.zoom_list, ZOOM, "users.list"),
    ("GET", "/webex/v1/people"): (list_pages.webex_list, WEBEX, "people.list"),
}
REASONS = {200: "200 OK", 201: "201 Created", 500: "500 Internal Server Error"}


def wrap(django_app: WsgiApp) -> WsgiApp:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "")
        route = ROUTES.get((method, environ.get("PATH_INFO", "")))
        length = environ.get("CONTENT_LENGTH") or "0"
        if route is None or not length.isdigit() or int(length) > CONFIG.max_body_bytes:
            return django_app(environ, start_response)
        raw = environ["wsgi.input"].read(int(length)) if method == "POST" else b""
        handler, dialect, name = route
        label = f"{dialect.name} {method} {name}"  # the request counter, as pipeline.route's
        tracking = dialect.tracking_id()
        group_commit.begin_request()
        extra: list[tuple[str, str]] = []
        try:
            status, body, extra = handler(environ, raw)
            data = json.dumps(body).encode()
        except ApiError as err:  # a spent budget, counted and committed: its 429
            counters.hit(f"fastpath {label} {err.status}")
            return checks.refuse(err, dialect, label, tracking, start_response)
        except Fallback:
            environ["wsgi.input"] = io.BytesIO(raw)
            return django_app(environ, start_response)
        except Exception:
            log.exception("unexpected error on the fast path")
            if not group_commit.committed():  # nothing written: Django may try it properly
                environ["wsgi.input"] = io.BytesIO(raw)
                return django_app(environ, start_response)
            status, resp = (
                500,
                dialect.render(ApiError(500, "Internal server error.", code=500), tracking),
            )
            data = resp.content
        start_response(
            REASONS[status],
            [
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(data))),
                *extra,
                (dialect.tracking_header, tracking),
            ],
        )
        counters.hit(f"{label} {status}")
        # Which path served is the sandbox's own business, never on the wire; tests read it.
        counters.hit(f"fastpath {label} {status}")
        return [data]

    return app
