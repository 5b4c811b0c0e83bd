"""The enabled services and their licence terms, as the member pages show them.

Every page of the portal lists them, and they change a few times a year, so each
process keeps the list for ``TTL`` seconds instead of reading it per request. A save
or delete of a service clears this process's copy at once (the signals below); other
processes, on this machine or another, see the change within ``TTL`` seconds. Writes
that skip ``save()`` (a queryset's ``update()``) touch only fields the list's pages do
not show (the licence-end notice's bookkeeping).
"""

from __future__ import annotations

import threading
import time
from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from campusconf.services.models import Service

TTL = 10.0  # seconds a process may show a service's old terms after staff change them

_lock = threading.Lock()
_cached: tuple[float, tuple[Service, ...]] | None = None


def enabled_services() -> list[Service]:
    """Enabled services in display order; read from the database at most every TTL s."""
    global _cached
    now = time.monotonic()
    cached = _cached
    if cached is not None and now - cached[0] < TTL:
        return list(cached[1])
    services = tuple(Service.objects.filter(enabled=True).order_by("display_order", "slug"))
    with _lock:
        _cached = (now, services)
    return list(services)


def forget() -> None:
    """Read the services again on the next call (a save, a delete, a test's reset)."""
    global _cached
    with _lock:
        _cached = None


@receiver(post_save, sender=Service, dispatch_uid="services-catalogue-save")
@receiver(post_delete, sender=Service, dispatch_uid="services-catalogue-delete")
def _service_changed(**kwargs: Any) -> None:
    forget()
    # A page read in this process before the change commits would keep the old terms.
    transaction.on_commit(forget)
