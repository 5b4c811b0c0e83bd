"""Zoom webhooks: a signed event makes the engine re-read that user at once.

``x-zm-signature`` is ``v0=`` HMAC-SHA256(secret, ``v0:{timestamp}:{body}``) with the
secret from the variable named by the service's ``webhook_secret_env``. A timestamp
older than a few minutes, or a delivery already accepted, is refused.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import logging
import os
import time

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from campusconf.accounts.models import Account
from campusconf.accounts.states import Cause
from campusconf.members.models import MemberAddress
from campusconf.provisioning.actions import reconcile_account
from campusconf.provisioning.conf import engine
from campusconf.provisioning.models import WebhookReceipt
from campusconf.services.models import Service

log = logging.getLogger("campusconf.provisioning")


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


@csrf_exempt
@require_POST
def zoom_webhook(request: HttpRequest) -> HttpResponse:
    body = request.body.decode("utf-8", errors="replace")
    timestamp = request.headers.get("x-zm-request-timestamp", "")
    signature = request.headers.get("x-zm-signature", "")
    try:
        age = abs(time.time() - float(timestamp))
    except ValueError:
        return JsonResponse({"error": "missing or malformed timestamp"}, status=400)
    if age > engine("WEBHOOK_MAX_AGE_SECONDS"):
        return JsonResponse({"error": "stale timestamp"}, status=400)
    found = _service_for(timestamp, body, signature)
    if found is None:
        return JsonResponse({"error": "bad signature"}, status=401)
    service, secret = found
    try:
        event = json.loads(body)
        payload = event.get("payload") or {}
    except (ValueError, AttributeError):
        return JsonResponse({"error": "body must be a JSON object"}, status=400)
    if event.get("event") == "endpoint.url_validation":
        plain = str(payload.get("plainToken", ""))
        return JsonResponse({"plainToken": plain, "encryptedToken": _sign(secret, plain)})
    try:
        with transaction.atomic():
            WebhookReceipt.objects.create(
                digest=hashlib.sha256(signature.encode()).hexdigest(), received_at=timezone.now()
            )
    except IntegrityError:
        return JsonResponse({"error": "replayed delivery"}, status=409)
    stale = timezone.now() - datetime.timedelta(seconds=2 * engine("WEBHOOK_MAX_AGE_SECONDS"))
    WebhookReceipt.objects.filter(received_at__lt=stale).delete()
    obj = payload.get("object") or {} if isinstance(payload, dict) else {}
    account = _account(service, str(obj.get("id") or ""), str(obj.get("email") or ""))
    if account is not None:
        reconcile_account(account, cause=Cause.VENDOR, reason=f"zoom {event.get('event')}")
    log.info("zoom webhook %s account=%s", event.get("event"), account.pk if account else None)
    return HttpResponse(status=204)


def _account(service: Service, vendor_id: str, email: str) -> Account | None:
    match = Q(vendor_user_id=vendor_id) if vendor_id else Q(pk__in=[])
    if email:
        members = MemberAddress.objects.filter(address__iexact=email).values("member_id")
        match |= Q(member_id__in=members) | Q(vendor_address__iexact=email)
    return Account.objects.filter(match, service=service).first()
