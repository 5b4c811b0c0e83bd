"""Plumbing shared by the HTTP connectors: sending, decoding, contract checks.

Each connector keeps its own `_classify`, the one place that turns a vendor's
answer into an outcome; this module only holds the pieces they share.
"""

from __future__ import annotations

import enum
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

from campusconf.connectors.base import ProbeAnswer
from campusconf.connectors.outcomes import (
    Ok,
    Outcome,
    RateLimited,
    RateScope,
    TransientFailure,
    UnknownOutcome,
)
from campusconf.connectors.transport.http_client import HttpClient, Response, TransportError

log = logging.getLogger("campusconf.connectors")

R = TypeVar("R")

CONTRACT = "vendor answer broke the API contract"

# Called before every request with the operation name, so the engine's shared
# rate limiter can pace all workers of one vendor account (see docs).
Pacer = Callable[[str], None]


class Op(enum.StrEnum):
    AUTH = "auth"  # obtaining or renewing an access token
    CREATE = "create"
    FIND = "find"
    GET = "get"
    LIST = "list"
    UPDATE = "update"
    LICENCE = "licence"
    DEACTIVATE = "deactivate"
    REACTIVATE = "reactivate"
    DELETE = "delete"

    @property
    def writes(self) -> bool:
        return self not in (Op.AUTH, Op.FIND, Op.GET, Op.LIST)


@dataclass(frozen=True)
class Reply:
    """A 2xx answer, its body decoded (None when empty); internal to connectors."""

    body: Any
    status: int
    tracking_id: str | None
    next_link: str | None  # RFC 5988 Link rel="next", when the vendor pages that way


def make_reply(response: Response, body: Any, tracking_id: str | None) -> Reply:
    return Reply(
        body=body,
        status=response.status_code,
        tracking_id=tracking_id,
        next_link=response.next_link(),
    )


def probe_answer(answer: Response | TransportError | Outcome, read: Outcome | Reply) -> ProbeAnswer:
    """A read as the go-live check sees it: the outcome, the status, headers and body."""
    if not isinstance(answer, Response):
        return ProbeAnswer(read if not isinstance(read, Reply) else Ok(), None, {})
    if isinstance(read, Reply):
        ok = Ok(tracking_id=read.tracking_id, http_status=read.status)
        return ProbeAnswer(ok, answer.status_code, answer.headers, read.body)
    return ProbeAnswer(read, answer.status_code, answer.headers)


class ContractError(Exception):
    """A vendor answer that does not have the shape the API promises."""


def send(
    client: HttpClient,
    op: Op,
    method: str,
    url: str,
    pacer: Pacer | None,
    **kwargs: Any,
) -> Response | TransportError:
    """Send one request; transport errors are returned, not raised, for _classify."""
    if pacer is not None:
        pacer(op.value)
    try:
        return client.request(method, url, **kwargs)
    except TransportError as exc:
        return exc


def transport_failure(exc: Exception, op: Op, vendor: str, *, never_sent: bool) -> Outcome:
    """A request that got no HTTP answer.

    If the request surely never reached the vendor (`never_sent`: no connection),
    retrying is safe. Otherwise a write may have happened: the engine must look first.
    """
    reason = f"{vendor} {op.value}: {type(exc).__name__}: {exc}"
    if op.writes and not never_sent:
        return UnknownOutcome(reason=reason)
    return TransientFailure(reason=reason)


def decode_json(response: Response) -> Any:
    """The decoded body, None when empty; ContractError when it is not JSON."""
    if not response.content.strip():
        return None
    try:
        # JSON between systems is UTF-8 (RFC 8259); bytes handed to json.loads would
        # first be sniffed for UTF-16 and UTF-32, in Python, on every answer.
        return json.loads(response.content.decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        snippet = response.text[:80]
        raise ContractError(f"body is not JSON: {snippet!r}") from exc


def contract_failure(
    op: Op, vendor: str, detail: str, tracking_id: str | None, status: int | None
) -> Outcome:
    """A malformed vendor answer: log it with the tracking id, return a typed failure.

    A write that got a success status with a garbled body probably happened,
    so it is an UnknownOutcome (look before retrying); anything else is a
    TransientFailure (the vendor may answer properly next time).
    """
    reason = f"{CONTRACT}: {detail}"
    log.warning(
        "%s %s: %s (tracking id %s, HTTP %s)", vendor, op.value, reason, tracking_id, status
    )
    if op.writes and status is not None and 200 <= status < 300:
        return UnknownOutcome(reason=reason, tracking_id=tracking_id, http_status=status)
    return TransientFailure(reason=reason, tracking_id=tracking_id, http_status=status)


def parse_retry_after(value: str | None) -> tuple[float | None, datetime | None]:
    """Retry-After as seconds, or as an absolute time (ISO 8601 or HTTP date)."""
    if value is None or not value.strip():
        return None, None
    text = value.strip()
    try:
        return max(0.0, float(text)), None
    except ValueError:
        pass
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None, None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return None, when


def rate_limited(
    headers: Mapping[str, str], scope: RateScope, reason: str, tracking_id: str | None, status: int
) -> RateLimited:
    seconds, until = parse_retry_after(headers.get("retry-after"))
    return RateLimited(
        scope=scope,
        retry_after=seconds,
        retry_at=until,
        reason=reason,
        tracking_id=tracking_id,
        http_status=status,
    )


# --- strict readers for vendor records: a wrong type is a ContractError ------


def req_str(record: Mapping[str, Any], key: str) -> str:
    value = record.get(key)
    if not isinstance(value, str) or not value:
        raise ContractError(f"field {key!r} missing or not a string")
    return value


def opt_str(record: Mapping[str, Any], key: str) -> str:
    value = record.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ContractError(f"field {key!r} is not a string")
    return value


def opt_bool(record: Mapping[str, Any], key: str, default: bool = False) -> bool:
    value = record.get(key, default)
    if not isinstance(value, bool):
        raise ContractError(f"field {key!r} is not a boolean")
    return value


def opt_datetime(record: Mapping[str, Any], key: str) -> datetime | None:
    value = record.get(key)
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise ContractError(f"field {key!r} is not a date-time string")
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ContractError(f"field {key!r} is not an ISO date-time: {value!r}") from exc
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def req_dict(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ContractError(f"{what} is not a JSON object")
    return value


def req_list(record: Mapping[str, Any], key: str) -> list[Any]:
    value = record.get(key)
    if not isinstance(value, list):
        raise ContractError(f"field {key!r} missing or not a list")
    return value


# --- listing pages: a short in-place retry so one 429 does not restart 100k ---

LIST_ATTEMPTS = 4
LIST_MAX_WAIT = 30.0  # seconds; a longer wait ends the listing, the engine retries later


def page_with_retries(
    fetch: Callable[[], Outcome | R], sleep: Callable[[float], None] = time.sleep
) -> Outcome | R:
    """Fetch one listing page, retrying rate limits and transient failures briefly."""
    answer = fetch()
    for attempt in range(1, LIST_ATTEMPTS):
        if isinstance(answer, RateLimited):
            wait = answer.wait_seconds()
            wait = 1.0 if wait is None else wait
            if wait > LIST_MAX_WAIT:
                return answer
        elif isinstance(answer, TransientFailure):
            wait = min(LIST_MAX_WAIT, 0.5 * 2**attempt)
        else:
            return answer
        sleep(wait)
        answer = fetch()
    return answer
