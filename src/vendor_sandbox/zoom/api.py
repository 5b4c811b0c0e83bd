"""Zoom Users API under /zoom/v2, with the codes and messages of docs/vendors.md."""

from __future__ import annotations

import json
import math
import re
import secrets
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse

from vendor_sandbox import faults, ratelimit, sql
from vendor_sandbox.conf import CONFIG
from vendor_sandbox.errors import ZOOM, ApiError, json_response, zoom_invalid
from vendor_sandbox.models import Link, PersonalAccount, ZoomAccount, ZoomPageToken, ZoomUser
from vendor_sandbox.pipeline import Api, Ctx, Endpoint, json_body, route
from vendor_sandbox.zoom import oauth, service

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
ACTIONS = {"create", "autoCreate", "custCreate", "ssoCreate"}
USER_TYPES = {1, 2, 4, 99}
CREATE_FIELDS = {"email", "type", "first_name", "last_name", "display_name", "password", "feature"}
PATCH_STR = {
    "first_name", "last_name", "display_name", "dept", "job_title", "company", "location",
    "language", "timezone", "phone_number", "vanity_name", "host_key", "cms_user_id",
}  # fmt: skip
NAME_MAX = 64
INSERT_FIELDS = (
    "user_id", "email", "first_name", "last_name", "display_name", "type", "status",
    "verified", "dept", "role_id", "login_types", "extra", "password_hash", "created_at",
    "invited_at", "last_login_time", "visible_at", "action",
)  # fmt: skip


def limit(account: ZoomAccount, endpoint: Endpoint) -> None:
    ratelimit.check_zoom_qps(account.account_id, endpoint.category)


API = Api(ZOOM, oauth.authenticate, limit)


def _not_found(key: str) -> ApiError:
    return ApiError(404, f"User does not exist: {key}.", code=1001)


def _user(ctx: Ctx, key: str) -> ZoomUser:
    user = service.find(ctx.principal, key, ctx.now)
    if user is not None:
        return user
    if "@" in key and PersonalAccount.objects.filter(vendor="zoom", email=key.lower()).exists():
        raise ApiError(400, f"User does not belong to this account: {key}.", code=1010)
    raise _not_found(key)


def _check_seats(ctx: Ctx) -> None:
    if not CONFIG.zoom_paid_seats:
        return  # unlimited: counting paid users on every create would cost O(users)
    paid = service.live(ctx.principal, ctx.now).filter(type=2).count()
    if paid >= CONFIG.zoom_paid_seats:
        raise ApiError(400, f"You can add max {CONFIG.zoom_paid_seats} paid users.", code=200)


def _validate_names(info: dict[str, Any], prefix: str) -> None:
    for key in ("first_name", "last_name", "display_name"):
        if key in info and (not isinstance(info[key], str) or len(info[key]) > NAME_MAX):
            raise zoom_invalid(f"{prefix}{key}")


def daily_precheck(
    request: HttpRequest, account: ZoomAccount, now: datetime, chosen: dict[str, str]
) -> None:
    """The daily cap counts ``action=create`` requests before they are served."""
    if not CONFIG.limits_enabled:
        return
    try:
        action = json.loads(request.body or b"{}").get("action")
    except (ValueError, AttributeError):
        return
    if action == "create":
        headers = chosen["zoom_daily_cap_headers"] == "documented"
        ratelimit.check_zoom_daily_create(account.account_id, now, headers=headers)


def parse_create(body: dict[str, Any]) -> tuple[str, dict[str, Any], str, int, Any]:
    """Validate a create body: (action, user_info, address, type, password) or ApiError."""
    for key in body:
        if key not in {"action", "user_info"}:
            raise zoom_invalid(key)
    action = body.get("action")
    if action not in ACTIONS:
        raise zoom_invalid("action")
    info = body.get("user_info")
    if not isinstance(info, dict):
        raise zoom_invalid("user_info")
    for key in info:
        if key not in CREATE_FIELDS:
            raise zoom_invalid(f"user_info.{key}")
    email = info.get("email")
    if not isinstance(email, str) or not EMAIL_RE.match(email.strip()) or len(email) > 128:
        raise zoom_invalid("user_info.email")
    email = email.strip().lower()
    utype = info.get("type")
    if isinstance(utype, bool) or utype not in USER_TYPES:
        raise zoom_invalid("user_info.type")
    _validate_names(info, "user_info.")
    password = info.get("password")
    if action == "autoCreate" and (not isinstance(password, str) or not 8 <= len(password) <= 32):
        raise zoom_invalid("user_info.password")
    return str(action), info, email, utype, password


