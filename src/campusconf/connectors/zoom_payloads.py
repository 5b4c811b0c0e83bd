"""Zoom wire formats: reading users and error bodies, writing a create (see docs/vendors.md
and the Users API reference). Kept apart from the client so each stays readable."""

from __future__ import annotations

import dataclasses
import datetime
import logging
from collections.abc import Mapping
from typing import Any

from campusconf.connectors.base import UserSpec, UserState, VendorUser
from campusconf.connectors.http_helpers import (
    ContractError,
    decode_json,
    opt_datetime,
    opt_str,
    rate_limited,
)
from campusconf.connectors.outcomes import RateLimited, RateScope, Rejected
from campusconf.connectors.transport.http_client import Response

log = logging.getLogger("campusconf.connectors")

LICENSED, BASIC = 2, 1  # a user's "type": Licensed, Basic
# "login_types" of Get a user (Zoom's reference; @zoom/rivet users.d.ts). 11, 21 and 23
# are offered in China only. A value not listed here is read as "login-<n>", never
# refused: it says how a member signs in, which no decision rests on alone.
LOGIN_TYPES = {
    0: "facebook",
    1: "google",
    11: "phone",
    21: "wechat",
    23: "alipay",
    24: "apple",
    27: "microsoft",
    97: "mobile",
    98: "ringcentral",
    99: "api",
    100: "zoom",  # Zoom work e-mail: "Sign up with password"
    101: "sso",
}
NOT_FOUND_CODES = {1001, 1010, 1120}  # no such user / not in this account / no invite
# "User with that email already exists": in our account, or (Zoom's documented 409 for
# an address with an account elsewhere) outside it; the engine looks it up to tell.
EXISTS_CODES = {1005}
# "The user … already holds an active account": a paid account elsewhere, which
# ``action=create`` cannot invite (docs/vendors.md, Z-d).
HELD_ELSEWHERE_CODES = {1009}


def error_fields(answer: Response) -> tuple[int | None, str]:
    """Zoom's {"code": …, "message": …}; an error page that is not JSON keeps its status."""
    try:
        body = decode_json(answer)
    except ContractError:
        return None, answer.text[:200]
    if not isinstance(body, dict):
        return None, ""
    code = body.get("code")
    message = body.get("message")
    return (code if isinstance(code, int) else None), (message if isinstance(message, str) else "")


def rate_limited_answer(answer: Response, reason: str, tracking: str | None) -> RateLimited:
    """A 429: QPS or the daily create cap. The daily cap's 429 is documented with
    ``X-RateLimit-Type: Daily-limit`` and an ISO ``Retry-After``, and has been seen with
    neither (Z-e): then its message tells it, and it lasts until Zoom's daily reset,
    00:00 UTC."""
    kind = answer.headers.get("x-ratelimit-type", "").lower()
    scope = {"qps": RateScope.QPS, "daily-limit": RateScope.DAILY}.get(kind)
    if scope is None:
        scope = RateScope.DAILY if is_daily_cap(reason) else RateScope.UNKNOWN
    limited = rate_limited(answer.headers, scope, reason, tracking, answer.status_code)
    if scope is RateScope.DAILY and limited.retry_at is None and limited.retry_after is None:
        now = datetime.datetime.now(datetime.UTC)
        return dataclasses.replace(limited, retry_at=next_daily_reset(now))
    return limited


def is_daily_cap(message: str) -> bool:
    """Zoom's daily cap, known by its message when its headers are missing (Z-e):
    "You have exceeded the daily rate limit (…) of … API requests …"."""
    return "daily rate limit" in message.lower()


def next_daily_reset(now: datetime.datetime) -> datetime.datetime:
    """When Zoom's daily counters start again: 00:00 UTC ("You may resume these requests
    at GMT 00:00:00", its daily-cap message says)."""
    day = now.astimezone(datetime.UTC).date()
    start = datetime.datetime.combine(day, datetime.time(), datetime.UTC)
    return start + datetime.timedelta(days=1)


def is_expired_page_token(outcome: Rejected) -> bool:
    text = outcome.reason.lower()
    return outcome.http_status == 400 and ("next_page_token" in text or "next page token" in text)


def login_types(record: Mapping[str, Any]) -> tuple[str, ...]:
    """The sign-in methods Zoom reports, as names; what cannot be read is logged and
    skipped (never a parse failure: Errata Z-f)."""
    raw = record.get("login_types")
    if raw is None:
        return ()
    items = raw if isinstance(raw, list) else [raw]
    names: list[str] = []
    for item in items:
        number = item if isinstance(item, int) and not isinstance(item, bool) else None
        if isinstance(item, str) and item.strip().isdigit():
            number = int(item)
        if number is None:
            log.warning("zoom user %s: unreadable login type %r", record.get("id"), item)
            continue
        names.append(LOGIN_TYPES.get(number, f"login-{number}"))
    return tuple(names)


def user(record: Mapping[str, Any], listed_as: UserState, asked: str = "") -> VendorUser:
    """One user record. ``asked`` is the id or address the caller asked for: Zoom may
    answer a pending user with its id and ``created_at`` alone (Errata Z-c), and what
    we asked with is then all we know of it."""
    user_id = record.get("id")
    if user_id is not None and (not isinstance(user_id, str) or not user_id):
        raise ContractError("field 'id' is not a string")
    status = record.get("status", listed_as.value)
    try:
        state = UserState(status)
    except ValueError as exc:
        raise ContractError(f"field 'status' has an unknown value {status!r}") from exc
    user_type = record.get("type")
    if user_type is not None and (not isinstance(user_type, int) or isinstance(user_type, bool)):
        raise ContractError("field 'type' is not an integer")
    email = opt_str(record, "email")
    if not email and "@" in asked:
        email = asked
    if user_id is None and asked and "@" not in asked:
        user_id = asked
    if not email and user_id is None:
        raise ContractError("a user with neither 'id' nor 'email'")
    return VendorUser(
        vendor_id=user_id,
        email=email,
        first_name=opt_str(record, "first_name"),
        last_name=opt_str(record, "last_name"),
        display_name=opt_str(record, "display_name"),
        state=state,
        licensed=user_type == LICENSED,
        login_types=login_types(record),
        # A pending user's created_at is the time of the call, not of the invitation.
        created=None if state is UserState.PENDING else opt_datetime(record, "created_at"),
        last_login=opt_datetime(record, "last_login_time"),
        partial=not record.get("email") or user_type is None,
        raw=record,
    )


def create_body(spec: UserSpec) -> dict[str, Any]:
    return {
        "action": "create",  # Zoom mails the "Activate Zoom Account" link
        "user_info": {
            "email": spec.email,
            "type": LICENSED if spec.licensed else BASIC,
            "first_name": spec.first_name,
            "last_name": spec.last_name,
            "display_name": spec.display_name,
        },
    }
