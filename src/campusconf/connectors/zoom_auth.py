"""Zoom's Server-to-Server OAuth: the account's token, and reading Zoom's refusals.

``POST {oauth}/oauth/token?grant_type=account_credentials&account_id=…`` with the app's
client id and secret as Basic auth answers ``access_token``, ``expires_in`` (one hour)
and ``scope`` (the scopes the app was granted); there is no refresh token. Sources and
what Zoom does when a second token is asked for: docs/vendors.md, "Authentication".
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from typing import Any

from campusconf.connectors import zoom_payloads
from campusconf.connectors.http_helpers import (
    ContractError,
    Op,
    contract_failure,
    decode_json,
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
from campusconf.connectors.transport.http_client import (
    HttpClient,
    Response,
    TransportError,
    basic_auth,
)

VENDOR = "zoom"
# "Invalid access token, does not contain scopes:[…]": 4711 as Zoom answers it (with
# HTTP 400), 4700 as its error table lists it.
SCOPE_CODES = {4700, 4711}
_SCOPES = re.compile(r"scopes?\s*:?\s*\[([^\]]*)\]", re.IGNORECASE)


def fingerprint(account_id: str, client_id: str, client_secret: str) -> str:
    """Which credential a stored token came from; a digest, so no secret is stored twice."""
    material = "\0".join(("zoom", account_id, client_id, client_secret))
    return hashlib.sha256(material.encode()).hexdigest()[:32]


def missing_scopes(message: str) -> tuple[str, ...]:
    """The scopes Zoom names in a refusal (any one of them would do)."""
    match = _SCOPES.search(message)
    if match is None:
        return ()
    return tuple(s.strip() for s in match.group(1).split(",") if s.strip())


def refusal(answer: Response) -> NotAuthorised | None:
    """A refused token (401) or a missing scope (code 4700/4711, whatever the status)."""
    code, message = zoom_payloads.error_fields(answer)
    status = answer.status_code
    meta: dict[str, Any] = {
        "tracking_id": answer.headers.get("x-zm-trackingid"),
        "http_status": status,
        "vendor_code": None if code is None else str(code),
    }
    if code in SCOPE_CODES or "does not contain scope" in message.lower():
        scopes = missing_scopes(message)
        reason = message or "the app lacks a scope this call needs"
        return NotAuthorised(
            reason=reason, problem=AuthProblem.PERMISSION, missing_scopes=scopes, **meta
        )
    if status == 401:
        return NotAuthorised(
            reason=f"Zoom refused the access token: {message or 'HTTP 401'}", **meta
        )
    return None


def token_refused(answer: Response) -> bool:
    """A 401 that a new token may cure (not a missing scope: a new token would lack it too)."""
    return answer.status_code == 401 and zoom_payloads.error_fields(answer)[0] not in SCOPE_CODES


def fetcher(
    client: HttpClient,
    oauth_url: str,
    account_id: str,
    client_id: str,
    client_secret: str,
    clock: Callable[[], float],
) -> Callable[[Token | None], Token | Outcome]:
    """The store's ``fetch`` for this app: every call asks Zoom for a new token."""
    credential = fingerprint(account_id, client_id, client_secret)
    authorization = basic_auth(client_id, client_secret)

    def fetch(_stored: Token | None) -> Token | Outcome:
        answer = send(
            client,
            Op.AUTH,
            "POST",
            oauth_url,
            None,
            params={"grant_type": "account_credentials", "account_id": account_id},
            headers={"Authorization": authorization},
        )
        return read_token_answer(answer, credential, clock())

    return fetch


def read_token_answer(
    answer: Response | TransportError, credential: str, now: float
) -> Token | Outcome:
    if isinstance(answer, TransportError):
        return transport_failure(answer, Op.AUTH, VENDOR, never_sent=answer.never_sent)
    status = answer.status_code
    tracking = answer.headers.get("x-zm-trackingid")
    if status == 429:
        return rate_limited(answer.headers, RateScope.QPS, "token requests", tracking, status)
    if status >= 500:
        return TransientFailure(reason=f"zoom token: HTTP {status}", http_status=status)
    if status >= 300:
        return NotAuthorised(
            reason=f"Zoom refused the app's credentials: {_oauth_error(answer)}",
            tracking_id=tracking,
            http_status=status,
        )
    try:
        body = req_dict(decode_json(answer), "token answer")
        access = req_str(body, "access_token")
        lifetime = body.get("expires_in", 3600)
        if not isinstance(lifetime, int | float) or isinstance(lifetime, bool):
            raise ContractError("field 'expires_in' is not a number")
        scope = body.get("scope", "")
        if not isinstance(scope, str):
            raise ContractError("field 'scope' is not a string")
    except ContractError as exc:
        return contract_failure(Op.AUTH, VENDOR, str(exc), tracking, status)
    return Token(
        access_token=access,
        expires_at=now + float(lifetime),
        scopes=tuple(scope.split()),
        credential=credential,
    )


def _oauth_error(answer: Response) -> str:
    """The OAuth endpoint's words: ``{"reason", "error"}``, or Zoom's ``{"code", "message"}``."""
    try:
        body = decode_json(answer)
    except ContractError:
        return f"HTTP {answer.status_code}"
    if not isinstance(body, dict):
        return f"HTTP {answer.status_code}"
    words = [str(body[k]) for k in ("reason", "message", "error") if body.get(k)]
    if body.get("code") is not None:
        words.append(f"code {body['code']}")
    return "; ".join(words) or f"HTTP {answer.status_code}"
