"""The closed set of answers a connector call can give.

Connectors never raise for a vendor's answer: every call returns one of the
types below, and the engine decides what to do with each (retry, wait, look
the user up, give up and tell staff). Every outcome carries the vendor's
tracking id and the HTTP status when there was an HTTP answer, so that a log
line or a support ticket can point at the exact vendor request.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime

from campusconf.connectors.users import VendorUser


@dataclass(frozen=True, kw_only=True)
class _Traced:
    tracking_id: str | None = None
    http_status: int | None = None


@dataclass(frozen=True, kw_only=True)
class Ok(_Traced):
    """The call did what was asked. `user` is set when the call reads a user."""

    user: VendorUser | None = None


@dataclass(frozen=True, kw_only=True)
class Created(_Traced):
    """A new vendor user exists. Record `user.vendor_id` before anything else."""

    user: VendorUser


@dataclass(frozen=True, kw_only=True)
class AlreadyExists(_Traced):
    """The vendor already has a user with this address; look it up and link it."""

    reason: str = ""
    vendor_code: str | None = None


@dataclass(frozen=True, kw_only=True)
class HeldElsewhere(_Traced):
    """The address holds an account outside our organisation that this create cannot
    take in: a paid Zoom account elsewhere (code 1009), for example. Retrying will not
    help until the member releases it; nothing was created.

    A vendor that only says "already exists" (Zoom's documented 409, Webex's 409) is
    ``AlreadyExists``: the engine looks the user up in our organisation and decides.
    """

    reason: str = ""
    vendor_code: str | None = None


@dataclass(frozen=True, kw_only=True)
class NotFound(_Traced):
    """The vendor has no such user (or no user with any of the given addresses)."""

    reason: str = ""
    vendor_code: str | None = None


@dataclass(frozen=True, kw_only=True)
class Rejected(_Traced):
    """The vendor refused the request; retrying the same request will not help.

    Covers bad input, seat limits ("You can add max N paid users") and operations a
    vendor cannot do. A refused credential or a missing scope is `NotAuthorised`.
    """

    reason: str
    vendor_code: str | None = None


class AuthProblem(enum.StrEnum):
    CREDENTIAL = "credential"  # the vendor refuses the service's credential itself
    PERMISSION = "permission"  # the credential works, but lacks a scope or a role


@dataclass(frozen=True, kw_only=True)
class NotAuthorised(_Traced):
    """The vendor refused the service's credential, or a scope it needs: a problem of the
    service, not of the user the call was about (docs/vendors.md, "Authentication").

    Nothing was done at the vendor. The engine pauses the service's work until the
    credential works again; retrying the call alone would only repeat the refusal.
    `missing_scopes` are the vendor's alternatives when it names them (any one would do).
    """

    reason: str
    problem: AuthProblem = AuthProblem.CREDENTIAL
    vendor_code: str | None = None
    missing_scopes: tuple[str, ...] = ()


class RateScope(enum.StrEnum):
    QPS = "qps"  # per-second (or per-minute) pacing: wait seconds
    DAILY = "daily"  # Zoom's daily create cap: wait until the reset time
    UNKNOWN = "unknown"  # a 429/423 that did not say which limit


@dataclass(frozen=True, kw_only=True)
class RateLimited(_Traced):
    """The vendor asked us to slow down. Wait `wait_seconds()` before the next call.

    Exactly one of `retry_after` (seconds) and `retry_at` (an absolute time,
    as Zoom gives for its daily cap) is usually set; both are None when the
    vendor gave no hint, and the engine then backs off on its own schedule.
    """

    scope: RateScope = RateScope.UNKNOWN
    retry_after: float | None = None
    retry_at: datetime | None = None
    reason: str = ""

    def wait_seconds(self, now: datetime | None = None) -> float | None:
        if self.retry_after is not None:
            return self.retry_after
        if self.retry_at is not None:
            current = now or datetime.now(UTC)
            return max(0.0, (self.retry_at - current).total_seconds())
        return None


@dataclass(frozen=True, kw_only=True)
class TransientFailure(_Traced):
    """The request surely had no effect (5xx, connection refused, a failed read).

    Safe to retry with back-off.
    """

    reason: str


@dataclass(frozen=True, kw_only=True)
class UnknownOutcome(_Traced):
    """A write may or may not have happened (time-out, dropped connection,
    Webex's "400 although created"). Look the user up before any retry.
    """

    reason: str


Outcome = (
    Ok
    | Created
    | AlreadyExists
    | HeldElsewhere
    | NotFound
    | Rejected
    | NotAuthorised
    | RateLimited
    | TransientFailure
    | UnknownOutcome
)

# The outcomes that mean "the call did not get what it wanted".
Failure = (
    AlreadyExists
    | HeldElsewhere
    | NotFound
    | Rejected
    | NotAuthorised
    | RateLimited
    | TransientFailure
    | UnknownOutcome
)


class ListingFailed(Exception):
    """Raised by `Connector.iter_users` when a page cannot be read.

    A listing is a stream, so it cannot return an outcome; it stops with this
    exception instead, carrying the typed outcome. Reconcile must never treat
    an interrupted listing as "these users are gone".
    """

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(f"vendor listing interrupted: {outcome!r}")
        self.outcome = outcome