def create_user(ctx: Ctx) -> HttpResponse:
    action, info, email, utype, password = parse_create(json_body(ctx.request, ZOOM))
    account: ZoomAccount = ctx.principal
    existing = sql.one(
        "SELECT id, status, invited_at FROM vendor_sandbox_zoomuser "
        "WHERE account_id = %s AND email = %s",
        [account.account_id, email],
    )
    if existing is not None:
        invited = existing[2]
        cutoff = sql.dt(service.pending_cutoff(ctx.now))
        if not (existing[1] == "pending" and invited is not None and str(invited) < str(cutoff)):
            raise ApiError(409, f"User already in the account: {email}.", code=1005)
        ZoomUser.objects.filter(id=existing[0]).delete()  # an expired invitation is gone
    has_personal = sql.one(
        "SELECT paid FROM vendor_sandbox_personalaccount WHERE vendor = 'zoom' AND email = %s",
        [email],
    )
    if has_personal and action != "create":
        raise ApiError(409, f"User already holds an active account: {email}.", code=1009)
    if has_personal and has_personal[0]:
        held_elsewhere(email, ctx.variants.get("zoom_account_elsewhere", "documented"))
    if utype == 2:
        _check_seats(ctx)
    user = ZoomUser(
        user_id=service.new_user_id(),
        account=account,
        email=email,
        first_name=info.get("first_name", ""),
        last_name=info.get("last_name", ""),
        type=utype,
        created_at=ctx.now,
        visible_at=ctx.now,
        action=action,
    )
    user.display_name = service.display_name(info)
    user.status, user.verified, user.login_types = service.created_state(action)
    if action == "create":
        user.invited_at = ctx.now
    elif password:
        user.password_hash = make_password(password)
    delay = float(ctx.faults["consistency_delay_seconds"])
    if delay and faults.draw(ctx.faults, "consistency_rate"):
        user.visible_at = ctx.now + timedelta(seconds=delay)
    row = {f: getattr(user, f) for f in INSERT_FIELDS}
    try:
        user.id = sql.insert("zoomuser", {**row, "account_id": account.account_id})
    except IntegrityError as exc:
        raise ApiError(409, f"User already in the account: {email}.", code=1005) from exc
    if action == "create":
        service.invite(user, account, ctx.now, personal=bool(has_personal))
    service.emit("user.created", user, account, ctx.webhook_url)
    body = {"id": user.user_id, "first_name": user.first_name, "last_name": user.last_name}
    body.update(email=user.email, type=user.type)
    return json_response(body, 201)


def held_elsewhere(email: str, variant: str) -> None:
    """A paid account elsewhere cannot be invited with ``action=create`` (Z-d): Zoom's
    reference documents a 409 "User with that email already exists"; code 1009 "… already
    holds an active account" is what its forum reports (variant zoom_account_elsewhere)."""
    if variant == "code_1009":
        raise ApiError(409, f"The user {email} already holds an active account.", code=1009)
    raise ApiError(409, "User with that email already exists.", code=1005)


def list_users(ctx: Ctx) -> HttpResponse:
    params = ctx.request.GET
    account: ZoomAccount = ctx.principal
    token = params.get("next_page_token", "")
    if token:
        row = ZoomPageToken.objects.filter(token=token, account=account).first()
        window = timedelta(minutes=CONFIG.zoom_page_token_minutes)
        if row is None or row.created_at + window < ctx.now:
            raise ApiError(400, "The next page token is invalid or expired.", code=300)
        status, size, after = row.status, row.page_size, row.after_seq
    else:
        status = params.get("status", "active")
        if status not in {"active", "inactive", "pending"}:
            raise zoom_invalid("status")
        try:
            size = int(params.get("page_size", "30"))
        except ValueError as exc:
            raise zoom_invalid("page_size") from exc
        if size < 1:
            raise zoom_invalid("page_size")
        size, after = min(size, 300), 0
    query = service.live(account, ctx.now).filter(status=status)
    total = query.count()
    rows = list(query.filter(id__gt=after).order_by("id")[: size + 1])
    page = rows[:size]
    next_token = ""
    if len(rows) > size:
        next_token = secrets.token_urlsafe(24)
        ZoomPageToken.objects.filter(created_at__lt=ctx.now - timedelta(hours=1)).delete()
        ZoomPageToken.objects.create(
            token=next_token,
            account=account,
            status=status,
            page_size=size,
            after_seq=page[-1].id,
            created_at=ctx.now,
        )
    return json_response(
        {
            "next_page_token": next_token,
            "page_count": max(1, math.ceil(total / size)) if total else 0,
            "page_number": 1,
            "page_size": size,
            "total_records": total,
            "users": [service.list_json(u) for u in page],
        }
    )


def get_user(ctx: Ctx, key: str) -> HttpResponse:
    user = _user(ctx, key)
    if user.status == "pending":
        return json_response(service.pending_json(user, ctx.now, ctx.variants))
    return json_response(service.detail_json(user))


