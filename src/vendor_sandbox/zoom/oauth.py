"""Zoom Server-to-Server OAuth: ``POST /zoom/oauth/token`` with account credentials."""

from __future__ import annotations

import base64
import binascii
import secrets
import time
from datetime import UTC, datetime, timedelta

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from vendor_sandbox import counters, faults
from vendor_sandbox.errors import ApiError, json_response
from vendor_sandbox.models import ZoomAccount, ZoomToken

TOKEN_SECONDS = 3600
SCOPES = "user:read:admin user:write:admin user:master"
_cache: dict[str, tuple[ZoomAccount, datetime]] = {}


def _oauth_error(status: int, error: str, reason: str) -> HttpResponse:
    return json_response({"reason": reason, "error": error}, status)


@csrf_exempt
def token(request: HttpRequest) -> HttpResponse:
    resp = _token(request)
    counters.hit(f"zoom {request.method} oauth.token {resp.status_code}")
    return resp


def _token(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _oauth_error(405, "invalid_request", "Method not allowed")
    scheme, _, encoded = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    try:
        client_id, _, secret = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        client_id = secret = ""
    account = ZoomAccount.objects.filter(client_id=client_id).first()
    if scheme.lower() != "basic" or account is None or account.client_secret != secret:
        return _oauth_error(401, "invalid_client", "Invalid client_id or client_secret")
    # Zoom takes the grant in the query string or the form body; accept both.
    params = request.POST if request.POST else request.GET
    grant = params.get("grant_type", "")
    if grant != "account_credentials":
        return _oauth_error(400, "unsupported_grant_type", "unsupported grant type")
    if params.get("account_id") != account.account_id:
        return _oauth_error(400, "invalid_request", "Invalid request : Account does not exist.")
    offset = faults.load().offset
    now = datetime.fromtimestamp(time.time() + offset, tz=UTC)
    value = "sbx-zoom-" + secrets.token_urlsafe(32)
    ZoomToken.objects.create(
        token=value, account=account, expires_at=now + timedelta(seconds=TOKEN_SECONDS)
    )
    return json_response(
        {
            "access_token": value,
            "token_type": "bearer",
            "expires_in": TOKEN_SECONDS,
            "scope": SCOPES,
            "api_url": request.build_absolute_uri("/zoom"),
        }
    )


def authenticate(request: HttpRequest, now: datetime) -> ZoomAccount:
    scheme, _, value = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value:
        raise ApiError(401, "Invalid access token.", code=124)
    cached = _cache.get(value)
    if cached is None:
        row = ZoomToken.objects.select_related("account").filter(token=value).first()
        if row is None:
            raise ApiError(401, "Invalid access token.", code=124)
        cached = (row.account, row.expires_at)
        _cache[value] = cached
    account, expires_at = cached
    if expires_at <= now:
        raise ApiError(401, "Access token is expired.", code=124)
    return account
