"""A service's vendor token: one per service, shared by every process that calls the vendor.

Zoom invalidates a Server-to-Server token as soon as another one is issued (Errata Z-a),
and a Webex service app's renewed refresh token must be kept where every worker finds it
(W-h). So a connector never keeps a token to itself: a `TokenKeeper` reads the service's
token from a `TokenStore`, has the store renew it (one caller at a time, whichever
process), and after a 401 reads the store again before asking for a new one — another
process has usually renewed it already, and asking again would knock that one out.

The engine's store is a database row (``provisioning.engine.vendor_tokens``); a connector built
without one (a test, a one-off script) keeps its token in a `MemoryTokenStore`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Protocol

from campusconf.connectors.outcomes import Outcome, TransientFailure
from campusconf.connectors.transport.http_client import Response, TransportError


@dataclass(frozen=True)
class Token:
    """An access token as stored. Tokens are secrets: they never appear in a repr or a log.

    ``credential`` is a fingerprint of the credential the token came from, so a token
    left by an older credential (a rotated secret, a re-authorised app) is never used.
    ``generation`` counts the store's renewals; it tells a token apart from the one that
    replaced it (0: not stored yet).
    """

    access_token: str = field(repr=False)
    expires_at: float | None = None  # Unix time; None: unknown, renewed after a 401 only
    refresh_token: str = field(default="", repr=False)
    refresh_expires_at: float | None = None
    scopes: tuple[str, ...] = ()  # as granted, when the vendor says (Zoom's "scope")
    credential: str = ""
    generation: int = 0

    def replaces(self, other: Token | None) -> bool:
        """Whether this is a different token from ``other`` (None: there was none)."""
        return other is None or (self.generation, self.access_token) != (
            other.generation,
            other.access_token,
        )


# Given the stored token (its refresh token, for Webex) or None, a new token or why not.
Fetch = Callable[["Token | None"], "Token | Outcome"]


class TokenStore(Protocol):
    """Where one service's token lives, shared by every process that calls its vendor."""

    def load(self) -> Token | None:
        """The stored token, whatever credential it came from; None when there is none."""
        ...

    def renew(self, seen: Token | None, fetch: Fetch) -> Token | Outcome:
        """Replace the stored token with ``fetch(stored)``, unless it is no longer ``seen``.

        One caller at a time, across every process sharing the store. When the stored
        token is not ``seen`` any more (another caller renewed it meanwhile), it is
        returned and ``fetch`` is not called. A failure of ``fetch`` is returned as it
        is and stores nothing.
        """
        ...


class MemoryTokenStore:
    """A store for one process: what a connector uses when no shared store is given."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._token: Token | None = None

    def load(self) -> Token | None:
        return self._token

    def renew(self, seen: Token | None, fetch: Fetch) -> Token | Outcome:
        with self._lock:
            stored = self._token
            if stored is not None and stored.replaces(seen):
                return stored
            result = fetch(stored)
            if isinstance(result, Token):
                generation = (stored.generation if stored else 0) + 1
                result = replace(result, generation=generation)
                self._token = result
            return result


RENEWAL_ROUNDS = 3


class TokenKeeper:
    """This process's view of its service's token: kept in memory, renewed through the store.

    ``margin`` (seconds) renews a token that far ahead of its expiry, so no request
    leaves with a token that dies on the way. Thread-safe: the engine's threads share
    one connector, and only one of them at a time goes to the store.
    """

    def __init__(
        self,
        store: TokenStore,
        fetch: Fetch,
        *,
        credential: str,
        margin: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store, self._fetch = store, fetch
        self.credential, self._margin, self._clock = credential, margin, clock
        self._lock = threading.Lock()
        self._token: Token | None = None
        self._refused: Token | None = None  # refused where it could not be renewed at once

    def usable(self, token: Token | None, margin: float | None = None) -> bool:
        if token is None or token.credential != self.credential or not token.access_token:
            return False
        ahead = self._margin if margin is None else margin
        return token.expires_at is None or self._clock() < token.expires_at - ahead

    def cached(self) -> Token | None:
        """The token in memory if it may still be used; no I/O."""
        token = self._token
        return token if self.usable(token) else None

    def peek(self) -> Token | None:
        """The token in memory, else the store's if it may be used; never the vendor (the
        engine's main thread, which may read the database but not wait on a vendor)."""
        token = self.cached()
        if token is not None:
            return token
        with self._lock:
            stored = self._store.load()
            if not self._fresh(stored):
                return None
            self._token = stored
            return stored

    def current(self) -> Token | Outcome:
        """A token to send: the one in memory, else the store's, else a renewed one."""
        token = self.cached()
        if token is not None:
            return token
        with self._lock:
            token = self.cached()
            if token is not None:
                return token
            stored = self._store.load()
            if self._fresh(stored):
                assert stored is not None
                self._token = stored
                return stored
            return self._renew(stored)

    def rejected(self, used: Token) -> Token | Outcome:
        """The vendor refused ``used`` (a 401): the token to try next, or why there is none.

        Another thread or process has usually replaced it already: that one is taken.
        Only when the store still holds ``used`` is a new one asked for.
        """
        with self._lock:
            mine = self._token
            if mine is not None and mine.replaces(used) and self.usable(mine):
                return mine
            stored = self._store.load()
            if stored is not None and stored.replaces(used) and self.usable(stored):
                self._token = stored
                return stored
            return self._renew(stored if stored is not None else used)

    def forget(self, used: Token) -> None:
        """``used`` was refused where it could not be renewed at once (the engine's
        sender): the next `current` takes another from the store, or renews it."""
        with self._lock:
            self._refused = used
            if self._token is not None and not self._token.replaces(used):
                self._token = None

    def _fresh(self, stored: Token | None) -> bool:
        refused = self._refused
        return self.usable(stored) and (
            refused is None or stored is None or stored.replaces(refused)
        )

    def renew_now(self) -> Token | Outcome:
        """A token fetched now, whatever is stored (a probe after a scope was added: a
        token carries the scopes it was issued with)."""
        with self._lock:
            return self._renew(self._store.load())

    def _renew(self, seen: Token | None) -> Token | Outcome:
        fetched: list[Token] = []

        def fetch(stored: Token | None) -> Token | Outcome:
            result = self._fetch(stored)
            if isinstance(result, Token):
                fetched.append(result)
            return result

        for _ in range(RENEWAL_ROUNDS):
            result = self._store.renew(seen, fetch)
            if not isinstance(result, Token):
                return result
            # A token just issued is used even if its lifetime is shorter than the margin.
            if self.usable(result, 0.0 if fetched else None):
                self._token, self._refused = result, None
                return result
            seen, fetched = result, []  # another process stored one we cannot use: renew
        return TransientFailure(reason="the service's access token could not be renewed")


def send_with_token(
    keeper: TokenKeeper,
    send: Callable[[str], Response | TransportError],
    refused: Callable[[Response], bool],
) -> tuple[Response | TransportError | Outcome, Token | None]:
    """Send with the service's token; after a refusal (``refused``: a 401) again with the
    token the keeper finds next, up to `RENEWAL_ROUNDS` sends. A 401 means the request
    was not processed, so sending it again is safe even for a write. Returns the last
    answer and the token it was sent with."""
    token = keeper.current()
    for attempt in range(1, RENEWAL_ROUNDS + 1):
        if not isinstance(token, Token):
            return token, None
        answer = send(token.access_token)
        if attempt == RENEWAL_ROUNDS or not (isinstance(answer, Response) and refused(answer)):
            return answer, token
        token = keeper.rejected(token)
    raise AssertionError("unreachable: the last round returns")
