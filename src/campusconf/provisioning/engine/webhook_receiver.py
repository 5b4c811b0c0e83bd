"""Zoom webhooks: a signed event is recorded and answered at once; the work comes after.

Zoom wants a 2xx within 3 seconds, or it tries again 5, 20 and 60 minutes later and then
drops the event for good. So this view does only what the answer depends on: it checks
the timestamp and the signature and writes one row (``WebhookEvent``, one INSERT); the
workers' ``webhooks`` schedule then queues an observe job for each event's account
(``webhook_events.process``). A retry or a replay of an event is the same row: answered
2xx again, acted on once. An event Zoom dropped for good is healed by the next reconcile
pass, which reads every user anyway.

``x-zm-signature`` is ``v0=`` HMAC-SHA256(secret, ``v0:{timestamp}:{body}``) with the
secret from the variable named by the service's ``webhook_secret_env``; a timestamp older
than WEBHOOK_MAX_AGE_SECONDS is refused. ``endpoint.url_validation`` (Zoom's check of the
endpoint when it is saved, and again every 72 hours) is answered with the HMAC of its
plain token.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import time
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from campusconf.core import clock
from campusconf.provisioning.conf import engine_setting
from campusconf.provisioning.models import WebhookEvent
from campusconf.services.models import Service

log = logging.getLogger("campusconf.provisioning")

VALIDATION = "endpoint.url_validation"


def _sign(secret: str, message: str) -> str:
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def _service_for(timestamp: str, body: str, signature: str) -> tuple[Service, str] | None:
    for service in Service.objects.filter(vendor=Service.Vendor.ZOOM):
        name = (service.connector_settings or {}).get("webhook_secret_env", "")
        secret = os.environ.get(str(name), "") if name else ""
        expected = "v0=" + _sign(secret, f"v0:{timestamp}:{body}") if secret else ""
        # Bytes: compare_digest refuses str holding anything but ASCII, and a header may.
        if expected and hmac.compare_digest(signature.encode(), expected.encode()):
            return service, secret
    return None


def _object(payload: Any) -> dict[str, Any]:
    obj = payload.get("object") if isinstance(payload, dict) else None
    return obj if isinstance(obj, dict) else {}


@csrf_exempt
@require_POST
def zoom_webhook(request: HttpRequest) -> HttpResponse:
    raw = request.body
    body = raw.decode("utf-8", errors="replace")
    timestamp = request.headers.get("x-zm-request-timestamp", "")
    signature = request.headers.get("x-zm-signature", "")
    try:
        age = abs(time.time() - float(timestamp))
    except ValueError:
        return JsonResponse({"error": "missing or malformed timestamp"}, status=400)
    if age > engine_setting("WEBHOOK_MAX_AGE_SECONDS"):
        return JsonResponse({"error": "stale timestamp"}, status=400)
    found = _service_for(timestamp, body, signature)
    if found is None:
        return JsonResponse({"error": "bad signature"}, status=401)
    service, secret = found
    try:
        event = json.loads(body)
    except ValueError:
        event = None
    if not isinstance(event, dict):
        return JsonResponse({"error": "body must be a JSON object"}, status=400)
    name = str(event.get("event") or "")
    payload = event.get("payload")
    if name == VALIDATION:
        plain = str(payload.get("plainToken", "")) if isinstance(payload, dict) else ""
        return JsonResponse({"plainToken": plain, "encryptedToken": _sign(secret, plain)})
    if name.startswith("user."):
        record(service, raw, name, _object(payload))
    log.info("zoom webhook %s recorded for %s", name, service.slug)
    return HttpResponse(status=204)


def record(service: Service, raw: bytes, name: str, obj: dict[str, Any]) -> None:
    """One INSERT; an event already recorded (Zoom's retry, a replay) is left as it is."""
    event = WebhookEvent(
        service=service,
        digest=hashlib.sha256(raw).hexdigest(),
        event=name[:100],
        vendor_user_id=str(obj.get("id") or "")[:200],
        email=str(obj.get("email") or "")[:320],
        received_at=clock.now(),
    )
    WebhookEvent.objects.bulk_create([event], ignore_conflicts=True)
