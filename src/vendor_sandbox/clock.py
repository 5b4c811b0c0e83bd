"""The sandbox's movable clock: real time plus an offset kept in the DB.

Every worker process reads the offset from the shared DB, so moving the clock through
the admin API is seen by all of them at once.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from django.db import connection


def offset() -> float:
    with connection.cursor() as cur:
        cur.execute("SELECT clock_offset FROM vendor_sandbox_sandboxstate WHERE id = 1")
        row = cur.fetchone()
    return float(row[0]) if row else 0.0


def now_ts() -> float:
    return time.time() + offset()


def now() -> datetime:
    return datetime.fromtimestamp(now_ts(), tz=UTC)


def advance(seconds: float) -> float:
    with connection.cursor() as cur:
        cur.execute(
            "UPDATE vendor_sandbox_sandboxstate SET clock_offset = clock_offset + %s WHERE id = 1",
            [seconds],
        )
    return offset()


def set_offset(seconds: float) -> float:
    with connection.cursor() as cur:
        cur.execute(
            "UPDATE vendor_sandbox_sandboxstate SET clock_offset = %s WHERE id = 1", [seconds]
        )
    return offset()


def iso(dt: datetime | None, millis: bool = False) -> str | None:
    """Vendor timestamps: Zoom uses whole seconds, Webex milliseconds, both with Z."""
    if dt is None:
        return None
    dt = dt.astimezone(UTC)
    if millis:
        return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")
