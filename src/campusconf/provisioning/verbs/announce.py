"""What the engine tells members, said without knowing how they are told.

The engine sits below the portal (docs/architecture.md, the import contracts), so it
cannot queue the portal's mail notices itself. It announces instead, through Django
signals sent synchronously: the portal's outbox listens (connected in ``PortalConfig``)
and queues the notice in the caller's transaction, so a notice commits with the change
that made it due, or not at all. With no listener, nothing is told and nothing fails.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.dispatch import Signal

from campusconf.accounts.models import Account
from campusconf.services.models import Service

# kind (a notice kind the portal knows), account, key (names the occasion: told once).
# A listener answers truthy when it queued something.
member_told = Signal()
# service, ended (the end date members were told of and which was lifted). A listener
# tells whoever heard of that end, and answers how many it told.
renewal_told = Signal()

_withheld: ContextVar[frozenset[str]] = ContextVar("withheld_notices", default=frozenset())


@contextmanager
def withheld(*kinds: str) -> Iterator[None]:
    """Within this block, listeners queue none of ``kinds``.

    For a caller that announces its own, better notice in place of one a lifecycle
    signal would bring: the seat queue's admission opens the account (which would queue
    "application received") and says "a licence is now yours" instead (one mail, not two).
    """
    token = _withheld.set(_withheld.get() | frozenset(kinds))
    try:
        yield
    finally:
        _withheld.reset(token)


def withheld_now() -> frozenset[str]:
    return _withheld.get()


def tell(kind: str, account: Account, *, key: str = "") -> bool:
    """Announce a notice of ``kind`` about ``account``; True if a listener queued it
    (False: nobody listens, the kind is withheld, or this occasion was told already)."""
    answers = member_told.send(sender=tell, kind=kind, account=account, key=key)
    return any(answer for _, answer in answers)


def tell_renewed(service: Service, ended: datetime.date) -> int:
    """Announce that the licence end of ``ended`` is lifted; how many members were told."""
    # The stubs type answers as text; ours are counts.
    answers: list[tuple[Any, Any]] = renewal_told.send(
        sender=tell_renewed, service=service, ended=ended
    )
    return sum(int(answer) for _, answer in answers)
