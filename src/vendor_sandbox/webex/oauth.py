"""Webex service-app tokens: ``POST /webex/v1/access_token`` (refresh), and the check of
every API request's token.

The organisation's fixed token (``WebexOrg.token``) stands for an admin's token with
every scope that never expires: a sandbox convenience for tests that call the API
directly. CampusConf's services use the service app's tokens, as in production: an
access token lives ``SANDBOX_WEBEX_ACCESS_SECONDS`` (14 days), a refresh token
``SANDBOX_WEBEX_REFRESH_SECONDS`` (90 days) and each use renews that lifetime, on the
sandbox clock; the refresh answer carries the same refresh token. A revoked
authorisation (the app disabled) refuses both at once.
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from vendor_sandbox import clock, counters, scopes, writelock
from vendor_sandbox.conf import CONFIG
from vendor_sandbox.errors import WEBEX, ApiError, json_response
from vendor_sandbox.models import WebexApp, WebexOrg, WebexToken

AUTH_MESSAGE = "The request requires a valid access token set in the Authorization request header."
BAD_REFRESH = "The refresh token provided is expired, revoked, malformed, or invalid."
LOOKUP_SQL = (
    "SELECT t.kind, t.expires_at, a.org_id, a.scopes, a.disabled "
    "FROM vendor_sandbox_webextoken t JOIN vendor_sandbox_webexapp a "
    "ON a.client_id = t.app_id WHERE t.token = %s"
)
ALL_SCOPES = frozenset().union(*scopes.WEBEX.values())
_fixed: dict[str, WebexOrg] = {}  # the organisations' fixed tokens, which never change
_orgs: dict[str, WebexOrg] = {}


def authenticate(request: Any, now: datetime) -> WebexOrg:
    scheme, _, token = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise ApiError(401, AUTH_MESSAGE)
    org = _fixed.get(token)
    if org is not None:
        scopes.remember(request, ALL_SCOPES)
        return org
    with connection.cursor() as cur:
        cur.execute(LOOKUP_SQL, [token])
        row = cur.fetchone()
    if row is None:
        org = WebexOrg.objects.filter(token=token).first()
        if org is None:
            raise ApiError(401, AUTH_MESSAGE)
        _fixed[token] = org
        scopes.remember(request, ALL_SCOPES)
        return org
    if row[0] != "access" or row[4] or _stamp(row[1]) <= now:
        raise ApiError(401, AUTH_MESSAGE)
    scopes.remember(request, _json_list(row[3]))
    org = _orgs.get(row[2])
    if org is None:
        org = _orgs[row[2]] = WebexOrg.objects.get(org_id=row[2])
    return org


@csrf_exempt
def token(request: HttpRequest) -> HttpResponse:
    tracking = WEBEX.tracking_id()
    try:
        resp = _refresh(request)
    except ApiError as err:
        resp = WEBEX.render(err, tracking)
    resp[WEBEX.tracking_header] = tracking
    counters.hit(f"webex {request.method} oauth.token {resp.status_code}")
    return resp


def _refresh(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        raise ApiError(405, "Method not allowed.")
    form = request.POST
    app = WebexApp.objects.filter(client_id=form.get("client_id", "")).first()
    if app is None or app.client_secret != form.get("client_secret", ""):
        raise ApiError(401, "The client credentials are invalid.")
    if form.get("grant_type") != "refresh_token":
        raise ApiError(400, "unsupported_grant_type")
    now = clock.now()
    with writelock.held(), transaction.atomic():
        refresh = WebexToken.objects.filter(
            token=form.get("refresh_token", ""), kind="refresh", app=app
        ).first()
        if refresh is None or app.disabled or refresh.expires_at <= now:
            raise ApiError(400, BAD_REFRESH)
        # A refresh token in use stays valid: its lifetime starts again (Errata W-h).
        refresh.expires_at = now + timedelta(seconds=CONFIG.webex_refresh_seconds)
        refresh.save(update_fields=["expires_at"])
        access = issue_access(app, refresh.token, now)
    return json_response(
        {
            "access_token": access.token,
            "expires_in": CONFIG.webex_access_seconds,
            "refresh_token": refresh.token,
            "refresh_token_expires_in": CONFIG.webex_refresh_seconds,
            "token_type": "Bearer",
        }
    )


def issue_access(app: WebexApp, refresh: str, now: datetime) -> WebexToken:
    return WebexToken.objects.create(
        token="sbx-wxsa-" + secrets.token_urlsafe(32),
        kind="access",
        app=app,
        expires_at=now + timedelta(seconds=CONFIG.webex_access_seconds),
        refresh=refresh,
    )


def issue_pair(app: WebexApp, now: datetime) -> tuple[WebexToken, WebexToken]:
    """What the Developer Portal hands out once a full admin has authorised the app."""
    refresh = WebexToken.objects.create(
        token="sbx-wxsr-" + secrets.token_urlsafe(32),
        kind="refresh",
        app=app,
        expires_at=now + timedelta(seconds=CONFIG.webex_refresh_seconds),
    )
    return issue_access(app, refresh.token, now), refresh


def _stamp(value: datetime | str) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _json_list(value: Any) -> list[str]:
    data = json.loads(value) if isinstance(value, str) else value
    return [str(s) for s in data or []]
