"""Zoom wire formats: reading users and error bodies, writing a create (see VENDORS.md
and the Users API reference). Kept apart from the client so each stays readable."""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Mapping
from typing import Any

from campusconf.connectors.base import UserSpec, UserState, VendorUser
from campusconf.connectors.http import (
    ContractError,
    decode_json,
    opt_datetime,
    opt_str,
    rate_limited,
    req_str,
)
from campusconf.connectors.outcomes import RateLimited, RateScope, Rejected
from campusconf.connectors.wire import Response

LICENSED, BASIC = 2, 1  # a user's "type": Licensed, Basic
LOGIN_TYPES = {0: "facebook", 1: "google", 99: "api", 100: "zoom", 101: "sso"}
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


def user(record: Mapping[str, Any], listed_as: UserState) -> VendorUser:
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
    login_types = record.get("login_types", [])
    if not isinstance(login_types, list) or not all(isinstance(t, int) for t in login_types):
        raise ContractError("field 'login_types' is not a list of integers")
    return VendorUser(
        vendor_id=user_id,
        email=req_str(record, "email"),
        first_name=opt_str(record, "first_name"),
        last_name=opt_str(record, "last_name"),
        display_name=opt_str(record, "display_name"),
        state=state,
        licensed=user_type == LICENSED,
        login_types=tuple(LOGIN_TYPES.get(t, str(t)) for t in login_types),
        created=opt_datetime(record, "created_at"),
        last_login=opt_datetime(record, "last_login_time"),
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
