"""Zoom's SCIM 2 Users API under /zoom/scim2 (Zoom's SCIM2 API reference).

The same users as the Users API, seen through SCIM; the token is the account's
Server-to-Server OAuth token. Answers carry Zoom's extension
``urn:us:zoom:scim:schemas:extension:1.0:ZoomUser`` (``loginType``); ``userType``
("Basic", "Licensed", "On-Prem") is the licence. Zoom's SCIM needs SSO, so a user
created here is an SSO user, active at once, without an activation mail.
Deactivating takes the licence away, as the Users API does. Filters: ``userName eq``
and ``externalId eq`` only.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError
from django.http import HttpResponse
from scim2_models import EnterpriseUser

from vendor_sandbox import clock
from vendor_sandbox.errors import ZOOM, ApiError, json_response
from vendor_sandbox.models import Link, ZoomAccount, ZoomUser
from vendor_sandbox.pipeline import Api, Ctx, Endpoint, route
from vendor_sandbox.scim import common
from vendor_sandbox.scim.models import (
    CORE,
    ENTERPRISE,
    ZoomScimUser,
    ZoomUserExtension,
)
from vendor_sandbox.scim.models import (
    ZOOM as ZOOM_EXT,
)
from vendor_sandbox.zoom import api as users_api
from vendor_sandbox.zoom import oauth, service

DIALECT = common.ScimDialect(ZOOM)
API = Api(DIALECT, oauth.authenticate, users_api.limit)
USER_TYPES = {"Basic": 1, "Licensed": 2, "On-Prem": 3}
TYPE_NAMES = {number: name for name, number in USER_TYPES.items()}
FILTERS = {"userName": {"eq"}, "externalId": {"eq"}}
LARGEST_PAGE = 100  # UNCONFIRMED
LOGIN_EMAIL, LOGIN_SSO = 100, 101


def _user(ctx: Ctx, user_id: str) -> ZoomUser:
    found = service.live(ctx.principal, ctx.now).filter(user_id=user_id).first()
    if found is None:
        raise common.not_found(user_id)
    return found


def to_scim(user: ZoomUser, location: str) -> dict[str, Any]:
    name = {k: v for k, v in (("givenName", user.first_name), ("familyName", user.last_name)) if v}
    data: dict[str, Any] = {
        "schemas": [CORE, ZOOM_EXT, ENTERPRISE],
        "id": user.user_id,
        "userName": user.email,
        "displayName": user.display_name,
        "emails": [{"type": "work", "value": user.email, "primary": True}],
        "userType": TYPE_NAMES.get(user.type, "Basic"),
        "active": user.status != "inactive",
    }
    if name:
        data["name"] = name
    if user.extra.get("externalId"):
        data["externalId"] = user.extra["externalId"]
    data[ENTERPRISE] = {"department": user.dept} if user.dept else {}
    logins = user.login_types or []
    data[ZOOM_EXT] = {"loginType": {"workEmail": LOGIN_EMAIL in logins, "sso": LOGIN_SSO in logins}}
    data["meta"] = {
        "resourceType": "User",
        "created": clock.iso(user.created_at),
        "location": location + user.user_id,
    }
    return data


def _location(ctx: Ctx) -> str:
    return ctx.request.build_absolute_uri("/zoom/scim2/Users/")


def _answer(ctx: Ctx, user: ZoomUser, status: int = 200) -> HttpResponse:
    return json_response(to_scim(user, _location(ctx)), status)


def _apply(ctx: Ctx, user: ZoomUser, scim: ZoomScimUser) -> list[str]:
    """Write a whole user; the webhook events the change makes."""
    events: list[str] = []
    wanted_type = USER_TYPES.get(scim.user_type or TYPE_NAMES.get(user.type, "Basic"))
    if wanted_type is None:
        raise common.invalid(f"userType must be one of {sorted(USER_TYPES)}.")
    email = str(scim.user_name).strip().lower()
    if email != user.email:
        taken = ZoomUser.objects.filter(account=ctx.principal, email=email)
        if taken.exclude(pk=user.pk).exists():
            raise common.conflict(email)
        user.email = email
    user.first_name = (scim.name.given_name if scim.name else None) or ""
    user.last_name = (scim.name.family_name if scim.name else None) or ""
    user.display_name = scim.display_name or f"{user.first_name} {user.last_name}".strip()
    enterprise = scim[EnterpriseUser]
    user.dept = (enterprise.department if enterprise else None) or ""
    if scim.external_id:
        user.extra = {**user.extra, "externalId": scim.external_id}
    active = scim.active is not False
    if user.status == "pending" and (not active or wanted_type != user.type):
        raise ApiError(400, "Pending user settings cannot be accessed.")
    user.type = wanted_type
    if user.status == "active" and not active:
        user.status, user.type = "inactive", 1  # deactivating removes the licence
        events.append("user.deactivated")
    elif user.status == "inactive" and active:
        user.status = "active"
        events.append("user.activated")
    return events


def search(ctx: Ctx) -> HttpResponse:
    query = service.live(ctx.principal, ctx.now)
    found = common.parse_filter(ctx.request.GET.get("filter", ""), FILTERS)
    if found is not None:
        attribute, _, value = found
        if attribute == "userName":
            query = query.filter(email=value.strip().lower())
        else:
            query = query.filter(extra__externalId=value)
    start, count = common.page_bounds(ctx.request, LARGEST_PAGE)
    total = query.count()
    page = list(query.order_by("id")[start - 1 : start - 1 + count]) if count else []
    location = _location(ctx)
    return common.list_response([to_scim(u, location) for u in page], total, start)


def create(ctx: Ctx) -> HttpResponse:
    account: ZoomAccount = ctx.principal
    scim = common.user_from_body(ctx.request, DIALECT, ZoomScimUser)
    user = ZoomUser(
        user_id=service.new_user_id(),
        account=account,
        email="",
        status="active",
        verified=1,
        created_at=ctx.now,
        visible_at=ctx.now,
        action="ssoCreate",
    )
    _apply(ctx, user, scim)
    login = scim[ZoomUserExtension]
    kinds = login.login_type if login is not None else None
    user.login_types = [
        number
        for number, on in (
            (LOGIN_EMAIL, bool(kinds and kinds.work_email)),
            (LOGIN_SSO, not kinds or kinds.sso is not False),
        )
        if on
    ]
    try:
        user.save()
    except IntegrityError as exc:  # a concurrent create of the same address won
        raise common.conflict(user.email) from exc
    service.emit("user.created", user, account, ctx.webhook_url)
    return _answer(ctx, user, 201)


def get(ctx: Ctx, user_id: str) -> HttpResponse:
    return _answer(ctx, _user(ctx, user_id))


def _write(ctx: Ctx, user: ZoomUser, scim: ZoomScimUser) -> HttpResponse:
    events = _apply(ctx, user, scim)
    user.save()
    for event in [*events, "user.updated"]:
        service.emit(event, user, ctx.principal, ctx.webhook_url)
    return _answer(ctx, user)


def replace(ctx: Ctx, user_id: str) -> HttpResponse:
    user = _user(ctx, user_id)
    return _write(ctx, user, common.user_from_body(ctx.request, DIALECT, ZoomScimUser))


def patch(ctx: Ctx, user_id: str) -> HttpResponse:
    user = _user(ctx, user_id)
    current = common.model_of(ZoomScimUser, to_scim(user, _location(ctx)))
    return _write(ctx, user, common.patched(ctx.request, DIALECT, current))


def delete(ctx: Ctx, user_id: str) -> HttpResponse:
    user = _user(ctx, user_id)
    Link.objects.filter(target=user.user_id).delete()
    service.emit("user.deleted", user, ctx.principal, ctx.webhook_url)
    user.delete()
    return HttpResponse(status=204)


users = route(
    API,
    {
        "GET": Endpoint("scim.users.search", search, "Medium"),
        "POST": Endpoint("scim.users.create", create),
    },
)
user = route(
    API,
    {
        "GET": Endpoint("scim.users.get", get),
        "PUT": Endpoint("scim.users.replace", replace),
        "PATCH": Endpoint("scim.users.patch", patch),
        "DELETE": Endpoint("scim.users.delete", delete),
    },
)
