"""Admin API under /_admin/ (bearer admin token) and the small admin page.

The page is served to loopback clients without a token, because the demo runs on one
machine and a person opens it from the mailbox's links; any other client must pass the
admin token as ``?token=``. The JSON API always needs the bearer token.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from vendor_sandbox import clock, counters, credentials, faults, variants, webhooks
from vendor_sandbox import mail as mail_module
from vendor_sandbox.conf import CONFIG
from vendor_sandbox.errors import json_response
from vendor_sandbox.models import (
    Counter,
    Link,
    Mail,
    PersonalAccount,
    RateWindow,
    SandboxState,
    WebexApp,
    WebexJob,
    WebexPerson,
    WebhookDelivery,
    ZoomAccount,
    ZoomPageToken,
    ZoomUser,
)  # fmt: skip
from vendor_sandbox.zoom import service as zoom_service

LOOPBACK = {"127.0.0.1", "::1"}


def _token() -> str:
    return SandboxState.objects.values_list("admin_token", flat=True).first() or ""


def _error(status: int, message: str) -> HttpResponse:
    return json_response({"error": message}, status)


def admin_api(methods: set[str]) -> Callable[..., Any]:
    def deco(fn: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @csrf_exempt
        def view(request: HttpRequest, **kwargs: Any) -> HttpResponse:
            scheme, _, given = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
            expected = _token()
            if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip(), expected):
                return _error(401, "admin token required")
            if request.method not in methods:
                return _error(405, "method not allowed")
            body: dict[str, Any] = {}
            if request.method in {"POST", "PUT", "PATCH"} and request.body:
                try:
                    body = json.loads(request.body)
                except ValueError:
                    return _error(400, "body must be JSON")
                if not isinstance(body, dict):
                    return _error(400, "body must be a JSON object")
            try:
                return fn(request, body, **kwargs)
            except (ValueError, TypeError, KeyError) as exc:
                return _error(400, str(exc))

        return view

    return deco


@admin_api({"POST"})
@transaction.atomic
def reset(request: HttpRequest, body: dict[str, Any]) -> HttpResponse:
    for model in (
        WebexPerson, WebexJob, ZoomUser, ZoomPageToken, PersonalAccount, Link, Mail,
        WebhookDelivery,
    ):  # fmt: skip
        model.objects.all().delete()
    Counter.objects.all().delete()
    RateWindow.objects.all().delete()
    SandboxState.objects.filter(id=1).update(
        clock_offset=0, faults={}, fault_draws=0, variants={}, webex_verified_domains=None
    )
    credentials.restore_defaults()
    return json_response({"reset": True})


@admin_api({"GET", "POST", "DELETE"})
def personal_accounts(request: HttpRequest, body: dict[str, Any]) -> HttpResponse:
    if request.method == "POST":
        account, created = seed_personal_account(body)
        return json_response(_personal(account), 201 if created else 200)
    if request.method == "DELETE":
        # The member deleted the account, or moved it to another address.
        vendor, email = request.GET.get("vendor", ""), request.GET.get("email", "").lower()
        gone, _ = PersonalAccount.objects.filter(vendor=vendor, email=email).delete()
        return json_response({"deleted": gone})
    return json_response({"items": [_personal(a) for a in PersonalAccount.objects.all()]})


def seed_personal_account(body: dict[str, Any]) -> tuple[PersonalAccount, bool]:
    """Create or replace a personal account (the admin API and the CLI's seed-personal)."""
    vendor, email = body["vendor"], str(body["email"]).strip().lower()
    if vendor not in {"webex", "zoom"} or "@" not in email:
        raise ValueError("vendor must be webex or zoom, and email an address")
    password = body.get("password")
    return PersonalAccount.objects.update_or_create(
        vendor=vendor,
        email=email,
        defaults={
            "display_name": body.get("display_name", ""),
            "first_name": body.get("first_name", ""),
            "last_name": body.get("last_name", ""),
            "password_hash": make_password(password) if password else "",
            "login_type": int(body.get("login_type", zoom_service.LOGIN_EMAIL)),
            "paid": bool(body.get("paid", False)),
            "created_at": clock.now(),
        },
    )


def _personal(a: PersonalAccount) -> dict[str, Any]:
    return {
        "vendor": a.vendor,
        "email": a.email,
        "display_name": a.display_name,
        "login_type": a.login_type,
        "paid": a.paid,
        "has_password": bool(a.password_hash),
        "created_at": clock.iso(a.created_at),
    }


@admin_api({"GET", "POST"})
def clock_view(request: HttpRequest, body: dict[str, Any]) -> HttpResponse:
    if request.method == "POST":
        if "offset_seconds" in body:
            clock.set_offset(float(body["offset_seconds"]))
        seconds = float(body.get("advance_seconds", 0)) + 86400 * float(body.get("advance_days", 0))
        if seconds:
            clock.advance(seconds)
    return json_response({"now": clock.iso(clock.now()), "offset_seconds": clock.offset()})


@admin_api({"GET", "PUT", "POST", "DELETE"})
def faults_view(request: HttpRequest, body: dict[str, Any]) -> HttpResponse:
    state = SandboxState.objects.get(id=1)
    if request.method == "DELETE":
        state.faults = {}
    elif request.method in {"PUT", "POST"}:
        state.faults = {**state.faults, **faults.validate(body)}
    if request.method != "GET":
        state.fault_draws = 0  # a new setting restarts the seeded sequence
        state.save(update_fields=["faults", "fault_draws"])
    return json_response({**faults.DEFAULTS, **state.faults})


@admin_api({"GET", "PUT", "POST", "DELETE"})
def variants_view(request: HttpRequest, body: dict[str, Any]) -> HttpResponse:
    state = SandboxState.objects.get(id=1)
    if request.method == "DELETE":
        state.variants = {}
    elif request.method in {"PUT", "POST"}:
        state.variants = {**state.variants, **variants.validate(body)}
    if request.method != "GET":
        state.save(update_fields=["variants"])
    return json_response(variants.merged(state.variants))


@admin_api({"GET", "PUT", "DELETE"})
def webex_domains(request: HttpRequest, body: dict[str, Any]) -> HttpResponse:
    """The mail domains the Webex org has verified (W-f); ``"*"`` stands for every one."""
    if request.method != "GET":
        domains = body.get("verified_domains") if request.method == "PUT" else None
        if request.method == "PUT" and (
            not isinstance(domains, list) or not all(isinstance(d, str) for d in domains)
        ):
            raise ValueError("verified_domains must be a list of domains")
        stored = None if domains is None else sorted({d.strip().lower() for d in domains})
        SandboxState.objects.filter(id=1).update(webex_verified_domains=stored)
    current = SandboxState.objects.values_list("webex_verified_domains", flat=True).first()
    verified = list(CONFIG.webex_verified_domains) if current is None else current
    return json_response({"verified_domains": verified})


@admin_api({"PUT", "POST", "GET"})
def webhook(request: HttpRequest, body: dict[str, Any]) -> HttpResponse:
    if request.method != "GET":
        SandboxState.objects.filter(id=1).update(webhook_url=str(body.get("url", "")))
    url = SandboxState.objects.get(id=1).webhook_url
    answer: dict[str, Any] = {"url": url, "deliveries": webhooks.summary()}
    if request.method != "GET" and url:
        # As Zoom does when an endpoint is saved: the receiver must answer the challenge.
        account = ZoomAccount.objects.first()
        secret = CONFIG.webhook_secret or (account.webhook_secret if account else "")
        answer["validation"] = webhooks.validate(url, secret)
    return json_response(answer)


def users_by_state() -> dict[str, dict[str, int]]:
    now = clock.now()
    webex = {"invite_pending": 0, "active": 0}
    for row in WebexPerson.objects.values("invite_pending").annotate(n=Count("id")):
        webex["invite_pending" if row["invite_pending"] else "active"] += row["n"]
    expired_webex = WebexPerson.objects.filter(
        invite_pending=True, invited_at__lt=now - timedelta(days=CONFIG.webex_invite_days)
    ).count()
    webex["invitation_expired"] = expired_webex
    zoom = {"active": 0, "inactive": 0, "pending": 0}
    for row in ZoomUser.objects.values("status").annotate(n=Count("id")):
        zoom[row["status"]] = row["n"]
    zoom["pending_expired"] = ZoomUser.objects.filter(
        status="pending", invited_at__lt=zoom_service.pending_cutoff(now)
    ).count()
    zoom["pending"] -= zoom["pending_expired"]
    personal = {v: PersonalAccount.objects.filter(vendor=v).count() for v in ("webex", "zoom")}
    return {"webex": webex, "zoom": zoom, "personal": personal}


@admin_api({"GET"})
def counters_view(request: HttpRequest, body: dict[str, Any]) -> HttpResponse:
    counters.flush()
    rows = dict(Counter.objects.values_list("key", "count"))
    requests = {k: v for k, v in rows.items() if k.startswith(("webex ", "zoom "))}
    return json_response(
        {
            "requests": requests,
            "rate_limited": rows.get("429s", 0),
            "other": {k: v for k, v in rows.items() if k not in requests},
            "users": users_by_state(),
            "note": "each worker flushes its counts every 0.5 s",
        }
    )


@admin_api({"GET"})
def users(request: HttpRequest, body: dict[str, Any]) -> HttpResponse:
    vendor = request.GET.get("vendor", "")
    out: dict[str, Any] = {}
    if vendor in {"", "webex"}:
        out["webex"] = list(
            WebexPerson.objects.order_by("id").values(
                "person_id", "email", "display_name", "first_name", "last_name",
                "invite_pending", "login_enabled", "licenses", "created", "invited_at",
                "visible_at",
            )
        )  # fmt: skip
    if vendor in {"", "zoom"}:
        out["zoom"] = list(
            ZoomUser.objects.order_by("id").values(
                "user_id", "email", "first_name", "last_name", "type", "status",
                "login_types", "created_at", "invited_at", "visible_at", "action",
            )
        )  # fmt: skip
    out["personal"] = [_personal(a) for a in PersonalAccount.objects.all()]
    return HttpResponse(json.dumps(out, default=str), content_type="application/json")


def mail_json(m: Mail, full: bool) -> dict[str, Any]:
    data = {
        "id": m.pk,
        "vendor": m.vendor,
        "kind": m.kind,
        "to": m.to,
        "subject": m.subject,
        "links": m.links,
        "status": m.status,
        "error": m.error,
        "created_at": clock.iso(m.created_at),
    }
    if full:
        data["text"], data["html"] = mail_module.render(m)
    return data


@admin_api({"GET"})
def mails(request: HttpRequest, body: dict[str, Any]) -> HttpResponse:
    query = Mail.objects.order_by("-id")
    if request.GET.get("to"):
        query = query.filter(to=request.GET["to"].lower())
    if request.GET.get("kind"):
        query = query.filter(kind=request.GET["kind"])
    limit = min(int(request.GET.get("limit", "100")), 1000)
    full = request.GET.get("body", "1") != "0"
    return json_response({"items": [mail_json(m, full) for m in query[:limit]]})


@admin_api({"GET", "PUT", "POST"})
def credentials_view(request: HttpRequest, body: dict[str, Any]) -> HttpResponse:
    if request.method != "GET":
        return json_response(credentials.configure(body))
    return json_response(credentials.ensure())


@csrf_protect
def page(request: HttpRequest) -> HttpResponse:
    local = request.META.get("REMOTE_ADDR") in LOOPBACK
    given = request.GET.get("token", "")
    if not local and not (given and hmac.compare_digest(given, _token())):
        return HttpResponse("Admin page: loopback only, or pass ?token=", status=403)
    if request.method == "POST":
        return _set_variant_from_page(request)
    state = faults.load()
    context = {
        "users": users_by_state(),
        "faults": state.faults,
        "variants": [
            {"v": v, "chosen": state.variants[name]} for name, v in variants.VARIANTS.items()
        ],
        "now": clock.iso(clock.now()),
        "offset_days": round(state.offset / 86400, 3),
        "mails": Mail.objects.order_by("-id")[:20],
        "zoom_users": ZoomUser.objects.order_by("-id")[:15],
        "webex_people": WebexPerson.objects.order_by("-id")[:15],
        "apps": [("zoom", a.client_id, a.scopes, a.disabled) for a in ZoomAccount.objects.all()]
        + [("webex", a.client_id, a.scopes, a.disabled) for a in WebexApp.objects.all()],
    }
    return render(request, "vendor_sandbox/admin.html", context)


def _set_variant_from_page(request: HttpRequest) -> HttpResponse:
    """The page's variant switch: one variant set to one choice, then back to the page."""
    try:
        clean = variants.validate({request.POST.get("name", ""): request.POST.get("choice", "")})
    except ValueError as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain")
    state = SandboxState.objects.get(id=1)
    state.variants = {**state.variants, **clean}
    state.save(update_fields=["variants"])
    return HttpResponseRedirect(request.path)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return HttpResponse("Not found", status=404, content_type="text/plain")


def server_error(request: HttpRequest) -> HttpResponse:
    return HttpResponse(
        "Something went wrong in the sandbox.", status=500, content_type="text/plain"
    )
