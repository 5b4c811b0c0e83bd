"""One-time links mailed by the vendors, and their expiry on the sandbox clock."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from vendor_sandbox import clock, sql
from vendor_sandbox.conf import CONFIG
from vendor_sandbox.models import Link

# Days a link of each kind stays valid; invitations follow the vendor settings.
VALIDITY_DAYS = {
    "webex_activate": lambda: CONFIG.webex_invite_days,
    "webex_convert": lambda: CONFIG.webex_invite_days,
    "webex_reset": lambda: 1.0,
    "zoom_activate": lambda: CONFIG.zoom_invite_days,
    "zoom_join": lambda: CONFIG.zoom_invite_days,
    "zoom_reset": lambda: 1.0,
}
PATHS = {
    "webex_activate": "/webex/activate/",
    "webex_convert": "/webex/convert/",
    "webex_reset": "/webex/reset/",
    "zoom_activate": "/zoom/activate/",
    "zoom_join": "/zoom/join/",
    "zoom_reset": "/zoom/reset/",
}


def new(kind: str, email: str, target: str, now: datetime | None = None) -> str:
    """Create a link and return its absolute URL (built on the public base URL)."""
    token = new_token()
    row = {"token": token, "kind": kind, "email": email, "target": target}
    sql.insert("link", {**row, "created_at": now or clock.now(), "used_at": None})
    return url(kind, token)


def new_token() -> str:
    return secrets.token_urlsafe(24)


def url(kind: str, token: str) -> str:
    """The link's absolute URL, on the public base URL."""
    return f"{CONFIG.public_url}{PATHS[kind]}{token}"


def expires_at(link: Link) -> datetime:
    return link.created_at + timedelta(days=VALIDITY_DAYS[link.kind]())


def find(kind: str, token: str) -> tuple[Link | None, bool]:
    """The link and whether it has expired (used links count as expired)."""
    link = Link.objects.filter(token=token, kind=kind).first()
    if link is None:
        return None, True
    return link, link.used_at is not None or expires_at(link) < clock.now()
