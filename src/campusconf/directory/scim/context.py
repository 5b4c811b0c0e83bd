"""Who a SCIM operation runs for, for the steps that do not see the request.

scim2-server hands the storage resources, not requests; the storage still needs the
client (its rights, its name in the audit log) and, when staff approve a held
deactivation, the staff member. One ``ScimCall`` per request, in a context variable:
the application object is shared by every thread of a worker.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from campusconf.directory.models import HeldDeactivation, ScimClient


@dataclass
class HoldRequest:
    """A deactivation refused by the guard, to be recorded once the request's own
    transaction has rolled back."""

    scim_user_id: Any
    member_id: int | None
    user_name: str
    kind: HeldDeactivation.Kind
    resource: dict[str, Any]
    base_version: int


@dataclass
class ScimCall:
    client: ScimClient | None = None
    # Set when staff approve a held deactivation: the guard lets it through, and the
    # audit entry names them.
    approved_by: Any = None
    approved_reason: str = ""
    held: HoldRequest | None = None
    deactivations: list[int] = field(default_factory=list)


_current: ContextVar[ScimCall | None] = ContextVar("campusconf_scim_call", default=None)


@contextmanager
def scim_call(call: ScimCall) -> Iterator[ScimCall]:
    token = _current.set(call)
    try:
        yield call
    finally:
        _current.reset(token)


def current() -> ScimCall:
    """The running call; outside one (a script using the storage), a call with no client."""
    return _current.get() or ScimCall()
