"""The two create endpoints on the fast path (``router`` puts it in front of Django).

The benchmarks of the engine need the sandbox to create well over a thousand users a
second; Django's request cycle, the ORM and one SQLite commit per request (three with
rate limits on: each count commits) cost about 1.7 ms of CPU per create. This path takes
``POST /zoom/v2/users`` and ``POST /webex/v1/people`` when nothing unusual is asked of
them — no fault on for the vendor, no webhook receiver, no personal account behind the
address, a valid body — and serves them with prepared SQL on one SQLite connection per
thread, committing the writes of concurrent requests together (group commit). An answer
is sent only after its user is committed, so a 201 means the user exists and is visible.

With rate limits on, the request is counted against the same budgets as on the Django
path (``ratelimit``'s checks, same table, same order), inside its own savepoint of the
group commit: a spent budget answers the 429 that ``ratelimit`` writes, rendered by the
vendor's dialect; a request that falls back to Django after counting has its counts
rolled back with the savepoint, so Django counts it once.

Anything else (an error to report, a fault, an existing user) goes to Django unchanged,
with the body put back: the wire format has one author, the API modules, and the rules,
mail subjects and texts are theirs (``zoom.service``, ``webex.service``, ``webex.api``,
``mail.row``, ``links.url``), used here as they are there.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from vendor_sandbox import links, mail, ratelimit
from vendor_sandbox.conf import CONFIG
from vendor_sandbox.errors import ApiError
from vendor_sandbox.fast import checks, group_commit
from vendor_sandbox.fast.group_commit import Fallback
from vendor_sandbox.fast.list_pages import Answer

# --- shared writes ----------------------------------------------------------------------


def _personal(conn: sqlite3.Connection, vendor: str, email: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM vendor_sandbox_personalaccount WHERE vendor = ? AND email = ?",
        (vendor, email),
    ).fetchone()
    return row is not None


def _invite(
    conn: sqlite3.Connection,
    link: tuple[str, str, str],
    message: tuple[str, str, str],
    context: Callable[[str], dict[str, object]],
    now: datetime,
) -> int:
    """Insert the invitation link and its mail, as ``links.new`` and ``mail.send`` do, on
    the group commit's connection: ``link`` is (kind, address, target), ``message``
    (vendor, kind, subject), the kind naming the template too; ``context`` gets the URL."""
    kind, email, target = link
    token = links.new_token()
    conn.execute(
        "INSERT INTO vendor_sandbox_link (token, kind, email, target, created_at, used_at) "
        "VALUES (?, ?, ?, ?, ?, NULL)",
        (token, kind, email, target, group_commit.dt(now)),
    )
    vendor, mail_kind, subject = message
    ctx = context(links.url(kind, token))
    row = mail.row(vendor, mail_kind, email, subject, mail_kind, ctx, now)
    cur = conn.execute(
        'INSERT INTO vendor_sandbox_mail (vendor, kind, "to", subject, template, context, '
        "links, created_at, status, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            row["vendor"], row["kind"], row["to"], row["subject"], row["template"],
            json.dumps(row["context"]), json.dumps(row["links"]), group_commit.dt(now),
            row["status"], row["error"],
        ),
    )  # fmt: skip
    return int(cur.lastrowid or 0)


def _committed(write: Callable[[sqlite3.Connection], int | ApiError]) -> None:
    """Run the request's writes in the group commit; its 429, or its mail on its way."""
    mail_id = group_commit.commit(write)
    if isinstance(mail_id, ApiError):
        raise mail_id
    if mail_id and CONFIG.smtp_port:
        mail.enqueue(mail_id)


# --- Zoom -------------------------------------------------------------------------------