def update_user(ctx: Ctx, key: str) -> HttpResponse:
    user = _user(ctx, key)
    body = json_body(ctx.request, ZOOM)
    for field, value in body.items():
        if field in PATCH_STR:
            if not isinstance(value, str):
                raise zoom_invalid(field)
        elif field == "type":
            if isinstance(value, bool) or value not in USER_TYPES:
                raise zoom_invalid(field)
        elif field == "pmi":
            if isinstance(value, bool) or not isinstance(value, int):
                raise zoom_invalid(field)
        elif field == "use_pmi":
            if not isinstance(value, bool):
                raise zoom_invalid(field)
        else:
            raise zoom_invalid(field)
    _validate_names(body, "")
    if user.status == "pending":
        return HttpResponse(status=204)  # Zoom answers success and changes nothing
    if body.get("type") == 2 and user.type != 2:
        _check_seats(ctx)
    for field in ("first_name", "last_name", "display_name", "dept", "type"):
        if field in body:
            setattr(user, field, body[field])
    user.extra = {**user.extra, **{k: v for k, v in body.items() if k not in {"type"}}}
    user.save()
    service.emit("user.updated", user, ctx.principal)
    return HttpResponse(status=204)


def delete_user(ctx: Ctx, key: str) -> HttpResponse:
    action = ctx.request.GET.get("action", "disassociate")
    if action not in {"disassociate", "delete"}:
        raise zoom_invalid("action")
    account: ZoomAccount = ctx.principal
    user = service.find(account, key, ctx.now)
    if user is None:
        field = "email" if "@" in key else "user_id"
        stale = ZoomUser.objects.filter(
            account=account, **{field: key.lower() if "@" in key else key}
        )
        if stale.filter(status="pending").exists():
            stale.delete()
            raise ApiError(400, f"Invite does not exist: {key}.", code=1120)
        user = _user(ctx, key)
    if action == "disassociate" and user.status != "pending":
        # The person keeps a Zoom account of their own, outside the organisation.
        PersonalAccount.objects.get_or_create(
            vendor="zoom",
            email=user.email,
            defaults={
                "display_name": user.display_name,
                "first_name": user.first_name,
                "last_name": user.last_name,
                "password_hash": user.password_hash,
                "login_type": (user.login_types or [100])[0],
                "created_at": ctx.now,
            },
        )
    Link.objects.filter(target=user.user_id).delete()
    service.emit(
        "user.disassociated" if action == "disassociate" else "user.deleted", user, account
    )
    user.delete()
    return HttpResponse(status=204)


def set_status(ctx: Ctx, key: str) -> HttpResponse:
    user = _user(ctx, key)
    body = json_body(ctx.request, ZOOM)
    action = body.get("action")
    if set(body) - {"action"} or action not in {"activate", "deactivate"}:
        raise zoom_invalid("action")
    if user.status == "pending":
        raise ApiError(400, "Pending user settings cannot be accessed.", code=1000)
    if action == "deactivate" and user.status != "inactive":
        user.status, user.type = "inactive", 1  # deactivating removes the licence
        user.save(update_fields=["status", "type"])
        service.emit("user.deactivated", user, ctx.principal)
    elif action == "activate" and user.status != "active":
        user.status = "active"
        user.save(update_fields=["status"])
        service.emit("user.activated", user, ctx.principal)
    return HttpResponse(status=204)


def email_exists(ctx: Ctx) -> HttpResponse:
    email = ctx.request.GET.get("email", "").strip().lower()
    if not EMAIL_RE.match(email):
        raise zoom_invalid("email")
    # Zoom's "Check a user email": true only for a user of this account who signed up
    # with e-mail; false for an account outside it, for a pending invitation, and for
    # a Google, Facebook or SSO sign-up even inside it (Errata Z-b).
    users = service.live(ctx.principal, ctx.now).filter(email=email).exclude(status="pending")
    found = any(service.signed_up_by_email(u) for u in users)
    return json_response({"existed_email": found})


def summary(ctx: Ctx) -> HttpResponse:
    users = service.live(ctx.principal, ctx.now)
    counts = {s: users.filter(status=s).count() for s in ("active", "inactive", "pending")}
    return json_response(
        {
            "licensed_users_count": users.filter(type=2).exclude(status="pending").count(),
            "basic_users_count": users.filter(type=1).exclude(status="pending").count(),
            "active_users_count": counts["active"],
            "inactive_users_count": counts["inactive"],
            "pending_users_count": counts["pending"],
            "total_users_count": sum(counts.values()),
        }
    )


users = route(
    API,
    {
        "GET": Endpoint("users.list", list_users, "Medium"),
        "POST": Endpoint("users.create", create_user, "Light", daily_precheck),
    },
)
user = route(
    API,
    {
        "GET": Endpoint("users.get", get_user),
        "PATCH": Endpoint("users.update", update_user),
        "DELETE": Endpoint("users.delete", delete_user),
    },
)
user_status = route(API, {"PUT": Endpoint("users.status", set_status)})
users_email = route(API, {"GET": Endpoint("users.email", email_exists)})
users_summary = route(API, {"GET": Endpoint("users.summary", summary, "Medium")})


def unknown(request: HttpRequest, rest: str = "") -> HttpResponse:
    tracking = ZOOM.tracking_id()
    resp = ZOOM.render(ApiError(404, "Not Found", code=404), tracking)
    resp[ZOOM.tracking_header] = tracking
    return resp
