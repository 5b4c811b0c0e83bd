"""Credentials of the emulated vendor tenants, created once per sandbox DB.

Besides the organisation's fixed Webex token (a test convenience, see webex/oauth.py),
the Webex organisation has a service app with a token pair, as a full admin's
authorisation gives it; a new pair is issued only when the last one can no longer be
renewed (its refresh token expired, or the authorisation was revoked and granted again).
"""

from __future__ import annotations

import base64
import secrets
import uuid
from typing import Any

from django.db import transaction

from vendor_sandbox import clock, scopes
from vendor_sandbox.conf import CONFIG
from vendor_sandbox.models import (
    SandboxState,
    WebexApp,
    WebexLicense,
    WebexOrg,
    WebexToken,
    ZoomAccount,
)


def webex_id(kind: str, value: str) -> str:
    """Webex ids are unpadded base64 of ``ciscospark://us/<KIND>/<value>``."""
    raw = f"ciscospark://us/{kind}/{value}".encode()
    return base64.b64encode(raw).decode().rstrip("=")


@transaction.atomic
def ensure() -> dict[str, Any]:
    state, _ = SandboxState.objects.get_or_create(
        id=1,
        defaults={"admin_token": CONFIG.admin_token or "sbx-admin-" + secrets.token_urlsafe(24)},
    )
    if CONFIG.admin_token and state.admin_token != CONFIG.admin_token:
        state.admin_token = CONFIG.admin_token
        state.save(update_fields=["admin_token"])
    org = WebexOrg.objects.first()
    if org is None:
        org_uuid = str(uuid.uuid4())
        org = WebexOrg.objects.create(
            org_id=webex_id("ORGANIZATION", org_uuid),
            name=CONFIG.org_name,
            token="sbx-webex-" + secrets.token_urlsafe(32),
        )
        WebexLicense.objects.create(
            license_id=webex_id("LICENSE", f"{org_uuid}/EE_{secrets.token_hex(8)}_campusconf"),
            org=org,
            name="Meeting - Webex Enterprise Edition",
            total_units=CONFIG.webex_licence_units,
            site_url="campusconf.webex.com",
        )
        WebexLicense.objects.create(
            license_id=webex_id("LICENSE", f"{org_uuid}/MS_{secrets.token_hex(8)}"),
            org=org,
            name="Messaging",
            total_units=CONFIG.webex_licence_units,
        )
    account = ZoomAccount.objects.first()
    if account is None:
        account = ZoomAccount.objects.create(
            account_id=secrets.token_urlsafe(16),
            client_id=secrets.token_urlsafe(16),
            client_secret=secrets.token_urlsafe(24),
            webhook_secret=secrets.token_urlsafe(16),
            scopes=list(scopes.ZOOM_DEFAULT),
        )
    app = WebexApp.objects.filter(org=org).first()
    if app is None:
        app = WebexApp.objects.create(
            client_id="C" + secrets.token_hex(32),
            client_secret=secrets.token_hex(32),
            org=org,
            scopes=list(scopes.WEBEX_DEFAULT),
        )
    access, refresh = _token_pair(app)
    base = CONFIG.public_url
    org_uuid = base64.b64decode(org.org_id + "=" * (-len(org.org_id) % 4)).decode()
    return {
        "sandbox_url": base,
        "admin_token": state.admin_token,
        "webex": {
            "base_url": f"{base}/webex/v1",
            "scim_base_url": f"{base}/webex/identity/scim/{org_uuid.rsplit('/', 1)[-1]}/v2",
            "token": org.token,
            "org_id": org.org_id,
            "org_name": org.name,
            "licenses": {lic.name: lic.license_id for lic in WebexLicense.objects.filter(org=org)},
            # The service app: what CampusConf's Webex service uses (with renewal).
            "client_id": app.client_id,
            "client_secret": app.client_secret,
            "access_token": access.token,
            "access_token_expires_at": access.expires_at.timestamp(),
            "refresh_token": refresh.token,
            "scopes": list(app.scopes),
        },
        "zoom": {
            "base_url": f"{base}/zoom/v2",
            "oauth_url": f"{base}/zoom/oauth/token",
            "scim_base_url": f"{base}/zoom/scim2",
            "account_id": account.account_id,
            "client_id": account.client_id,
            "client_secret": account.client_secret,
            "webhook_secret_token": CONFIG.webhook_secret or account.webhook_secret,
            "plan": CONFIG.zoom_plan,
            "scopes": list(account.scopes),
        },
    }


def _token_pair(app: WebexApp) -> tuple[WebexToken, WebexToken]:
    """The app's latest token pair; a new one when its refresh token is no longer good."""
    from vendor_sandbox.webex.oauth import issue_access, issue_pair

    now = clock.now()
    refresh = (
        WebexToken.objects.filter(app=app, kind="refresh", expires_at__gt=now)
        .order_by("-expires_at")
        .first()
    )
    if refresh is None:  # never authorised, or unused too long: authorised (again) now
        return issue_pair(app, now)
    access = WebexToken.objects.filter(refresh=refresh.token).order_by("-expires_at").first()
    return access or issue_access(app, refresh.token, now), refresh


def configure(body: dict[str, Any]) -> dict[str, Any]:
    """The admin API's changes to a vendor's app (``PUT /_admin/credentials``):
    ``{"vendor": "zoom"|"webex", "scopes": [...], "disabled": bool, "rotate_secret": true}``.

    Scopes: a Zoom token keeps the scopes it was issued with (a new token is needed to
    get added ones); Webex tokens follow the app at once. Disabled: Zoom's app
    deactivated, Webex's authorisation suspended — their tokens stop working; enabled
    again, the same tokens work again (at Webex, authorising again would issue a new
    pair: a sandbox shortcut). A rotated client secret refuses the old one; tokens
    already issued keep working.
    """
    vendor = body.get("vendor")
    unknown = set(body) - {"vendor", "scopes", "disabled", "rotate_secret"}
    if vendor not in ("zoom", "webex") or unknown:
        raise ValueError("body: vendor (zoom or webex), and any of scopes, disabled, rotate_secret")
    app: ZoomAccount | WebexApp | None = (
        ZoomAccount.objects.first() if vendor == "zoom" else WebexApp.objects.first()
    )
    if app is None:
        raise ValueError("no credentials yet: run init-credentials")
    if "scopes" in body:
        wanted = body["scopes"]
        if not isinstance(wanted, list) or not all(isinstance(x, str) for x in wanted):
            raise ValueError("scopes must be a list of strings")
        app.scopes = wanted
    if "disabled" in body:
        if not isinstance(body["disabled"], bool):
            raise ValueError("disabled must be true or false")
        app.disabled = body["disabled"]
    if body.get("rotate_secret"):
        app.client_secret = (
            secrets.token_hex(32) if vendor == "webex" else secrets.token_urlsafe(24)
        )
    app.save()
    return ensure()


def restore_defaults() -> None:
    """Back to the apps as first authorised (the admin reset): default scopes, enabled."""
    ZoomAccount.objects.update(scopes=list(scopes.ZOOM_DEFAULT), disabled=False)
    WebexApp.objects.update(scopes=list(scopes.WEBEX_DEFAULT), disabled=False)
