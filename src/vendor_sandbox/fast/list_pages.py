"""A lean path for the list pages a reconcile reads: ``GET /zoom/v2/users`` and
``GET /webex/v1/people``, in front of Django.

Reading 100,000 Zoom users is 334 pages; through Django each page cost about 39 ms of
CPU (the ORM building 300 model instances, and ``total_records`` counting the table
through an index that did not cover it). This path serves the plain pages — the query
a connector sends, a valid token, no fault on — with prepared SQL on the thread's SQLite
connection and writes the answer with the API modules' own functions
(``zoom.service.list_json``, ``webex.service.to_json``), so the wire output is the same
bytes. Its queries are the ORM's, written out; the rate limit is counted first, as on the
Django path. Anything else — another filter, a bad parameter, an expired page token —
goes to Django, before anything is counted.
"""

from __future__ import annotations

import json
import math
import re
import secrets
import sqlite3
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qsl, urlencode

from vendor_sandbox import ratelimit
from vendor_sandbox.conf import CONFIG
from vendor_sandbox.fast import checks, group_commit
from vendor_sandbox.fast.group_commit import Fallback

Answer = tuple[int, dict[str, Any], list[tuple[str, str]]]
HOST_RE = re.compile(r"^[A-Za-z0-9.-]+(:[0-9]+)?$")


def _params(environ: dict[str, Any], allowed: set[str]) -> dict[str, str]:
    """The query as Django's ``request.GET`` reads it, for the plain queries only."""
    query = environ.get("QUERY_STRING", "")
    if not query.isascii():
        raise Fallback  # Django's decoding of other bytes is its own business
    pairs = parse_qsl(query, keep_blank_values=True)
    params = dict(pairs)
    if len(params) != len(pairs) or not set(params) <= allowed:
        raise Fallback  # a repeated or another parameter: Django's filters
    return params


def _when(value: str | None) -> datetime | None:
    """A datetime column as the ORM reads it: naive UTC text, made aware."""
    return None if value is None else datetime.fromisoformat(value).replace(tzinfo=UTC)


# --- Zoom -------------------------------------------------------------------------------

ZOOM_COLUMNS = (
    "id, user_id, email, first_name, last_name, display_name, type, status, verified, "
    "dept, role_id, extra, created_at, last_login_time"
)
# ``service.live(account, now).filter(status=...)``, as the ORM writes it.
ZOOM_WHERE = (
    "account_id = ? AND visible_at <= ? AND NOT (invited_at < ? AND invited_at IS NOT NULL "
    "AND status = 'pending') AND status = ?"
)

# The same count for active or inactive users, where the NOT (… 'pending') clause is true.
ZOOM_COUNT = (
    "SELECT COUNT(*) FROM vendor_sandbox_zoomuser "
    "WHERE account_id = ? AND visible_at <= ? AND status = ?"
)


def zoom_list(environ: dict[str, Any], raw: bytes) -> Answer:
    from vendor_sandbox.zoom import oauth, service

    now, _ = checks.state("zoom")
    account = checks.principal(oauth.authenticate, environ, now)
    params = _params(environ, {"status", "page_size", "next_page_token"})
    conn = group_commit.connection()
    token = params.get("next_page_token", "")
    if token:
        row = conn.execute(
            "SELECT status, page_size, after_seq, created_at FROM vendor_sandbox_zoompagetoken "
            "WHERE token = ? AND account_id = ?",
            (token, account.account_id),
        ).fetchone()
        window = timedelta(minutes=CONFIG.zoom_page_token_minutes)
        if row is None or _when(row[3]) + window < now:  # type: ignore[operator]
            raise Fallback  # Django writes the 400
        status, size, after = str(row[0]), int(row[1]), int(row[2])
    else:
        status = params.get("status", "active")
        try:
            size = int(params.get("page_size", "30"))
        except ValueError:
            raise Fallback from None
        if status not in {"active", "inactive", "pending"} or size < 1:
            raise Fallback
        size, after = min(size, 300), 0
    # Counted before reading, as on the Django path (users.list is "Medium").
    checks.count_only(lambda bump: ratelimit.check_zoom_qps(account.account_id, "Medium", bump))
    where = (
        account.account_id, group_commit.dt(now), group_commit.dt(service.pending_cutoff(now)),
        status,
    )  # fmt: skip
    if status == "pending":
        query = f"SELECT COUNT(*) FROM vendor_sandbox_zoomuser WHERE {ZOOM_WHERE}"  # noqa: S608
        total = conn.execute(query, where).fetchone()[0]
    else:  # the expiry clause cannot match: the count reads its index range only (10 -> 6 ms)
        total = conn.execute(ZOOM_COUNT, where[:2] + where[3:]).fetchone()[0]
    rows = conn.execute(
        f"SELECT {ZOOM_COLUMNS} FROM vendor_sandbox_zoomuser "  # noqa: S608
        f"WHERE {ZOOM_WHERE} AND id > ? ORDER BY id LIMIT ?",
        (*where, after, size + 1),
    ).fetchall()
    page = rows[:size]
    next_token = ""
    if len(rows) > size:
        next_token = secrets.token_urlsafe(24)
        group_commit.commit(
            lambda c: _save_token(c, next_token, account.account_id, status, size, page, now)
        )
    body = {
        "next_page_token": next_token,
        "page_count": max(1, math.ceil(total / size)) if total else 0,
        "page_number": 1,
        "page_size": size,
        "total_records": total,
        "users": [service.list_json(_zoom_user(r)) for r in page],  # type: ignore[arg-type]
    }
    return 200, body, []


