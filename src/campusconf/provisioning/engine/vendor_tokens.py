"""The engine's `TokenStore`: a service's vendor token in its `VendorToken` row.

Renewing is one process at a time, by a conditional update rather than a lock held
across the vendor's answer (on SQLite a held write lock would stop every other writer
meanwhile): a process takes the renewal lease only if the row is still at the
generation it saw and nobody holds an unexpired lease; it asks the vendor with no
transaction open; it writes the new token only over that same generation, still
holding the lease. Everyone else waits for the generation to move and takes the token
written there. A process that dies holding the lease holds it ``LEASE_SECONDS`` at most.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from dataclasses import replace
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q

from campusconf.connectors.outcomes import Outcome, TransientFailure
from campusconf.connectors.tokens import Fetch, Token
from campusconf.provisioning.models import VendorToken

log = logging.getLogger("campusconf.provisioning")

LEASE_SECONDS = 30.0  # longer than a token request's time-outs (connect 5 s + read 20 s)
POLL_SECONDS = 0.1
FIELDS = (
    "id",
    "credential",
    "access_token",
    "expires_at",
    "refresh_token",
    "refresh_expires_at",
    "scopes",
    "generation",
)


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"[:80]


def _token(row: dict[str, Any]) -> Token | None:
    if not row["access_token"]:
        return None
    return Token(
        access_token=row["access_token"],
        expires_at=row["expires_at"],
        refresh_token=row["refresh_token"],
        refresh_expires_at=row["refresh_expires_at"],
        scopes=tuple(row["scopes"].split()),
        credential=row["credential"],
        generation=row["generation"],
    )


class DatabaseTokenStore:
    """One service's token, shared by every process that reaches this database."""

    def __init__(self, service_id: int) -> None:
        self.service_id = service_id

    def load(self) -> Token | None:
        row = VendorToken.objects.filter(service_id=self.service_id).values(*FIELDS).first()
        return None if row is None else _token(row)

    def renew(self, seen: Token | None, fetch: Fetch) -> Token | Outcome:
        owner = _owner()
        deadline = time.monotonic() + 2 * LEASE_SECONDS
        while True:
            row = self._row()
            stored = _token(row)
            if stored is not None and stored.replaces(seen):
                return stored  # renewed meanwhile by someone else
            if self._take_lease(row, owner):
                return self._fetch_and_store(row, stored, fetch, owner)
            if time.monotonic() > deadline:
                return TransientFailure(
                    reason="another process has been renewing the service's vendor token "
                    f"for over {2 * LEASE_SECONDS:.0f} s"
                )
            time.sleep(POLL_SECONDS)

    def _row(self) -> dict[str, Any]:
        rows = VendorToken.objects.filter(service_id=self.service_id).values(*FIELDS)
        row = rows.first()
        if row is None:
            try:
                with transaction.atomic():
                    VendorToken.objects.create(service_id=self.service_id)
            except IntegrityError:
                pass  # another process made it first
            row = rows.get()
        return dict(row)

    def _take_lease(self, row: dict[str, Any], owner: str) -> bool:
        now = time.time()
        free = Q(renewing_until__isnull=True) | Q(renewing_until__lt=now)
        return bool(
            VendorToken.objects.filter(free, pk=row["id"], generation=row["generation"]).update(
                renewing_until=now + LEASE_SECONDS, renewer=owner
            )
        )

    def _fetch_and_store(
        self, row: dict[str, Any], stored: Token | None, fetch: Fetch, owner: str
    ) -> Token | Outcome:
        held = VendorToken.objects.filter(pk=row["id"], generation=row["generation"], renewer=owner)
        try:
            result = fetch(stored)  # the vendor's answer: no transaction is open meanwhile
        except BaseException:
            held.update(renewing_until=None, renewer="")
            raise
        if not isinstance(result, Token):
            held.update(renewing_until=None, renewer="")
            return result
        generation = row["generation"] + 1
        written = held.update(
            credential=result.credential,
            access_token=result.access_token,
            expires_at=result.expires_at,
            refresh_token=result.refresh_token,
            refresh_expires_at=result.refresh_expires_at,
            scopes=" ".join(result.scopes),
            generation=generation,
            renewing_until=None,
            renewer="",
        )
        if not written:
            # Our lease ran out and another process renewed meanwhile: theirs stands (for
            # Zoom ours may even have knocked theirs out; the next 401 reads the store).
            log.warning("service %s: a renewed vendor token came too late", self.service_id)
            current = self.load()
            return current if current is not None else result
        log.info("service %s: vendor token renewed (generation %d)", self.service_id, generation)
        return replace(result, generation=generation)
