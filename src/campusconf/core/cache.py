"""The shared cache: Django's database cache by default, Redis when an operator names one.

Sign-in rate limits and the SAML replay cache count across every web process and
machine only if they live somewhere all of them see. The database is already shared
(jobs and vendor rate limits live there), so it is the default; ``CAMPUSCONF_CACHE_URL``
(``redis://host:6379/0``) moves the cache to Redis instead; that Redis must not evict
keys that have a time to live before it ends (``maxmemory-policy noeviction``). The settings import this
module, so it imports nothing that needs them.
"""

from typing import Any

from django.core.exceptions import ImproperlyConfigured

DEFAULT_TABLE = "campusconf_cache"
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


def cache_settings(url: str, *, key_prefix: str = "campusconf") -> dict[str, Any]:
    """``CACHES["default"]`` for ``CAMPUSCONF_CACHE_URL``: empty or ``db://`` for the
    database, ``db://<table>`` for another table, a Redis URL for Redis."""
    url = url.strip()
    if url.startswith(REDIS_SCHEMES):
        return {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": key_prefix,
        }
    if url == "" or url.startswith("db://"):
        return {
            "BACKEND": "campusconf.core.db_cache.DatabaseCache",
            "LOCATION": url.removeprefix("db://") or DEFAULT_TABLE,
            "KEY_PREFIX": key_prefix,
            # Past this many rows each write first deletes the expired ones (never
            # live ones: campusconf.core.db_cache); it bounds the table, not the keys.
            "OPTIONS": {"MAX_ENTRIES": 10_000},
        }
    raise ImproperlyConfigured(
        f"CAMPUSCONF_CACHE_URL must be empty (the database), db://<table> or a Redis URL "
        f"(redis://host:6379/0), not {url!r}"
    )
