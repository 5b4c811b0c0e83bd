"""A small fixed-window limiter on the shared cache, for sign-in callbacks and forms.

The cache is the database's or Redis (``campusconf.core.cache``), so every web process
on every machine counts in the same bucket, and its increment is atomic.
"""

import time

from django.core.cache import cache
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    # REMOTE_ADDR is the client's own address: behind a trusted proxy the middleware
    # (campusconf.core.middleware.forwarded) has put the forwarded client there.
    return str(request.META.get("REMOTE_ADDR", "unknown"))


def hit(scope: str, key: str, *, limit: int, window: int) -> bool:
    """Count one attempt; False once ``limit`` attempts were made in this window."""
    bucket = int(time.time() // window)
    cache_key = f"ratelimit:{scope}:{key}:{bucket}"
    cache.add(cache_key, 0, timeout=window + 1)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.set(cache_key, 1, timeout=window + 1)
        count = 1
    return count <= limit
