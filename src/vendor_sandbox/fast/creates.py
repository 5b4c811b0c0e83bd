"""A lean WSGI path for the two create endpoints (and ``fastlist``'s pages), before Django.

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
with the body put back: the wire format has one author, the API modules.
"""

from __future__ import annotations

import io
import json
import logging
import secrets
import sqlite3
from collections.abc import Callable, Iterable
from types import SimpleNamespace
from typing import Any

from vendor_sandbox import counters, fastcheck, fastlist, groupcommit, links, ratelimit
from vendor_sandbox import mail as mail_module
from vendor_sandbox.conf import CONFIG
from vendor_sandbox.errors import WEBEX, ZOOM, ApiError, Dialect
from vendor_sandbox.fastlist import Answer
from vendor_sandbox.groupcommit import Fallback

log = logging.getLogger(__name__)
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


# --- shared writes ----------------------------------------------------------------------


def _personal(conn: sqlite3.Connection, vendor: str, email: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM vendor_sandbox_personalaccount WHERE vendor = ? AND email = ?",
        (vendor, email),
    ).fetchone()
    return row is not None


def _link_and_mail(
    conn: sqlite3.Connection, link: tuple[str, str, str, str], mail: dict[str, Any]
) -> tuple[str, int]:
    """Insert the invitation link and its mail, as ``links.new`` and ``mail.send`` do."""
    kind, email, target, created = link
    token = secrets.token_urlsafe(24)
    conn.execute(
        "INSERT INTO vendor_sandbox_link (token, kind, email, target, created_at, used_at) "
        "VALUES (?, ?, ?, ?, ?, NULL)",
        (token, kind, email, target, created),
    )
    url = f"{CONFIG.public_url}{links.PATHS[kind]}{token}"
    mail["fill"](url)
    ctx = {"org_name": CONFIG.org_name, "to": email, **mail["context"]}
    status = "queued" if CONFIG.smtp_port else "recorded"
    cur = conn.execute(
        'INSERT INTO vendor_sandbox_mail (vendor, kind, "to", subject, template, context, '
        "links, created_at, status, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '')",
        (
            mail["vendor"], mail["kind"], email, mail["subject"], mail["kind"],
            json.dumps(ctx), json.dumps(mail["context"]["links"]), created, status,
        ),
    )  # fmt: skip
    return url, int(cur.lastrowid or 0)


# --- Zoom -------------------------------------------------------------------------------


def _zoom(environ: dict[str, Any], raw: bytes) -> Answer:
    from vendor_sandbox.zoom import api, oauth, service

    now, webhook_url = fastcheck.state("zoom")
    account = fastcheck.principal(oauth.authenticate, environ, now)
    if webhook_url:
        raise Fallback  # events are signed and queued by the Django path
    try:
        action, info, email, utype, password = api.parse_create(fastcheck.body(raw))
    except ApiError:
        raise Fallback from None
    if password or action == "autoCreate" or (utype == 2 and CONFIG.zoom_paid_seats):
        raise Fallback
    first, last = info.get("first_name", ""), info.get("last_name", "")
    display = info.get("display_name") or f"{first} {last}".strip()
    user_id, created = service.new_user_id(), groupcommit.dt(now)
    pending = action == "create"

    def write(conn: sqlite3.Connection) -> int | ApiError:
        # The Django path counts QPS (create is "Light"), then the daily cap of
        # action=create, before it looks at the address.
        checks = [lambda bump: ratelimit.check_zoom_qps(account.account_id, "Light", bump)]
        if pending:
            checks.append(
                lambda bump: ratelimit.check_zoom_daily_create(account.account_id, now, bump)
            )
        refused = fastcheck.limits(conn, *checks)
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
                user_id, account.account_id, email, first, last, display, utype,
                "pending" if pending else "active",
                0 if pending or action == "custCreate" else 1,
                json.dumps([] if pending else api.LOGIN_BY_ACTION[action]),
                created, created if pending else None, created, action,
            ),
        )  # fmt: skip
        if not pending:
            return 0
        ctx: dict[str, Any] = {"first_name": first, "email": email}

        def fill(url: str) -> None:
            ctx["links"] = {"Activate Zoom Account": url}
            ctx["activate_url"] = url

        mail = {"vendor": "zoom", "kind": "zoom_activate", "subject": "Activate Zoom Account"}
        _, mail_id = _link_and_mail(
            conn, ("zoom_activate", email, user_id, created), {**mail, "context": ctx, "fill": fill}
        )
        return mail_id

    mail_id = groupcommit.commit(write)
    if isinstance(mail_id, ApiError):
        raise mail_id
    if mail_id and CONFIG.smtp_port:
        mail_module._enqueue(mail_id)
    body = {"id": user_id, "first_name": first, "last_name": last, "email": email, "type": utype}
    return 201, body, []


