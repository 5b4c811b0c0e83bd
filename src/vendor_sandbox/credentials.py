"""Credentials of the emulated vendor tenants, created once per sandbox DB."""

from __future__ import annotations

import base64
import secrets
import uuid
from typing import Any

from django.db import transaction

from vendor_sandbox.conf import CONFIG
from vendor_sandbox.models import SandboxState, WebexLicense, WebexOrg, ZoomAccount


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
        )
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
        },
    }
