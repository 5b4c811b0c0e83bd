"""A small fixed-window limiter on Django's cache, for sign-in callbacks and forms.

Shared by every web process when the cache is shared; with the default local-memory
cache each process counts on its own, which still blunts a flood from one client.
"""

import time

from django.core.cache import cache
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    # REMOTE_ADDR only: a forwarded header is set by the client unless a trusted proxy
    # rewrites it, and the deployment's proxy sets REMOTE_ADDR through the WSGI server.
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
