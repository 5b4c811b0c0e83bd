"""What every request on the fast paths checks first, as ``pipeline`` does for Django.

``creates`` and ``list_pages`` serve a request only when nothing
unusual is asked of it; each check here raises ``Fallback`` to hand it to Django before
anything is written or counted. ``limits`` counts it against the vendor's budgets with
``ratelimit``'s own checks, so both paths share every budget and write the same 429.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from vendor_sandbox import counters, faults, ratelimit, scopes, variants
from vendor_sandbox.conf import CONFIG
from vendor_sandbox.errors import ApiError, Dialect
from vendor_sandbox.fast import group_commit
from vendor_sandbox.fast.group_commit import Fallback

# Faults that change what a request does; any of them on sends the request to Django.
FAULT_KEYS = (
    "error_rate", "latency_ms", "timeout_rate", "lost_response_rate",
    "webex_400_after_create_rate", "consistency_delay_seconds",
)  # fmt: skip


def state(vendor: str) -> tuple[datetime, str]:
    """The sandbox clock's now and the webhook URL; Fallback if a fault or a variant is on."""
    row = group_commit.connection().execute(faults.STATE_SQL).fetchone()
    if row is None:
        raise Fallback
    cfg, offset, webhook_url, chosen = faults.from_row(row)
    if faults.applies(cfg, vendor) and any(cfg[k] for k in FAULT_KEYS):
        raise Fallback
    if variants.any_changed(chosen, vendor):
        raise Fallback  # the Django path is the one author of every variant's answers
    now = datetime.fromtimestamp(time.time() + offset, tz=UTC)
    return now, webhook_url


def principal(
    authenticate: Callable[[Any, datetime], Any], environ: dict[str, Any], now: datetime
) -> Any:
    try:  # on the sandbox clock: a token expires when the moved clock says so
        principal = authenticate(SimpleNamespace(META=environ), now)
    except ApiError:
        raise Fallback from None
    if not scopes.fast_allowed(environ):
        raise Fallback  # Django answers the vendor's refusal
    return principal


def body(raw: bytes) -> dict[str, Any]:
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise Fallback from None
    if not isinstance(data, dict):
        raise Fallback
    return data


def limits(conn: sqlite3.Connection, *checks: Callable[[ratelimit.Bump], None]) -> ApiError | None:
    """Count the request as the Django path does; the 429 to answer if a budget is spent.

    Called inside a group-commit write, in the request's savepoint: the counts are kept
    with its writes, or with its 429 (the write returns it rather than raising), and are
    rolled back with the savepoint if the request falls back, so Django counts it once.
    """
    if not CONFIG.limits_enabled:
        return None
    bump = ratelimit.sqlite_bump(conn)
    try:
        for check in checks:
            check(bump)
    except ApiError as err:
        return err
    return None


def count_only(*checks: Callable[[ratelimit.Bump], None]) -> None:
    """Count a request that writes nothing else (a list page); raises its 429."""
    if not CONFIG.limits_enabled:
        return
    refused = group_commit.commit(lambda conn: limits(conn, *checks))
    if refused is not None:
        raise refused


def refuse(
    err: ApiError,
    dialect: Dialect,
    label: str,
    tracking: str,
    start_response: Callable[..., Any],
) -> list[bytes]:
    """The error as ``pipeline.route`` answers it: the dialect's body and headers."""
    resp = dialect.render(err, tracking)
    resp[dialect.tracking_header] = tracking
    start_response(f"{resp.status_code} {resp.reason_phrase}", list(resp.items()))
    counters.hit(f"{label} {resp.status_code}")
    return [resp.content]