def zoom_create(environ: dict[str, Any], raw: bytes) -> Answer:
    from vendor_sandbox.zoom import api, oauth, service

    now, webhook_url = checks.state("zoom")
    account = checks.principal(oauth.authenticate, environ, now)
    if webhook_url:
        raise Fallback  # events are signed and queued by the Django path
    try:
        action, info, email, utype, password = api.parse_create(checks.body(raw))
    except ApiError:
        raise Fallback from None
    if password or action == "autoCreate" or (utype == 2 and CONFIG.zoom_paid_seats):
        raise Fallback
    first, last = info.get("first_name", ""), info.get("last_name", "")
    display = service.display_name(info)
    status, verified, login_types = service.created_state(action)
    user_id, created = service.new_user_id(), group_commit.dt(now)
    pending = action == "create"

    def write(conn: sqlite3.Connection) -> int | ApiError:
        # The Django path counts QPS (create is "Light"), then the daily cap of
        # action=create, before it looks at the address.
        limits = [lambda bump: ratelimit.check_zoom_qps(account.account_id, "Light", bump)]
        if pending:
            limits.append(
                lambda bump: ratelimit.check_zoom_daily_create(account.account_id, now, bump)
            )
        refused = checks.limits(conn, *limits)
        if refused is not None:
            return refused
        if _personal(conn, "zoom", email):
            raise Fallback  # the join request, or code 1009
        conn.execute(
            "INSERT INTO vendor_sandbox_zoomuser (user_id, account_id, email, first_name, "
            "last_name, display_name, type, status, verified, dept, role_id, login_types, "
            "extra, password_hash, created_at, invited_at, last_login_time, visible_at, "
            "action) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '', '2', ?, '{}', '', ?, ?, NULL, ?, ?)",
            (
                user_id, account.account_id, email, first, last, display, utype, status,
                verified, json.dumps(login_types), created, created if pending else None,
                created, action,
            ),
        )  # fmt: skip
        if not pending:
            return 0
        return _invite(
            conn,
            (service.ACTIVATION, email, user_id),
            ("zoom", service.ACTIVATION, service.ACTIVATION_SUBJECT),
            lambda url: service.activation_context(first, email, url),
            now,
        )

    _committed(write)
    body = {"id": user_id, "first_name": first, "last_name": last, "email": email, "type": utype}
    return 201, body, []


# --- Webex ------------------------------------------------------------------------------


def webex_create(environ: dict[str, Any], raw: bytes) -> Answer:
    from vendor_sandbox.webex import api, service

    now, _ = checks.state("webex")
    org = checks.principal(api.authenticate, environ, now)
    body = checks.body(raw)
    try:
        email = api.parse_create(body)
    except ApiError:
        raise Fallback from None
    if body.get("orgId") and body["orgId"] != org.org_id:
        raise Fallback
    wanted = sorted(set(body.get("licenses") or []))
    if wanted:
        marks = ", ".join("?" * len(wanted))
        known = group_commit.connection().execute(
            f"SELECT COUNT(*) FROM vendor_sandbox_webexlicense WHERE org_id = ? "  # noqa: S608
            f"AND license_id IN ({marks})",
            (org.org_id, *wanted),
        )
        if known.fetchone()[0] != len(wanted):
            raise Fallback
    # The fields a new person has, as the model's defaults give them; ``service.to_json``
    # then writes the answer as it does on the Django path (a model instance costs more).
    person = SimpleNamespace(
        person_id=service.new_person_id(), org_id=org.org_id, email=email,
        last_activity=None, invite_pending=True, login_enabled=True,
    )  # fmt: skip
    api.apply_create_fields(person, body)  # type: ignore[arg-type]
    person.created = person.last_modified = person.visible_at = person.invited_at = now
    created = group_commit.dt(now)

    def write(conn: sqlite3.Connection) -> int | ApiError:
        refused = checks.limits(
            conn, lambda bump: ratelimit.check_webex(org.org_id, "people.create", bump)
        )
        if refused is not None:
            return refused
        if _personal(conn, "webex", email):
            raise Fallback  # the conversion request
        conn.execute(
            "INSERT INTO vendor_sandbox_webexperson (person_id, org_id, email, display_name, "
            "nick_name, first_name, last_name, roles, licenses, extra, created, "
            "last_modified, last_activity, invite_pending, login_enabled, password_hash, "
            "invited_at, visible_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, 1, 1, '', ?, ?)",
            (
                person.person_id, org.org_id, email, person.display_name, person.nick_name,
                person.first_name, person.last_name, json.dumps(person.roles),
                json.dumps(person.licenses), json.dumps(person.extra), created, created,
                created, created,
            ),
        )  # fmt: skip
        return _invite(
            conn,
            (service.INVITATION_LINK, email, person.person_id),
            ("webex", service.INVITATION_MAIL, service.invitation_subject(org.name)),
            lambda url: service.invitation_context(url, person.display_name),
            now,
        )

    _committed(write)
    return 200, service.to_json(person, now), []  # type: ignore[arg-type]
