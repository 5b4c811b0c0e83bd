"""Sandbox settings, read once from ``SANDBOX_*`` environment variables.

Everything docs/vendors.md marks UNCONFIRMED is a value here, so it can be changed without
touching code when the vendors' real behaviour is known.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


def _env(name: str, default: str) -> str:
    return os.environ.get(f"SANDBOX_{name}", default)


def _flag(name: str, default: bool) -> bool:
    raw = _env(name, "1" if default else "0").strip().lower()
    return raw in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class SandboxConfig:
    db_path: Path
    public_url: str
    org_name: str
    smtp_host: str
    smtp_port: int  # 0 = record mails in the DB only, never connect
    mail_from_webex: str
    mail_from_zoom: str
    zoom_plan: str  # "Pro" or "Business"
    rate_scale: float
    limits_enabled: bool
    webex_rate_per_minute: int
    zoom_daily_create_limit: int | None  # None = the plan's documented cap
    zoom_paid_seats: int  # 0 = no cap on paid (type 2) users
    webhook_url: str
    webhook_secret: str  # "" = the Zoom account's generated secret token
    webex_invite_days: float
    zoom_invite_days: float
    zoom_page_token_minutes: float
    webex_page_default: int
    webex_page_max: int
    webex_verified_domains: tuple[str, ...]  # "*" = every domain (W-f)
    webex_licence_units: int  # totalUnits of each licence of a new org
    zoom_token_seconds: int  # a Server-to-Server token's lifetime (Zoom: one hour)
    zoom_token_grace_seconds: float  # variant zoom_token_reissue=grace: old tokens' reprieve
    webex_access_seconds: int  # a service app's access token (Webex's example: 14 days)
    webex_refresh_seconds: int  # its refresh token, renewed on each use (90 days)
    admin_token: str  # "" = generated once and kept in the sandbox DB
    fault_seed: int
    max_body_bytes: int
    workers: int
    threads: int
    count_clients: bool  # count requests by client address too (the multi-host proof)


def load() -> SandboxConfig:
    daily = _env("ZOOM_DAILY_CREATE_LIMIT", "")
    return SandboxConfig(
        db_path=Path(_env("DB", "var/sandbox.sqlite3")).resolve(),
        public_url=_env("PUBLIC_URL", "http://127.0.0.1:8100").rstrip("/"),
        org_name=_env("ORG_NAME", "CampusConf University"),
        smtp_host=_env("SMTP_HOST", "127.0.0.1"),
        smtp_port=int(_env("SMTP_PORT", "1025")),
        mail_from_webex=_env("MAIL_FROM_WEBEX", "Cisco Webex <noreply@webex.sandbox.test>"),
        mail_from_zoom=_env("MAIL_FROM_ZOOM", "Zoom <no-reply@zoom.sandbox.test>"),
        zoom_plan="Business" if _env("ZOOM_PLAN", "Pro").lower() == "business" else "Pro",
        rate_scale=float(_env("RATE_SCALE", "1")),
        limits_enabled=_flag("LIMITS", True),
        webex_rate_per_minute=int(_env("WEBEX_RATE_PER_MINUTE", "300")),
        zoom_daily_create_limit=int(daily) if daily else None,
        zoom_paid_seats=int(_env("ZOOM_PAID_SEATS", "0")),
        webhook_url=_env("WEBHOOK_URL", ""),
        webhook_secret=_env("WEBHOOK_SECRET", ""),
        webex_invite_days=float(_env("WEBEX_INVITE_DAYS", "15")),
        zoom_invite_days=float(_env("ZOOM_INVITE_DAYS", "30")),
        zoom_page_token_minutes=float(_env("ZOOM_PAGE_TOKEN_MINUTES", "15")),
        webex_page_default=int(_env("WEBEX_PAGE_DEFAULT", "100")),
        webex_page_max=int(_env("WEBEX_PAGE_MAX", "1000")),
        webex_verified_domains=tuple(
            d.strip().lower() for d in _env("WEBEX_VERIFIED_DOMAINS", "*").split(",") if d.strip()
        ),
        webex_licence_units=int(_env("WEBEX_LICENCE_UNITS", "100000")),
        zoom_token_seconds=int(_env("ZOOM_TOKEN_SECONDS", "3600")),
        zoom_token_grace_seconds=float(_env("ZOOM_TOKEN_GRACE_SECONDS", "5")),
        webex_access_seconds=int(_env("WEBEX_ACCESS_SECONDS", str(14 * 86400))),
        webex_refresh_seconds=int(_env("WEBEX_REFRESH_SECONDS", str(90 * 86400))),
        admin_token=_env("ADMIN_TOKEN", ""),
        fault_seed=int(_env("FAULT_SEED", "0")),
        max_body_bytes=int(_env("MAX_BODY_BYTES", str(256 * 1024))),
        workers=int(_env("WORKERS", "2")),
        threads=int(_env("THREADS", "8")),
        count_clients=_flag("COUNT_CLIENTS", False),
    )


CONFIG = load()
