"""The connector contract: one small protocol every vendor client implements.

The provisioning engine only ever talks to vendors through `Connector`. It is
pure Python (no Django, no database): the engine calls it from jobs, records
what it answers, and decides retries from the typed outcome it gets back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from campusconf.connectors.outcomes import Outcome
from campusconf.connectors.tokens import Token
from campusconf.connectors.transport.http_client import (
    PerThreadConnections,
    Request,
    Response,
    TransportError,
)

# The user types every connector speaks in; defined in ``users`` so that ``outcomes``
# (which carries them) need not import this module, and imported here for callers.
from campusconf.connectors.users import UserSpec as UserSpec
from campusconf.connectors.users import UserState as UserState
from campusconf.connectors.users import VendorUser as VendorUser


@dataclass(frozen=True)
class Capabilities:
    """What a vendor can and cannot do, so the engine plans around it.

    resend_invitation: the vendor has a per-user "resend the invitation" call.
        None of ours has; `reinvite` then works around it as described below.
    reinvite_replaces_user: `reinvite` deletes the pending user and creates it
        again, so the vendor id changes: record the id in the `Created` outcome.
    invitations: the vendor mails invitations and has a pending state at all.
    listing_ids_for_pending: listed pending users carry a vendor id (Zoom's
        pending list has none: match those by address).
    profile_update_when_pending: an update of a pending user takes effect
        (Zoom answers success but changes nothing).
    deactivate_keeps_licence: deactivating leaves the licence in place (Zoom
        removes it, so `reactivate` sets the licence again).
    max_page_size: the largest page `iter_users` may ask for.
    """

    resend_invitation: bool
    reinvite_replaces_user: bool
    invitations: bool
    listing_ids_for_pending: bool
    profile_update_when_pending: bool
    deactivate_keeps_licence: bool
    max_page_size: int


class Connector(Protocol):
    """The client of one vendor's user API.

    Every method returns an `Outcome` and never raises for anything the vendor
    answers (or fails to answer); `iter_users` is the one exception, as a
    stream: it raises `ListingFailed` carrying the outcome.

    Identity: `vendor_id` is the vendor's own id. Addresses are compared
    case-insensitively by the vendors; pass them as the member has them.
    """

    capabilities: Capabilities

    def create_user(self, spec: UserSpec) -> Outcome:
        """Create (invite) a user: Created, AlreadyExists, or a failure.

        UnknownOutcome means the user may exist: call `find_by_address` before
        any retry, never create twice.
        """
        ...

    def find_by_address(self, addresses: Sequence[str]) -> Outcome:
        """Look the addresses up in order (university address, then aliases).

        Ok(user) for the first match, NotFound when none matches.
        """
        ...

    def get_user(self, vendor_id: str) -> Outcome:
        """Ok(user) or NotFound."""
        ...

    def iter_users(self, page_size: int | None = None) -> Iterator[VendorUser]:
        """Every user of the account, pending ones included, one page at a time.

        Memory stays at one page whatever the number of users. Raises
        `ListingFailed` when a page cannot be read after a few short retries.
        """
        ...

    def reinvite(self, user: VendorUser) -> Outcome:
        """Send a fresh invitation to a pending user.

        Created(user) when the vendor user was replaced (see
        `Capabilities.reinvite_replaces_user`), Ok when re-sent in place,
        Rejected when the user already activated or the vendor cannot.
        """
        ...

    def update_profile(
        self,
        vendor_id: str,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
        display_name: str | None = None,
    ) -> Outcome:
        """Change the names given (None leaves a name as it is). Ok or a failure."""
        ...

    def set_licence(self, vendor_id: str, licensed: bool) -> Outcome:
        """Give or take the service's licence. Ok or a failure."""
        ...

    def deactivate(self, vendor_id: str) -> Outcome:
        """Stop the user signing in, keeping the account. Ok or a failure."""
        ...

    def reactivate(self, vendor_id: str) -> Outcome:
        """Undo `deactivate`: the same user (same id, meetings, recordings, settings)
        may sign in again, holding the service's licence.

        Ok(user) with the user as it now is: ACTIVE, or PENDING for a person who was
        deactivated before ever signing in (Webex). Idempotent: an already active user
        is Ok. NotFound when the user is gone; Rejected when the vendor refuses (a
        pending Zoom user cannot be activated; no free licence); other failures as
        usual. A user reactivated whose licence could not be set again answers that
        failure: the retry finds the user active and only sets the licence.
        """
        ...

    def delete(self, vendor_id: str) -> Outcome:
        """Remove the user from the account. Ok, NotFound, or a failure."""
        ...


@dataclass(frozen=True, slots=True)
class Exchange:
    """A create as one HTTP request and the reading of its answer, sent by the caller.

    The engine sends a batch's creates from one thread over a multiplexer
    (``transport.mux``) rather than a thread per call. ``read`` turns the answer (or the
    transport error) into the outcome ``create_user`` would have returned, or None
    when that one answer cannot decide and nothing was done at the vendor (a 401: the
    token expired): the caller then runs ``create_user``, which renews the token.
    """

    request: Request
    read: Callable[[Response | TransportError], Outcome | None]
    via: PerThreadConnections


@runtime_checkable
class RestoresAddress(Protocol):
    """Connectors whose admin can put a user's address back (Webex: an admin's
    ``PUT /people/{id}`` writes ``emails``; docs/vendors.md, "A changed address")."""

    def restore_address(self, vendor_id: str, address: str) -> Outcome:
        """Make ``address`` the user's only address again and give the service's
        licence back. Ok(user) as it now is; Rejected when the vendor will not (the
        address is another user's, several addresses); other failures as usual."""
        ...


@runtime_checkable
class SingleRequestCreate(Protocol):
    """Connectors whose create is one request (Webex, Zoom; not SCIM's client)."""

    def create_exchange(self, spec: UserSpec) -> Exchange | None:
        """The create of ``spec`` as one request, or None when it needs more (a token
        to fetch, a licence to look up, a test's transport): call ``create_user``."""
        ...

    def prepare_create(self) -> Outcome | None:
        """Get what a create needs to be one request — the service's token, Webex's
        licence id — on the caller's thread (the engine's main thread, which may use the
        database and wait for the vendor once). None when done, else the failure."""
        ...


@runtime_checkable
class BatchRead(Protocol):
    """Connectors that read several users by vendor id in one call (Webex's
    ``GET /people?id=a,b,c``, at most 85 ids): the engine's watch reads waiting
    accounts together with it (provisioning/engine/watch.py)."""

    max_batch: int

    def get_users(self, vendor_ids: Sequence[str]) -> dict[str, VendorUser] | Outcome:
        """The users found, by vendor id (an id left out is not found), or the failure.
        At most ``max_batch`` ids."""
        ...


@dataclass(frozen=True)
class ProbeAnswer:
    """One read as the go-live check sees it: the outcome (``Ok`` for a 2xx), and what
    came over the wire — the status, the headers (rate limits, ``Date``) and the body."""

    outcome: Outcome
    status: int | None
    headers: Mapping[str, str]
    body: Any = None


@runtime_checkable
class Preflight(Protocol):
    """The read-only calls ``campusconf vendor-check`` makes (Webex, Zoom)."""

    def token(self, fresh: bool = False) -> Token | Outcome:
        """The service's token (a new one with ``fresh``: what the vendor grants now)."""
        ...

    def probe(self, path: str, params: Mapping[str, str | int] | None = None) -> ProbeAnswer:
        """``GET path`` with the service's token; never a write."""
        ...
