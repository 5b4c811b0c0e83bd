"""Zoom event notifications, signed as Zoom signs them, posted by a background thread.

The API call never waits on the receiver: events go on an in-process queue, and a
receiver that is down costs a few bounded retries, then the event is dropped and counted.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import queue
import threading
import time
import urllib.request
from typing import Any

from django.db import transaction

from vendor_sandbox import counters
from vendor_sandbox.conf import CONFIG
from vendor_sandbox.models import SandboxState, ZoomAccount

log = logging.getLogger(__name__)
_queue: queue.Queue[tuple[str, str, bytes]] = queue.Queue(maxsize=10000)
_started = False
_lock = threading.Lock()
RETRY_DELAYS = (0.5, 2.0, 5.0)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    message = f"v0:{timestamp}:".encode() + body
    return "v0=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def user_object(user: Any) -> dict[str, Any]:
    return {
        "id": user.user_id,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "type": user.type,
    }


def emit(event: str, account: ZoomAccount, user: Any, event_ms: int, url: str | None) -> None:
    """Queue an event after the current transaction commits (nothing is sent on rollback).

    ``url`` is the receiver as read with the request's state; None reads it afresh.
    """
    if url is None:
        url = SandboxState.objects.values_list("webhook_url", flat=True).first()
        url = url or CONFIG.webhook_url
    if not url:
        return
    envelope = {
        "event": event,
        "event_ts": event_ms,
        "payload": {
            "account_id": account.account_id,
            "operator": "admin@sandbox.test",
            "operator_id": "sandbox-admin",
            "object": user_object(user),
        },
    }
    body = json.dumps(envelope).encode()
    secret = CONFIG.webhook_secret or account.webhook_secret
    transaction.on_commit(lambda: _put(url, secret, body))


def _put(url: str, secret: str, body: bytes) -> None:
    global _started
    with _lock:
        if not _started:
            _started = True
            threading.Thread(target=_worker, name="webhook-sender", daemon=True).start()
    try:
        _queue.put_nowait((url, secret, body))
    except queue.Full:
        counters.hit("webhooks dropped")


def _post(url: str, secret: str, body: bytes) -> None:
    timestamp = str(int(time.time()))
    request = urllib.request.Request(  # noqa: S310 - the URL is the configured receiver
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "Zoom Marketplace/1.0a",
            "x-zm-request-timestamp": timestamp,
            "x-zm-signature": sign(secret, timestamp, body),
        },
    )
    with urllib.request.urlopen(request, timeout=5) as resp:  # noqa: S310
        if resp.status >= 300:
            raise OSError(f"receiver answered {resp.status}")


def _worker() -> None:
    while True:
        url, secret, body = _queue.get()
        for delay in (0.0, *RETRY_DELAYS):
            time.sleep(delay)
            try:
                _post(url, secret, body)
                counters.hit("webhooks delivered")
                break
            except Exception as exc:  # any failure of the receiver is retried, then dropped
                log.info("webhook to %s failed: %s", url, exc)
        else:
            counters.hit("webhooks failed")
