"""Zoom Server-to-Server OAuth: ``POST /zoom/oauth/token`` with account credentials, and
the check of every API request's token.

A new token knocks out the ones issued before it (variant ``zoom_token_reissue``:
``invalidates``, the default; ``grace`` gives them ``SANDBOX_ZOOM_TOKEN_GRACE_SECONDS``;
``independent`` keeps them until they expire). A token carries the scopes its app had
when it was issued. A deactivated app gets no token, and its tokens stop working.
Tokens are checked against the shared DB on every request, so a token knocked out by
one worker process is refused by all of them at once.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from datetime import UTC, datetime, timedelta

from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from vendor_sandbox import counters, faults, scopes, writelock
from vendor_sandbox.conf import CONFIG
from vendor_sandbox.errors import ApiError, json_response
from vendor_sandbox.models import ZoomAccount, ZoomToken

LOOKUP_SQL = (
    "SELECT t.account_id, t.expires_at, t.superseded_at, t.scopes, a.disabled "
    "FROM vendor_sandbox_zoomtoken t JOIN vendor_sandbox_zoomaccount a "
    "ON a.account_id = t.account_id WHERE t.token = %s"
)
_accounts: dict[str, ZoomAccount] = {}  # by id: what handlers read of it never changes


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
    if account.disabled:
        # Zoom's OAuth error table: 4717 "The app has been disabled" (the envelope is ours).
        return json_response(
            {"reason": "The app has been disabled", "error": "invalid_client", "code": 4717}, 401
        )
    # Zoom takes the grant in the query string or the form body; accept both.
    params = request.POST if request.POST else request.GET
    grant = params.get("grant_type", "")
    if grant != "account_credentials":
        return _oauth_error(400, "unsupported_grant_type", "unsupported grant type")
    if params.get("account_id") != account.account_id:
        return _oauth_error(400, "invalid_request", "Invalid request : Account does not exist.")
    state = faults.load()
    now = datetime.fromtimestamp(datetime.now(UTC).timestamp() + state.offset, tz=UTC)
    value = "sbx-zoom-" + secrets.token_urlsafe(32)
    with writelock.held(), transaction.atomic():
        if state.variants.get("zoom_token_reissue", "invalidates") != "independent":
            ZoomToken.objects.filter(account=account, superseded_at__isnull=True).update(
                superseded_at=now
            )
        ZoomToken.objects.create(
            token=value,
            account=account,
            expires_at=now + timedelta(seconds=CONFIG.zoom_token_seconds),
            scopes=list(account.scopes),
            issued_at=now,
        )
    return json_response(
        {
            "access_token": value,
            "token_type": "bearer",
            "expires_in": CONFIG.zoom_token_seconds,
            "scope": " ".join(account.scopes),
            "api_url": request.build_absolute_uri("/zoom"),
        }
    )


def authenticate(request: HttpRequest, now: datetime) -> ZoomAccount:
    scheme, _, value = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value:
        raise ApiError(401, "Invalid access token.", code=124)
    with connection.cursor() as cur:
        cur.execute(LOOKUP_SQL, [value])
        row = cur.fetchone()
    if row is None or row[4]:  # unknown, or its app deactivated
        raise ApiError(401, "Invalid access token.", code=124)
    account_id, expires_at, superseded_at, granted, _ = row
    if _stamp(expires_at) <= now:
        raise ApiError(401, "Access token is expired.", code=124)
    if superseded_at is not None and _superseded(_stamp(superseded_at), now):
        raise ApiError(401, "Invalid access token.", code=124)
    scopes.remember(request, json.loads(granted) if isinstance(granted, str) else granted)
    account = _accounts.get(account_id)
    if account is None:
        account = _accounts[account_id] = ZoomAccount.objects.get(account_id=account_id)
    return account


def _superseded(at: datetime, now: datetime) -> bool:
    choice = faults.load().variants.get("zoom_token_reissue", "invalidates")
    if choice == "independent":
        return False
    grace = CONFIG.zoom_token_grace_seconds if choice == "grace" else 0.0
    return now >= at + timedelta(seconds=grace)


def _stamp(value: datetime | str) -> datetime:
    """A datetime column as the raw cursor gives it (SQLite: naive UTC text)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)
