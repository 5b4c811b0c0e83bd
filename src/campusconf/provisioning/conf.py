"""Engine settings: ``settings.CAMPUSCONF_ENGINE`` over these defaults."""

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    "LEASE_SECONDS": 120,  # a claim not renewed for this long belongs to a dead worker
    "MAX_ATTEMPTS": 8,  # then the account goes to failed, with the reason
    "BACKOFF_BASE_SECONDS": 2.0,
    "BACKOFF_MAX_SECONDS": 600.0,
    "POLL_SECONDS": 0.5,  # an idle worker looks for work this often
    "RECONCILE_MINUTES": 30,
    "EXPIRY_CHECK_MINUTES": 5,
    "LEAVER_GRACE_DAYS": 30,
    "FRESH_SECONDS": 120,  # reconcile leaves accounts changed this recently alone
    "GUARD_SHARE": 0.05,  # mass-deprovision guard: min(5 % of accounts, 100)
    "GUARD_MAX": 100,
    "RATE_LIMITS": True,
    "WEBHOOK_MAX_AGE_SECONDS": 300,
}


def engine(name: str) -> Any:
    return {**DEFAULTS, **getattr(settings, "CAMPUSCONF_ENGINE", {})}[name]
