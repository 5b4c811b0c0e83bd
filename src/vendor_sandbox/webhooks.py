"""Zoom event notifications, signed as Zoom signs them and delivered as Zoom delivers them.

An event is a ``WebhookDelivery`` row written in the transaction of the change it reports
(nothing is sent for a change that rolled back), then posted by a background thread. The
receiver must answer 2xx within 3 seconds; otherwise Zoom tries again 5, 20 and 60
minutes later and then drops the event for good (Zoom's "Using webhooks" article). Those
minutes follow the sandbox clock, so a test moves the clock instead of waiting an hour.
The API call never waits for the receiver.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import logging
import secrets
import threading
import time
import urllib.request
from typing import Any

from django.db import transaction

from vendor_sandbox import clock, counters, writelock
from vendor_sandbox.conf import CONFIG
from vendor_sandbox.models import SandboxState, WebhookDelivery, ZoomAccount

log = logging.getLogger(__name__)
RETRY_MINUTES = (5, 20, 60)  # after the first try; then the event is dropped
ANSWER_WITHIN = 3.0  # seconds Zoom waits for the receiver's 2xx
POLL_SECONDS = 0.5
# A claimed delivery is not claimed again by another process for this long (sandbox time).
CLAIM = datetime.timedelta(seconds=60)
BATCH = 50

_wake = threading.Event()
_started = False
_lock = threading.Lock()


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
    """Record an event for delivery with the current transaction (none on rollback).

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
    now = clock.now()
    WebhookDelivery.objects.create(
        url=url,
        secret=CONFIG.webhook_secret or account.webhook_secret,
        event=event,
        body=json.dumps(envelope),
        next_attempt_at=now,
        created_at=now,
    )
    transaction.on_commit(wake)


def wake() -> None:
    """Start this process's sender if it is not running, and have it look now."""
    global _started
    with _lock:
        if not _started:
            _started = True
            threading.Thread(target=_sender, name="webhook-sender", daemon=True).start()
    _wake.set()


def _sender() -> None:
    while True:
        _wake.wait(POLL_SECONDS)
        _wake.clear()
        try:
            deliver_due()
        except Exception:  # a broken row or a locked DB must not end the thread
            log.exception("webhook sender")


def deliver_due() -> int:
    """Try every delivery that is due on the sandbox clock; returns how many were tried.

    Each is claimed with a compare-and-set first, so that of several worker processes
    only one posts it.
    """
    now = clock.now()
    due = WebhookDelivery.objects.filter(status="queued", next_attempt_at__lte=now)
    tried = 0
    for pk in list(due.order_by("id").values_list("id", flat=True)[:BATCH]):
        with writelock.held():
            claimed = WebhookDelivery.objects.filter(
                pk=pk, status="queued", next_attempt_at__lte=now
            ).update(next_attempt_at=now + CLAIM)
        row = WebhookDelivery.objects.filter(pk=pk).first() if claimed else None
        if row is None:
            continue
        tried += 1
        _attempt(row)
    return tried


def _attempt(row: WebhookDelivery) -> None:
    error = ""
    try:
        _post(row.url, row.secret, row.body.encode())
    except Exception as exc:  # any failure of the receiver counts as one failed try
        error = f"{type(exc).__name__}: {exc}"[:500]
    attempts = row.attempts + 1
    changes: dict[str, Any] = {"attempts": attempts, "last_error": error}
    if not error:
        changes["status"] = "delivered"
        counters.hit("webhooks delivered")
    elif attempts > len(RETRY_MINUTES):
        changes["status"] = "dropped"
        counters.hit("webhooks dropped")
        log.info("webhook %s to %s dropped after %d tries: %s", row.pk, row.url, attempts, error)
    else:
        wait = datetime.timedelta(minutes=RETRY_MINUTES[attempts - 1])
        changes["next_attempt_at"] = clock.now() + wait
        counters.hit("webhooks retried later")
        log.info("webhook %s to %s failed (%s); next try in %s", row.pk, row.url, error, wait)
    with writelock.held():
        WebhookDelivery.objects.filter(pk=row.pk).update(**changes)


def _post(url: str, secret: str, body: bytes) -> bytes:
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
    with urllib.request.urlopen(request, timeout=ANSWER_WITHIN) as resp:  # noqa: S310
        if not 200 <= resp.status < 300:
            raise OSError(f"receiver answered {resp.status}")
        return bytes(resp.read(64 * 1024))


def validate(url: str, secret: str) -> dict[str, Any]:
    """Zoom's check of an endpoint when it is saved (and every 72 hours): a signed
    ``endpoint.url_validation`` with a plain token, to be answered within 3 seconds with
    that token and its HMAC-SHA256 under the secret token, hex."""
    plain = secrets.token_urlsafe(16)
    body = json.dumps(
        {
            "event": "endpoint.url_validation",
            "event_ts": int(clock.now_ts() * 1000),
            "payload": {"plainToken": plain},
        }
    ).encode()
    expected = hmac.new(secret.encode(), plain.encode(), hashlib.sha256).hexdigest()
    try:
        answer = json.loads(_post(url, secret, body) or b"null")
    except Exception as exc:  # whatever failed, the endpoint is not validated
        return {"validated": False, "detail": f"{type(exc).__name__}: {exc}"[:300]}
    ok = isinstance(answer, dict) and answer == {"plainToken": plain, "encryptedToken": expected}
    return {"validated": ok, "detail": "" if ok else f"unexpected answer: {str(answer)[:200]}"}


def summary(limit: int = 50) -> dict[str, Any]:
    """The admin API's view: deliveries by status and the latest ones."""
    rows = WebhookDelivery.objects.order_by("-id")[:limit]
    counts: dict[str, int] = {}
    for status in WebhookDelivery.objects.values_list("status", flat=True):
        counts[status] = counts.get(status, 0) + 1
    return {
        "by_status": counts,
        "latest": [
            {
                "id": r.pk,
                "event": r.event,
                "status": r.status,
                "attempts": r.attempts,
                "next_attempt_at": clock.iso(r.next_attempt_at),
                "last_error": r.last_error,
            }
            for r in rows
        ],
    }
