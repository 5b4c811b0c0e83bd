"""The scope each emulated endpoint needs, and the vendors' refusals when a token lacks it.

Zoom: every endpoint names a classic scope (``user:read:admin``) and the granular one of
its reference; an app has one kind or the other, so either will do. A token carries the
scopes its app had when it was issued. A refusal is HTTP 400 with code 4711 and the
scopes in the message (docs/vendors.md gives the sources).

Webex: the People API documents ``spark-admin:people_read`` for reading people and
``spark-admin:people_write`` (with read) for adding, changing and removing them; the
Licenses API ``spark-admin:licenses_read``. A token lacking one is refused with 403.

``authenticate`` (zoom/oauth.py, webex/oauth.py) puts the token's scopes into the
request's META under `KEY`; the pipeline and the fast paths then call `check`.
"""

from __future__ import annotations

from typing import Any

from vendor_sandbox.errors import ApiError

KEY = "vendor_sandbox.scopes"

ZOOM_READ, ZOOM_WRITE = "user:read:admin", "user:write:admin"
ZOOM: dict[str, tuple[str, ...]] = {
    "users.list": ("user:read:list_users:admin", ZOOM_READ),
    "users.get": ("user:read:user:admin", ZOOM_READ),
    "users.email": ("user:read:user:admin", ZOOM_READ),
    "users.summary": ("user:read:list_users:admin", ZOOM_READ),
    "users.create": ("user:write:user:admin", ZOOM_WRITE),
    "users.update": ("user:update:user:admin", ZOOM_WRITE),
    "users.status": ("user:update:user:admin", ZOOM_WRITE),
    "users.delete": ("user:delete:user:admin", ZOOM_WRITE),
}
ZOOM_DEFAULT = [ZOOM_READ, ZOOM_WRITE, "user:master"]

PEOPLE_READ = "spark-admin:people_read"
PEOPLE_WRITE = "spark-admin:people_write"
LICENSES_READ = "spark-admin:licenses_read"
WEBEX: dict[str, tuple[str, ...]] = {
    "people.list": (PEOPLE_READ,),
    "people.get": (PEOPLE_READ,),
    "people.create": (PEOPLE_READ, PEOPLE_WRITE),
    "people.update": (PEOPLE_READ, PEOPLE_WRITE),
    "people.delete": (PEOPLE_READ, PEOPLE_WRITE),
    "licenses.list": (LICENSES_READ,),
    "licenses.users": (PEOPLE_READ, PEOPLE_WRITE),
    "jobs.activation": (PEOPLE_READ, PEOPLE_WRITE),
    "jobs.status": (PEOPLE_READ,),
    "jobs.errors": (PEOPLE_READ,),
}
WEBEX_DEFAULT = [PEOPLE_READ, PEOPLE_WRITE, LICENSES_READ]
WEBEX_FORBIDDEN = "The request is understood, but it has been refused or access is not allowed."

# The fast paths' routes, by (method, path): the endpoint each one serves.
FAST_ROUTES = {
    ("POST", "/zoom/v2/users"): ("zoom", "users.create"),
    ("GET", "/zoom/v2/users"): ("zoom", "users.list"),
    ("POST", "/webex/v1/people"): ("webex", "people.create"),
    ("GET", "/webex/v1/people"): ("webex", "people.list"),
}


def remember(request: Any, granted: list[str] | tuple[str, ...] | frozenset[str]) -> None:
    request.META[KEY] = frozenset(granted)


def check(vendor: str, request: Any, endpoint: str) -> None:
    """Raise the vendor's refusal if the request's token lacks a scope ``endpoint`` needs."""
    granted: frozenset[str] | None = request.META.get(KEY)
    if granted is None:
        return  # not an API token (never the case behind authenticate)
    if vendor == "zoom":
        need = ZOOM.get(endpoint, ())
        if need and not granted.intersection(need):
            listed = ", ".join(need)
            raise ApiError(
                400, f"Invalid access token, does not contain scopes:[{listed}].", code=4711
            )
    elif vendor == "webex" and any(s not in granted for s in WEBEX.get(endpoint, ())):
        raise ApiError(403, WEBEX_FORBIDDEN)  # Webex does not say which scope


def fast_allowed(environ: dict[str, Any]) -> bool:
    """Whether a request the fast paths took may be served there (else Django refuses it)."""
    route = FAST_ROUTES.get((environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", "")))
    if route is None:
        return True
    try:
        check(route[0], _Meta(environ), route[1])
    except ApiError:
        return False
    return True


class _Meta:
    def __init__(self, environ: dict[str, Any]) -> None:
        self.META = environ
