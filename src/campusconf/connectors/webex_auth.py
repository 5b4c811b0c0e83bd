"""Webex service-app tokens: the seed from the environment, renewals, and Webex's refusals.

A full admin authorises the service app in Control Hub; its first access and refresh
tokens are then retrieved (Developer Portal, or ``POST /applications/{id}/token``) and
given to CampusConf through the environment — the seed. Afterwards ``POST
{base}/access_token`` with ``grant_type=refresh_token`` renews the access token; a
refresh token used regularly stays valid, and the one the last renewal answered is the
one to keep (Errata W-h). Sources: docs/vendors.md, "Authentication".
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from campusconf.connectors.http_helpers import (
    ContractError,
    Op,
    contract_failure,
    decode_json,
    opt_str,
    rate_limited,
    req_dict,
    req_str,
    send,
    transport_failure,
)
from campusconf.connectors.outcomes import (
    AuthProblem,
    NotAuthorised,
    Outcome,
    RateScope,
    TransientFailure,
)
from campusconf.connectors.tokens import Token
from campusconf.connectors.transport.http_client import HttpClient, Response, TransportError
from campusconf.connectors.webex_payloads import error_fields

VENDOR = "webex"
PEOPLE_READ = "spark-admin:people_read"
PEOPLE_WRITE = "spark-admin:people_write"
LICENSES_READ = "spark-admin:licenses_read"


@dataclass(frozen=True)
class WebexCredentials:
    """A service app's tokens as the environment gives them: the seed of the stored token.

    Without client id, client secret and refresh token there is no renewal: the access
    token is used until Webex refuses it. `expires_at` is a Unix time; None means
    "unknown", and the token is then renewed only when Webex answers 401.
    """

    access_token: str = field(repr=False)
    refresh_token: str = field(default="", repr=False)
    client_id: str = ""
    client_secret: str = field(default="", repr=False)
    expires_at: float | None = None


def fingerprint(seed: WebexCredentials) -> str:
    """Which seed a stored token grew from: new tokens in the environment (a re-authorised
    app) replace what is stored; the same seed keeps the renewed tokens."""
    material = "\0".join(("webex", seed.access_token, seed.refresh_token, seed.client_id))
    return hashlib.sha256(material.encode()).hexdigest()[:32]


def scope_for(method: str, path: str) -> str:
    """The scope Webex documents for a call the connector makes."""
    if path.rstrip("/").endswith("/licenses"):
        return LICENSES_READ
    return PEOPLE_READ if method == "GET" else PEOPLE_WRITE


def refusal(answer: Response, needs: str) -> NotAuthorised | None:
    """401: the token is refused; 403: the token works but may not do this (a scope, or
    the machine account's admin role)."""
    status = answer.status_code
    if status not in (401, 403):
        return None
    message, tracking = error_fields(answer)
    meta: dict[str, Any] = {
        "tracking_id": answer.headers.get("trackingid") or tracking,
        "http_status": status,
        "vendor_code": str(status),
    }
    if status == 401:
        return NotAuthorised(reason=f"Webex refused the access token: {message}", **meta)
    # Listing licences only finds the service's licence: naming it in the settings
    # spares the scope (W-b).
    instead = " (or set the service's licence_id)" if needs == LICENSES_READ else ""
    return NotAuthorised(
        reason=f"Webex refused the call ({message or 'HTTP 403'}); it needs {needs}{instead}",
        problem=AuthProblem.PERMISSION,
        missing_scopes=(needs,),
        **meta,
    )


def fetcher(
    client: HttpClient, seed: WebexCredentials, clock: Callable[[], float]
) -> Callable[[Token | None], Token | Outcome]:
    """The store's ``fetch``: the seed when nothing of it is stored, else a renewal with
    the stored (latest) refresh token."""
    credential = fingerprint(seed)

    def fetch(stored: Token | None) -> Token | Outcome:
        if stored is None or stored.credential != credential:
            return Token(
                access_token=seed.access_token,
                expires_at=seed.expires_at,
                refresh_token=seed.refresh_token,
                credential=credential,
            )
        if not (stored.refresh_token and seed.client_id and seed.client_secret):
            return NotAuthorised(
                reason="Webex refused the access token, and there is no refresh token "
                "with client id and secret to renew it"
            )
        now = clock()
        if stored.refresh_expires_at is not None and now >= stored.refresh_expires_at:
            return NotAuthorised(
                reason="the service app's refresh token expired (unused for too long): "
                "the app must be authorised again"
            )
        data = {
            "grant_type": "refresh_token",
            "client_id": seed.client_id,
            "client_secret": seed.client_secret,
            "refresh_token": stored.refresh_token,
        }
        answer = send(client, Op.AUTH, "POST", "/access_token", None, data=data)
        return read_token_answer(answer, stored, now)

    return fetch


def read_token_answer(
    answer: Response | TransportError, stored: Token, now: float
) -> Token | Outcome:
    if isinstance(answer, TransportError):
        return transport_failure(answer, Op.AUTH, VENDOR, never_sent=answer.never_sent)
    status = answer.status_code
    tracking = answer.headers.get("trackingid")
    if status in (429, 423):
        return rate_limited(answer.headers, RateScope.QPS, "token renewal", tracking, status)
    if status >= 500:
        return TransientFailure(reason=f"webex token renewal: HTTP {status}", http_status=status)
    if status >= 300:
        message, body_tracking = error_fields(answer)
        return NotAuthorised(
            reason=f"Webex refused the refresh token: {message or f'HTTP {status}'}",
            tracking_id=tracking or body_tracking,
            http_status=status,
        )
    try:
        body = req_dict(decode_json(answer), "token answer")
        access = req_str(body, "access_token")
        lifetime = body.get("expires_in")
        if not isinstance(lifetime, int | float) or isinstance(lifetime, bool):
            raise ContractError("field 'expires_in' is not a number")
        refresh_lifetime = body.get("refresh_token_expires_in")
        if refresh_lifetime is not None and not isinstance(refresh_lifetime, int | float):
            raise ContractError("field 'refresh_token_expires_in' is not a number")
        refresh = opt_str(body, "refresh_token") or stored.refresh_token
    except ContractError as exc:
        return contract_failure(Op.AUTH, VENDOR, str(exc), tracking, status)
    refresh_expires = (
        now + float(refresh_lifetime) if refresh_lifetime is not None else stored.refresh_expires_at
    )
    return Token(
        access_token=access,
        expires_at=now + float(lifetime),
        refresh_token=refresh,
        refresh_expires_at=refresh_expires,
        credential=stored.credential,
    )
