"""Vendor rate limits, counted in the shared DB so they hold across worker processes.

The checks take the function that counts (``bump``): the Django path counts through
Django's connection, one commit per count; the fast path (``vendor_sandbox.fast``)
counts on its own SQLite connection inside its group commit. Both run the same SQL on
the same table, so they share every budget, and the same checks write the same 429s.
"""

from __future__ import annotations

import math
import sqlite3
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from django.db import connection

from vendor_sandbox import counters, writelock
from vendor_sandbox.conf import CONFIG
from vendor_sandbox.errors import ApiError

ZOOM_QPS = {
    "Pro": {"Light": 30, "Medium": 20, "Heavy": 10},
    "Business": {"Light": 80, "Medium": 60, "Heavy": 40},
}
ZOOM_DAILY_CREATE = {"Pro": 1500, "Business": 10000}
# Count one request in a window; the first hit of a window sweeps stale windows.
UPSERT = (
    "INSERT INTO vendor_sandbox_ratewindow (key, count, expires) VALUES (?, 1, ?) "
    "ON CONFLICT(key) DO UPDATE SET count = count + 1 RETURNING count"
)
SWEEP = "DELETE FROM vendor_sandbox_ratewindow WHERE expires < ?"
Bump = Callable[[str, float], int]  # (window key, expiry as a Unix time) -> count so far


def scaled(limit: int) -> int:
    return max(1, math.floor(limit * CONFIG.rate_scale))


def _bump(key: str, expires: float) -> int:
    """Count on Django's connection, committed at once (the Django path)."""
    with writelock.held(), connection.cursor() as cur:
        cur.execute(UPSERT.replace("?", "%s"), [key, expires])
        count = int(cur.fetchone()[0])
        if count == 1:
            cur.execute(SWEEP.replace("?", "%s"), [time.time() - 5])
    return count


def sqlite_bump(conn: sqlite3.Connection) -> Bump:
    """Count on ``conn``, in whatever transaction it has open (the fast path's batch)."""

    def bump(key: str, expires: float) -> int:
        count = int(conn.execute(UPSERT, (key, expires)).fetchone()[0])
        if count == 1:
            conn.execute(SWEEP, (time.time() - 5,))
        return count

    return bump


def _reject(headers: dict[str, str], message: str, code: int = 429) -> ApiError:
    counters.hit("429s")
    return ApiError(429, message, code=code, headers=headers)


def check_zoom_qps(account_id: str, category: str, bump: Bump = _bump) -> None:
    limit = scaled(ZOOM_QPS[CONFIG.zoom_plan][category])
    second = int(time.time())
    if bump(f"zoom:{account_id}:{category}@{second}", second + 1) > limit:
        raise _reject(
            {
                "X-RateLimit-Category": category,
                "X-RateLimit-Type": "QPS",
                "X-RateLimit-Limit": str(limit),
                "X-RateLimit-Remaining": "0",
                "Retry-After": "1",
            },
            "You have reached the maximum per-second rate limit for this API. Try again later.",
        )


def zoom_daily_limit() -> int:
    base = CONFIG.zoom_daily_create_limit or ZOOM_DAILY_CREATE[CONFIG.zoom_plan]
    return scaled(base)


def check_zoom_daily_create(
    account_id: str, sandbox_now: datetime, bump: Bump = _bump, *, headers: bool = True
) -> None:
    """The daily cap follows the sandbox clock, so moving it a day forward resets it.

    ``headers=False`` answers the cap's 429 without ``X-RateLimit-*`` and ``Retry-After``,
    as it has been seen (variant ``zoom_daily_cap_headers``).
    """
    limit = zoom_daily_limit()
    day = sandbox_now.astimezone(UTC).date()
    reset = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)
    key = f"zoom:{account_id}:daily-create@{day.isoformat()}"
    if bump(key, time.time() + 2 * 86400) > limit:
        documented = {
            "X-RateLimit-Category": "Light",
            "X-RateLimit-Type": "Daily-limit",
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": "0",
            "Retry-After": reset.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        raise _reject(
            documented if headers else {},
            f"You have exceeded the daily rate limit ({limit}) of Create User API requests "
            "permitted for this account. You may resume these requests at GMT 00:00:00.",
        )


def check_webex(org_id: str, endpoint: str, bump: Bump = _bump) -> None:
    limit = scaled(CONFIG.webex_rate_per_minute)
    now = time.time()
    minute = int(now // 60)
    if bump(f"webex:{org_id}:{endpoint}@{minute}", (minute + 1) * 60) > limit:
        retry = max(1, math.ceil((minute + 1) * 60 - now))
        raise _reject({"Retry-After": str(retry)}, "Too many requests, please try again later.")
