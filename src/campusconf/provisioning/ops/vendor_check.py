"""``campusconf vendor-check``: a read-only preflight of a service against its vendor.

An operator runs it with the real credentials before go-live and after any change (a new
secret, a scope, a proxy). Each check reads; none writes at the vendor: a token request,
``GET`` calls, and one signed ``endpoint.url_validation`` posted to our own webhook
endpoint. The token is the service's shared one (``vendor_tokens``), so a check never
knocks out the workers' token. Every failure says what to fix, in the words the back
office and the staff mail use (``access_fixes``). docs/connectors.md has the go-live
checklist that runs it.

The page of users is held to the vendor's contract (``connectors.contract``), the same
OpenAPI descriptions the contract suite holds the sandbox to.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import os
import secrets
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse
from django.utils import translation

from campusconf.connectors import contract
from campusconf.connectors.base import Connector, Preflight, ProbeAnswer
from campusconf.connectors.outcomes import (
    AuthProblem,
    ListingFailed,
    NotAuthorised,
    Ok,
    Outcome,
    RateLimited,
)
from campusconf.connectors.tokens import Token
from campusconf.provisioning.engine import vendors
from campusconf.provisioning.engine.access_fixes import (
    CREDENTIAL,
    PERMISSION,
    credential_variables,
    explain,
)
from campusconf.provisioning.queueing import rate_limits
from campusconf.services.models import Service

OK, WARN, FAIL = "ok", "warn", "FAIL"
SKEW_WARN, SKEW_FAIL = 5.0, 30.0  # seconds
WEBHOOK_DEADLINE = 3.0  # Zoom wants an answer within 3 s
PAGE = 10
# Zoom: each call the connector makes, and the scopes any one of which allows it.
ZOOM_NEEDS = {
    "list users": ("user:read:list_users:admin", "user:read:admin"),
    "read a user": ("user:read:user:admin", "user:read:admin"),
    "create users": ("user:write:user:admin", "user:write:admin"),
    "update users": ("user:update:user:admin", "user:write:admin"),
    "delete users": ("user:delete:user:admin", "user:write:admin"),
}
READS: dict[str, tuple[str, dict[str, str | int]]] = {
    "zoom": ("/users", {"status": "active", "page_size": PAGE}),
    "webex": ("/people", {"max": PAGE}),
}

# Where each vendor's users page lives in its contract (the contracts describe the vendors'
# own addresses, whatever base URL the service is configured with).
CONTRACT_BASE = {"zoom": "https://api.zoom.us/v2", "webex": "https://webexapis.com/v1"}


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # OK, WARN or FAIL
    detail: str
    fix: str = ""


def run_checks(service: Service, *, webhook_url: str | None = None) -> list[Check]:
    """Every check of ``service``, in order; the later ones need a connector and a token."""
    with translation.override("en"):
        return list(_checks(service, webhook_url))


def _checks(service: Service, webhook_url: str | None) -> Any:
    variables = credential_variables(service.vendor, service.connector_settings or {})
    try:
        connector = vendors.connector_for(service)
    except vendors.ServiceConfigError as exc:
        yield Check("settings", FAIL, str(exc), "set it, then run this check again")
        return
    yield Check("settings", OK, "the connector's settings and secrets are all there")
    if not isinstance(connector, Preflight):
        yield Check("token", WARN, f"a {service.vendor} connector has no read-only preflight")
        return
    conn: Preflight = connector
    token = conn.token(fresh=service.vendor == "zoom")  # Zoom: the scopes granted now
    if not isinstance(token, Token):
        yield _refused("token", service, token, variables)
        return
    # One page of users: it also shows the vendor takes the token (Webex's comes from the
    # environment or the database without a call).
    page = conn.probe(*READS.get(service.vendor, READS["zoom"]))
    clock = _clock(page)  # now: the Date header is the time the vendor answered
    refused = page.outcome
    if isinstance(refused, NotAuthorised) and refused.problem is AuthProblem.CREDENTIAL:
        yield _refused("token", service, refused, variables)
        return
    yield Check("token", OK, _token_detail(token))
    yield _scopes(service, token, page, variables)
    yield _licence(service, conn, variables)
    yield _users(service, connector, page, variables)
    if service.vendor == "zoom":
        yield _webhook(service, webhook_url)
    else:
        yield Check("webhook", OK, "Webex sends no user events: reconcile reads the users")
    yield _rate_limits(service, page)
    yield clock


def _refused(name: str, service: Service, out: Outcome, variables: list[str]) -> Check:
    reason = getattr(out, "reason", "") or type(out).__name__
    if isinstance(out, NotAuthorised):
        kind = PERMISSION if out.problem is AuthProblem.PERMISSION else CREDENTIAL
        fix = explain(service.vendor, kind, out.missing_scopes, reason, variables).fix
        return Check(name, FAIL, reason, fix)
    return Check(
        name,
        FAIL,
        reason,
        "the vendor did not answer as it should: try again, and "
        "check the network path (HTTPS_PROXY) if it persists",
    )


def _token_detail(token: Token) -> str:
    parts = []
    if token.expires_at is not None:
        parts.append(
            f"valid until {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(token.expires_at))}"
        )
    if token.refresh_expires_at is not None:
        until = time.strftime("%Y-%m-%d", time.gmtime(token.refresh_expires_at))
        parts.append(f"refresh token valid until {until} (renewed by each use)")
    return "a token for the service: " + (", ".join(parts) or "its expiry is not known")


def _scopes(service: Service, token: Token, page: ProbeAnswer, variables: list[str]) -> Check:
    if service.vendor == "zoom":
        if not token.scopes:
            return Check("scopes", WARN, "Zoom did not list the token's scopes")
        granted = set(token.scopes)
        missing = [(what, need) for what, need in ZOOM_NEEDS.items() if not granted & set(need)]
        if missing:
            need = missing[0][1]
            cannot = ", ".join(what for what, _ in missing)
            detail = f"the token may not {cannot}: it lacks {' or '.join(need)}"
            return Check(
                "scopes", FAIL, detail, explain("zoom", PERMISSION, need, "", variables).fix
            )
        return Check("scopes", OK, "granted: " + " ".join(sorted(granted)))
    if not isinstance(page.outcome, Ok):
        return _refused("scopes", service, page.outcome, variables)
    return Check(
        "scopes",
        OK,
        "spark-admin:people_read works; spark-admin:people_write cannot be shown without a "
        "write: the first create tells (the service then pauses and names it)",
    )


def _licence(service: Service, conn: Preflight, variables: list[str]) -> Check:
    cs = service.connector_settings or {}
    if service.vendor == "zoom":
        answer = conn.probe("/users/summary")
        if not isinstance(answer.outcome, Ok):
            return _refused("licence", service, answer.outcome, variables)
        licensed = _int(answer.body, "licensed_users_count")
        if not service.seats:
            return Check("licence", OK, f"{licensed} licensed users; no seat limit is set")
        left = service.seats - licensed
        status = OK if left > 0 else FAIL
        return Check(
            "licence",
            status,
            f"{licensed} licensed users of {service.seats} seats: {left} left",
            "" if left > 0 else "raise the seats (licence terms) or free licences at Zoom",
        )
    answer = conn.probe("/licenses")
    if not isinstance(answer.outcome, Ok):
        return _refused("licence", service, answer.outcome, variables)
    items = answer.body.get("items", []) if isinstance(answer.body, dict) else []
    wanted_id, wanted_name = str(cs.get("licence_id") or ""), str(cs.get("licence_name") or "")
    chosen = [
        i
        for i in items
        if (wanted_id and i.get("id") == wanted_id)
        or (not wanted_id and wanted_name and i.get("name") == wanted_name)
    ] or (items if len(items) == 1 and not (wanted_id or wanted_name) else [])
    if len(chosen) != 1:
        names = ", ".join(str(i.get("name")) for i in items)
        return Check(
            "licence",
            FAIL,
            f"the service's licence is not among: {names}",
            "set licence_id (or licence_name) in the service's connector settings",
        )
    lic = chosen[0]
    left = _int(lic, "totalUnits") - _int(lic, "consumedUnits")
    return Check(
        "licence",
        OK if left > 0 else FAIL,
        f"{lic.get('name')}: {left} of {_int(lic, 'totalUnits')} left",
        "" if left > 0 else "buy more licences, or free some in Control Hub",
    )


def _users(service: Service, conn: Connector, page: ProbeAnswer, variables: list[str]) -> Check:
    if not isinstance(page.outcome, Ok):
        return _refused("users", service, page.outcome, variables)
    problems = _outside_contract(service.vendor, page)
    if problems:
        return Check(
            "users",
            FAIL,
            "; ".join(problems[:3]),
            "report it: the vendor's answer left the contract",
        )
    try:
        users = list(itertools.islice(conn.iter_users(page_size=PAGE), PAGE))
    except ListingFailed as exc:
        return _refused("users", service, exc.outcome, variables)
    return Check("users", OK, f"one page read, parsed and held to the contract: {len(users)} users")


def _outside_contract(vendor: str, page: ProbeAnswer) -> list[str]:
    """What in the users page the vendor answered breaks its contract (the answer only:
    the request is ours, and the contract suite holds our requests to it)."""
    path, params = READS.get(vendor, READS["zoom"])
    exchange = contract.Exchange(
        method="GET",
        url=f"{CONTRACT_BASE.get(vendor, CONTRACT_BASE['zoom'])}{path}?{urlencode(params)}",
        request_headers={},
        request_body=None,
        status=page.status or 0,
        response_headers=dict(page.headers),
        response_body=json.dumps(page.body).encode(),
    )
    return contract.check(exchange, request=False)


def _webhook(service: Service, url: str | None) -> Check:
    name = (service.connector_settings or {}).get("webhook_secret_env")
    secret = os.environ.get(str(name), "") if name else ""
    if not secret:
        what = f"{name} is not set" if name else "the settings name no webhook_secret_env"
        return Check(
            "webhook",
            FAIL,
            what,
            "set the variable to the app's Secret Token "
            "(Zoom App Marketplace, the app's Access or Features page) and name it "
            "as webhook_secret_env in the connector settings",
        )
    target = url or settings.CAMPUSCONF_PUBLIC_URL.rstrip("/") + reverse("zoom-webhook")
    return validate_webhook(target, secret)


def validate_webhook(url: str, secret: str) -> Check:
    """Post Zoom's ``endpoint.url_validation`` challenge, signed as Zoom signs it, and
    check the answer: 200 within 3 s, the plainToken back and its HMAC-SHA256 in hex."""
    import httpx

    plain = secrets.token_urlsafe(16)
    stamp = str(int(time.time()))
    body = json.dumps(
        {
            "payload": {"plainToken": plain},
            "event_ts": int(time.time() * 1000),
            "event": "endpoint.url_validation",
        }
    )
    signature = "v0=" + _hmac(secret, f"v0:{stamp}:{body}")
    headers = {
        "content-type": "application/json",
        "x-zm-request-timestamp": stamp,
        "x-zm-signature": signature,
    }
    fix = (
        f"make {url} reachable over HTTPS from the internet (Zoom calls it), the web "
        "processes running, and its secret the app's Secret Token"
    )
    started = time.monotonic()
    try:
        resp = httpx.post(url, content=body, headers=headers, timeout=WEBHOOK_DEADLINE + 2)
    except httpx.HTTPError as exc:
        return Check("webhook", FAIL, f"{url}: {type(exc).__name__}: {exc}", fix)
    took = time.monotonic() - started
    try:
        answer = resp.json()
    except ValueError:
        answer = {}
    expected = {"plainToken": plain, "encryptedToken": _hmac(secret, plain)}
    if resp.status_code != 200 or answer != expected:
        return Check("webhook", FAIL, f"{url} answered {resp.status_code} {resp.text[:120]!r}", fix)
    if took > WEBHOOK_DEADLINE:
        slow = (
            "run the check again: a web process's first request loads the whole "
            "application; if it stays slow, give the web more processes, or put nothing "
            "slow in front of the endpoint"
        )
        return Check("webhook", FAIL, f"{url} took {took:.1f} s; Zoom waits 3 s", slow)
    return Check("webhook", OK, f"{url} answers Zoom's validation challenge ({took * 1000:.0f} ms)")


def _rate_limits(service: Service, page: ProbeAnswer) -> Check:
    ours = ", ".join(f"{k} {v:g}/s" for k, v in sorted(rate_limits.limits(service).items()))
    cap = rate_limits.daily_create_cap(service)
    pace = f"the engine paces at {ours}" + (f", {cap} creates a day" if cap else "")
    if isinstance(page.outcome, RateLimited):
        return Check(
            "rate limits",
            FAIL,
            f"the vendor answered 429 now; {pace}",
            "another application is using up the account's limits: find it, or "
            "lower rate_scale in the connector settings",
        )
    said = {k: v for k, v in page.headers.items() if k.startswith("x-ratelimit")}
    if not said:
        return Check(
            "rate limits", OK, f"{pace}; the vendor sent no rate-limit headers (it does with a 429)"
        )
    return Check(
        "rate limits",
        OK,
        f"{pace}; the vendor says " + ", ".join(f"{k}: {v}" for k, v in sorted(said.items())),
    )


def _clock(page: ProbeAnswer) -> Check:
    date = page.headers.get("date")
    if not date:
        return Check("clock", WARN, "the vendor's answer had no Date header")
    skew = parsedate_to_datetime(date).timestamp() - time.time()
    side = "behind" if skew > 0 else "ahead of"
    detail = f"this machine's clock is {abs(skew):.0f} s {side} the vendor's"
    fix = (
        "keep the clock in time (NTP, e.g. chrony): token lifetimes and Zoom's webhook "
        "timestamps (5 minutes) depend on it"
    )
    if abs(skew) > SKEW_FAIL:
        return Check("clock", FAIL, detail, fix)
    return Check(
        "clock", WARN if abs(skew) > SKEW_WARN else OK, detail, fix if abs(skew) > SKEW_WARN else ""
    )


def _hmac(secret: str, message: str) -> str:
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def _int(record: Any, key: str) -> int:
    value = record.get(key) if isinstance(record, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
