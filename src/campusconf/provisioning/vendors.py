"""Connectors for services, built from ``service.connector_settings`` at job time.

Settings keys ending in ``_env`` name environment variables; the variable is read
now, so a rotated secret takes effect at the next job, and no secret is stored.
One connector per service per worker process (it caches the vendor's token).
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx

from campusconf.connectors.base import Connector
from campusconf.connectors.factory import build_connector
from campusconf.provisioning import ratelimit
from campusconf.services.models import Service

log = logging.getLogger("campusconf.provisioning")

# Older setting names the demo used, mapped to the connector factory's names.
ALIASES = {"licence_ids": "licence_id", "oauth_url": "oauth_base_url"}

_cache: dict[tuple[int, str], Connector] = {}
# Vendor calls by (service id, outcome name), flushed to the database by the worker.
calls: Counter[tuple[int, str]] = Counter()


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
        if isinstance(value, str):
            plain.setdefault(name, value)
    return plain, secrets


_heartbeat: list[Callable[[], None]] = []


def set_heartbeat(fn: Callable[[], None] | None) -> None:
    """Called before every vendor call: the worker renews its job's lease there."""
    _heartbeat[:] = [fn] if fn else []


def connector_for(service: Service) -> Connector:
    """The cached connector of ``service``, paced by the shared rate limiter."""
    signature = repr(sorted(service.connector_settings.items()))
    key = (service.pk, signature)
    connector = _cache.get(key)
    if connector is None:
        plain, secrets = split_settings(service.connector_settings)
        connector = build_connector(service.vendor, plain, secrets)

        def pacer(op: str, service: Service = service) -> None:
            for beat in _heartbeat:
                beat()
            ratelimit.pace(service, op)

        # build_connector takes no pacer (yet); every connector keeps it as _pacer.
        connector._pacer = pacer  # type: ignore[attr-defined]
        timeout = service.connector_settings.get("timeout_seconds")
        if timeout:
            # Nor a timeout: tests and benches shorten it to make time-outs cheap.
            connector._client.timeout = httpx.Timeout(float(timeout))  # type: ignore[attr-defined]
        _cache[key] = connector
    return connector


def close_all() -> None:
    for connector in _cache.values():
        close = getattr(connector, "close", None)
        if close is not None:
            close()
    _cache.clear()