# --- Webex ------------------------------------------------------------------------------


def _webex(environ: dict[str, Any], raw: bytes) -> Answer:
    from vendor_sandbox.webex import api, service

    now, _ = fastcheck.state("webex")
    org = fastcheck.principal(api.authenticate, environ, now)
    body = fastcheck.body(raw)
    try:
        email = api.parse_create(body)
    except ApiError:
        raise Fallback from None
    if body.get("orgId") and body["orgId"] != org.org_id:
        raise Fallback
    wanted = sorted(set(body.get("licenses") or []))
    if wanted:
        marks = ", ".join("?" * len(wanted))
        known = groupcommit.connection().execute(
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
    api._apply(person, body)  # type: ignore[arg-type]
    if not person.display_name:
        person.display_name = f"{person.first_name} {person.last_name}".strip()
    person.created = person.last_modified = person.visible_at = person.invited_at = now
    created = groupcommit.dt(now)

    def write(conn: sqlite3.Connection) -> int | ApiError:
        refused = fastcheck.limits(
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
        ctx: dict[str, Any] = {}

        def fill(url: str) -> None:
            ctx["links"] = {"Activate": url}
            ctx["display_name"] = person.display_name

        mail = {
            "vendor": "webex",
            "kind": "webex_invite",
            "subject": f"{org.name} has invited you to Cisco Webex",
        }
        _, mail_id = _link_and_mail(
            conn, ("webex_activate", email, person.person_id, created),
            {**mail, "context": ctx, "fill": fill},
        )  # fmt: skip
        return mail_id

    mail_id = groupcommit.commit(write)
    if isinstance(mail_id, ApiError):
        raise mail_id
    if mail_id and CONFIG.smtp_port:
        mail_module._enqueue(mail_id)
    return 200, service.to_json(person, now), []  # type: ignore[arg-type]


# --- the WSGI wrapper -------------------------------------------------------------------

# (method, path) -> handler, dialect, endpoint name (as the API module's route counts it)
ROUTES: dict[tuple[str, str], tuple[Callable[[dict[str, Any], bytes], Answer], Dialect, str]] = {
    ("POST", "/zoom/v2/users"): (_zoom, ZOOM, "users.create"),
    ("POST", "/webex/v1/people"): (_webex, WEBEX, "people.create"),
    ("GET", "/zoom/v2/users"): (fastlist.zoom_list, ZOOM, "users.list"),
    ("GET", "/webex/v1/people"): (fastlist.webex_list, WEBEX, "people.list"),
}
REASONS = {200: "200 OK", 201: "201 Created", 500: "500 Internal Server Error"}


def wrap(django_app: WsgiApp) -> WsgiApp:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "")
        route = ROUTES.get((method, environ.get("PATH_INFO", "")))
        length = environ.get("CONTENT_LENGTH") or "0"
        if route is None or not length.isdigit() or int(length) > CONFIG.max_body_bytes:
            return django_app(environ, start_response)
        raw = environ["wsgi.input"].read(int(length)) if method == "POST" else b""
        handler, dialect, name = route
        label = f"{dialect.name} {method} {name}"  # the request counter, as pipeline.route's
        tracking = dialect.tracking_id()
        groupcommit.begin_request()
        extra: list[tuple[str, str]] = []
        try:
            status, body, extra = handler(environ, raw)
            data = json.dumps(body).encode()
        except ApiError as err:  # a spent budget, counted and committed: its 429
            counters.hit(f"fastpath {label} {err.status}")
            return fastcheck.refuse(err, dialect, label, tracking, start_response)
        except Fallback:
            environ["wsgi.input"] = io.BytesIO(raw)
            return django_app(environ, start_response)
        except Exception:
            log.exception("unexpected error on the fast path")
            if not groupcommit.committed():  # nothing written: Django may try it properly
                environ["wsgi.input"] = io.BytesIO(raw)
                return django_app(environ, start_response)
            status, resp = (
                500,
                dialect.render(ApiError(500, "Internal server error.", code=500), tracking),
            )
            data = resp.content
        start_response(
            REASONS[status],
            [
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(data))),
                *extra,
                (dialect.tracking_header, tracking),
            ],
        )
        counters.hit(f"{label} {status}")
        # Which path served is the sandbox's own business, never on the wire; tests read it.
        counters.hit(f"fastpath {label} {status}")
        return [data]

    return app
