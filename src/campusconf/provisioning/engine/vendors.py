"""Connectors for services, built from ``service.connector_settings`` at job time.

Settings keys ending in ``_env`` name environment variables; the variable is read
when the connector is built, and no secret is stored. The vendor's token is not the
connector's own: it lives in the service's `VendorToken` row, shared by every worker
process on every machine (``vendor_tokens``). One connector per service per worker
process; its HTTP client is thread-safe, so a batch's calls share it from several threads.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from campusconf.connectors.base import Connector
from campusconf.connectors.factory import ConnectorConfigError, build_connector
from campusconf.provisioning.conf import engine_setting
from campusconf.provisioning.engine.vendor_tokens import DatabaseTokenStore
from campusconf.provisioning.queueing import rate_limits
from campusconf.services.models import Service

log = logging.getLogger("campusconf.provisioning")

# Older setting names the demo used, mapped to the connector factory's names.
ALIASES = {"licence_ids": "licence_id", "oauth_url": "oauth_base_url"}
# Engine settings kept beside the connector's, not for build_connector.
# Keys that are no connector's: the engine's own, and the portal's links for members
# (portal/vendor_links.py).
ENGINE_KEYS = {"plan", "rate_limits", "rate_scale", "timeout_seconds", "sign_in_url", "home_url"}

_cache: dict[tuple[int, str], Connector] = {}
# Vendor calls by (service id, outcome name), flushed to the database by the worker.
calls: Counter[tuple[int, str]] = Counter()


class ServiceConfigError(ConnectorConfigError):
    """A service's connector cannot be built: the message says what is missing, where it
    is set, and for which service — one line for a person, not a traceback."""


def config_error(service: Service, exc: ConnectorConfigError) -> ServiceConfigError:
    cs = service.connector_settings or {}
    variable = cs.get(f"{exc.key}_env") if exc.kind == "secret" else None
    if variable and not os.environ.get(str(variable)):
        message = (
            f"service {service.slug!r} needs the environment variable {variable} "
            f"(its {service.vendor} connector's {exc.key}), which is not set: set it "
            "where the workers and the campusconf commands run"
        )
    elif exc.kind == "secret":
        message = (
            f"service {service.slug!r}: {exc}; its connector settings must name the variable "
            f"holding it, as {exc.key}_env (Django admin, Services)"
        )
    else:
        message = f"service {service.slug!r}: {exc}; fix its connector settings (Django admin)"
    return ServiceConfigError(message, key=exc.key, kind=exc.kind)


def split_settings(cs: dict[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """(plain settings, secrets read from the environment) for ``build_connector``."""
    plain: dict[str, str] = {}
    secrets: dict[str, str] = {}
    for key, value in cs.items():
        if key.endswith("_env"):
            secrets[key[: -len("_env")]] = os.environ.get(str(value), "")
            continue
        name = ALIASES.get(key, key)
        if isinstance(value, list):
            value = value[0] if value else ""
        if name == "oauth_base_url" and str(value).endswith("/oauth/token"):
            value = str(value)[: -len("/oauth/token")]
        if isinstance(value, str) and name not in ENGINE_KEYS:
            plain.setdefault(name, value)
    return plain, secrets


class _CallContext(threading.local):
    """Per thread: the lease heartbeat, and a rate-limit slot reserved ahead (a batch
    reserves its slots in one row update, then each thread only sleeps until its own)."""

    beat: Callable[[], None] | None = None
    slot: tuple[str, float] | None = None  # (category, time.monotonic() deadline)


_context = _CallContext()


def set_heartbeat(fn: Callable[[], None] | None) -> None:
    """Called before every vendor call of this thread: the lease is renewed or checked."""
    _context.beat = fn


def current_heartbeat() -> Callable[[], None] | None:
    return _context.beat


def set_slot(category: str | None, deadline: float) -> None:
    """The next call of ``category`` from this thread may go out at ``deadline``."""
    _context.slot = None if category is None else (category, deadline)


def _pace(service: Service, op: str) -> None:
    ctx = _context
    cat = rate_limits.category(service.vendor, op)
    if ctx.slot is not None and ctx.slot[0] == cat:
        wait = ctx.slot[1] - time.monotonic()
        ctx.slot = None
        if wait > 0:
            time.sleep(wait)
    elif engine_setting("RATE_LIMITS"):
        rate_limits.pace(service, op)
    # After any wait, right before the request: a lost lease stops the call here.
    if ctx.beat is not None:
        ctx.beat()


def connector_for(service: Service) -> Connector:
    """The cached connector of ``service``, paced by the shared rate limiter, its token in
    the database. Raises `ServiceConfigError` when a setting or a secret is missing."""
    signature = repr(sorted(service.connector_settings.items()))
    key = (service.pk, signature)
    connector = _cache.get(key)
    if connector is None:
        plain, secrets = split_settings(service.connector_settings)
        timeout = service.connector_settings.get("timeout_seconds")

        def pacer(op: str, service: Service = service) -> None:
            _pace(service, op)

        try:
            connector = build_connector(
                service.vendor,
                plain,
                secrets,
                pacer=pacer,
                timeout=float(timeout) if timeout else None,
                token_store=DatabaseTokenStore(service.pk),
            )
        except ConnectorConfigError as exc:
            raise config_error(service, exc) from None
        _cache[key] = connector
    return connector


def close_all() -> None:
    for connector in _cache.values():
        close = getattr(connector, "close", None)
        if close is not None:
            close()
    _cache.clear()