def _save_token(
    conn: sqlite3.Connection,
    token: str,
    account_id: str,
    status: str,
    size: int,
    page: list[Any],
    now: datetime,
) -> None:
    """As ``zoom.api.list_users`` does: tokens older than an hour go, the new one is kept."""
    conn.execute(
        "DELETE FROM vendor_sandbox_zoompagetoken WHERE created_at < ?",
        (group_commit.dt(now - timedelta(hours=1)),),
    )
    conn.execute(
        "INSERT INTO vendor_sandbox_zoompagetoken "
        "(token, account_id, status, page_size, after_seq, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        (token, account_id, status, size, page[-1][0], group_commit.dt(now)),
    )


def _zoom_user(row: tuple[Any, ...]) -> SimpleNamespace:
    """The fields ``service.list_json`` reads, typed as the model gives them."""
    return SimpleNamespace(
        id=row[0], user_id=row[1], email=row[2], first_name=row[3], last_name=row[4],
        display_name=row[5], type=row[6], status=row[7], verified=row[8], dept=row[9],
        role_id=row[10], extra=json.loads(row[11]), created_at=_when(row[12]),
        last_login_time=_when(row[13]),
    )  # fmt: skip


# --- Webex ------------------------------------------------------------------------------

WEBEX_COLUMNS = (
    "id, person_id, org_id, email, display_name, nick_name, first_name, last_name, roles, "
    "licenses, extra, created, last_modified, last_activity, invite_pending, login_enabled"
)


def webex_list(environ: dict[str, Any], raw: bytes) -> Answer:
    from vendor_sandbox.webex import api, service

    now, _ = checks.state("webex")
    org = checks.principal(api.authenticate, environ, now)
    params = _params(environ, {"max", "cursor"})
    host = environ.get("HTTP_HOST", "")
    if environ.get("SCRIPT_NAME") or not HOST_RE.match(host):
        raise Fallback  # the next link is Django's build_absolute_uri
    try:
        size = int(params.get("max", CONFIG.webex_page_default))
        after = int(params.get("cursor", "0"))
    except ValueError:
        raise Fallback from None
    if not 1 <= size <= CONFIG.webex_page_max:
        raise Fallback
    checks.count_only(lambda bump: ratelimit.check_webex(org.org_id, "people.list", bump))
    rows = (
        group_commit.connection()
        .execute(
            f"SELECT {WEBEX_COLUMNS} FROM vendor_sandbox_webexperson "  # noqa: S608
            "WHERE org_id = ? AND visible_at <= ? AND id > ? ORDER BY id LIMIT ?",
            (org.org_id, group_commit.dt(now), after, size + 1),
        )
        .fetchall()
    )
    page = rows[:size]
    body = {"items": [service.to_json(_person(r), now) for r in page]}  # type: ignore[arg-type]
    headers = []
    if len(rows) > size:
        query_args = {k: v for k, v in params.items() if k != "cursor"}
        query_args["cursor"] = str(page[-1][0])
        url = f"{environ['wsgi.url_scheme']}://{host}{environ['PATH_INFO']}?{urlencode(query_args)}"
        headers.append(("Link", f'<{url}>; rel="next"'))
    return 200, body, headers


def _person(row: tuple[Any, ...]) -> SimpleNamespace:
    """The fields ``service.to_json`` reads, typed as the model gives them."""
    return SimpleNamespace(
        id=row[0], person_id=row[1], org_id=row[2], email=row[3], display_name=row[4],
        nick_name=row[5], first_name=row[6], last_name=row[7], roles=json.loads(row[8]),
        licenses=json.loads(row[9]), extra=json.loads(row[10]), created=_when(row[11]),
        last_modified=_when(row[12]), last_activity=_when(row[13]),
        invite_pending=bool(row[14]), login_enabled=bool(row[15]),
    )  # fmt: skip
