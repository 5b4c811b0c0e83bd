"""Engine settings: ``settings.CAMPUSCONF_ENGINE`` over these defaults."""

import os
from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    "LEASE_SECONDS": 120,  # a claim not renewed for this long belongs to a dead worker
    "MAX_ATTEMPTS": 8,  # then the account goes to failed, with the reason
    "BACKOFF_BASE_SECONDS": 2.0,
    "BACKOFF_MAX_SECONDS": 600.0,
    "POLL_SECONDS": 0.5,
    # A worker claims up to BATCH_SIZE jobs in one transaction and runs their creates
    # on CONCURRENCY threads (keep-alive connections), so it is not latency-bound:
    # at 8 calls in flight a worker waited on the vendor's answers and reached 0.80 of
    # an 800-calls/s limit; at 16, 0.97 on one machine and 0.88-0.92 on a slower one,
    # where 32 reached 0.97 (docs/benchmarks.md, Engine). A real vendor answers slower
    # than the sandbox on 127.0.0.1, which asks for more calls in flight, not fewer.
    "BATCH_SIZE": 128,
    "CONCURRENCY": 32,
    "RECONCILE_MINUTES": 30,
    "EXPIRY_CHECK_MINUTES": 5,
    "LEAVER_GRACE_DAYS": 30,
    "FRESH_SECONDS": 120,  # reconcile leaves accounts changed this recently alone
    "GUARD_SHARE": 0.05,  # mass-deprovision guard: min(5 % of accounts, 100)
    "GUARD_MAX": 100,
    "RATE_LIMITS": True,
    # The end of every wall-clock second in which no call is slotted, so that a call
    # that reaches the vendor this much late still counts in its own second
    # (queueing/rate_limits.py). Late means sent late plus the trip there: 0.1 s was crossed
    # once by a send 75 ms late to a busy sandbox on 127.0.0.1 (docs/benchmarks.md),
    # and a real vendor is a continent away.
    "RATE_GUARD_SECONDS": 0.2,
    "WEBHOOK_MAX_AGE_SECONDS": 300,
    # Accounts waiting on their member (provisioning/engine/watch.py): how often the workers
    # look for due checks, the share of the vendor's read rate those checks may spend,
    # the first interval (where the vendor sends no webhooks, and where it does: then
    # the check only catches an event the vendor dropped), the age after which the
    # interval doubles, how soon a member with the portal open is checked, and how far
    # ahead a read of many waits at once (Webex) fills up with waits not yet due.
    "WATCH_SECONDS": 5,
    "WATCH_READ_SHARE": 0.05,
    "WATCH_FIRST_SECONDS": 180,
    "WATCH_FIRST_SECONDS_WEBHOOKS": 600,
    "WATCH_DOUBLING_SECONDS": 24 * 3600,
    "WATCH_LOOKING_SECONDS": 30,
    "WATCH_GATHER_SECONDS": 60,
}


def engine_setting(name: str) -> Any:
    """A setting: ``settings.CAMPUSCONF_ENGINE``, else ``$CAMPUSCONF_ENGINE_<NAME>``, else
    the default (the environment lets a bench or a test tune worker processes)."""
    configured = getattr(settings, "CAMPUSCONF_ENGINE", {})
    if name in configured:
        return configured[name]
    default = DEFAULTS[name]
    raw = os.environ.get(f"CAMPUSCONF_ENGINE_{name}")
    if raw is None:
        return default
    if isinstance(default, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    return type(default)(raw)
