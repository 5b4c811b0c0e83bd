"""Webex's SCIM 2 Users API under /webex/identity/scim/{orgId}/v2 (Cisco's webex-admin.json).

The same people as the People API, seen through SCIM: the SCIM id is the uuid inside
the People id (base64 of ``ciscospark://us/PEOPLE/<uuid>``), the orgId in the path
is the uuid inside the organisation's id. Answers always carry Cisco's extension
(``accountStatus``) and the enterprise one; a create needs ``userType`` (W-g).
Licences are not SCIM's: the Licenses API assigns them.

A user created here models an organisation that signs its people in with SSO: it is
active at once and gets no invitation mail (UNCONFIRMED: an organisation without SSO
may mail SCIM-created users an activation link).
"""

from __future__ import annotations

import base64
import binascii
import uuid
from typing import Any

from django.db import IntegrityError
from django.http import HttpResponse
from scim2_models import EnterpriseUser

from vendor_sandbox import clock
from vendor_sandbox.credentials import webex_id
from vendor_sandbox.errors import WEBEX, ApiError, json_response
from vendor_sandbox.models import Link, WebexOrg, WebexPerson
from vendor_sandbox.pipeline import Api, Ctx, Endpoint, route
from vendor_sandbox.scim import common
from vendor_sandbox.scim.models import CISCO, CORE, ENTERPRISE, WebexScimUser
from vendor_sandbox.webex import api as people_api

DIALECT = common.ScimDialect(WEBEX)
API = Api(DIALECT, people_api.authenticate, people_api.limit)
USER_TYPES = {"user", "room", "external_calling", "calling_service"}
FILTERS = {"userName": {"eq", "sw", "ew"}, "emails.value": {"eq", "sw", "ew"}, "id": {"eq"}}
LARGEST_PAGE = 1000  # UNCONFIRMED: Cisco gives the default (100) only


def inner_uuid(webex_ident: str) -> str:
    """The uuid in a Webex id (unpadded base64 of ``ciscospark://us/<KIND>/<uuid>``)."""
    try:
        raw = base64.b64decode(webex_ident + "=" * (-len(webex_ident) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError):
        return ""
    return raw.rsplit("/", 1)[-1]


def _check_org(ctx: Ctx, org_id: str) -> WebexOrg:
    org: WebexOrg = ctx.principal
    if org_id != inner_uuid(org.org_id):
        raise ApiError(403, "Not authorized for this organization.")
    return org


def _person(ctx: Ctx, user_id: str) -> WebexPerson:
    person = (
        WebexPerson.objects.filter(
            org=ctx.principal, person_id=webex_id("PEOPLE", user_id), visible_at__lte=ctx.now
        ).first()
        if user_id
        else None
    )
    if person is None:
        raise common.not_found(user_id)
    return person


def to_scim(person: WebexPerson, org_uuid: str, location: str) -> dict[str, Any]:
    scim_id = inner_uuid(person.person_id)
    name = {
        k: v for k, v in (("givenName", person.first_name), ("familyName", person.last_name)) if v
    }
    data: dict[str, Any] = {
        "schemas": [CORE, CISCO, ENTERPRISE],
        "id": scim_id,
        "userName": person.email,
        "active": person.login_enabled,
        "userType": person.extra.get("userType", "user"),
        "displayName": person.display_name,
        "emails": [{"value": person.email, "type": "work", "primary": True}],
    }
    if name:
        data["name"] = name
    if person.nick_name:
        data["nickName"] = person.nick_name
    if person.extra.get("title"):
        data["title"] = person.extra["title"]
    department = person.extra.get("department")
    data[ENTERPRISE] = {"department": department} if department else {}
    data[CISCO] = {
        # Cisco's examples answer a list; "pending" until the person first signs in.
        "accountStatus": ["pending" if person.invite_pending else "active"],
        "meta": {"organizationId": org_uuid},
    }
    data["meta"] = {
        "resourceType": "User",
        "location": location + scim_id,
        "version": f'W/"{int(person.last_modified.timestamp() * 1000)}"',
        "created": clock.iso(person.created, millis=True),
        "lastModified": clock.iso(person.last_modified, millis=True),
    }
    return data


def _location(ctx: Ctx, org_id: str) -> str:
    return ctx.request.build_absolute_uri(f"/webex/identity/scim/{org_id}/v2/Users/")


def _answer(ctx: Ctx, org_id: str, person: WebexPerson, status: int = 200) -> HttpResponse:
    return json_response(to_scim(person, org_id, _location(ctx, org_id)), status)


def _apply(ctx: Ctx, person: WebexPerson, user: WebexScimUser) -> None:
    """Write a whole user (create and PUT replace everything; PATCH patched it first)."""
    if user.user_type not in USER_TYPES:
        raise common.invalid(f"userType is required and one of {sorted(USER_TYPES)}.")
    email = str(user.user_name).strip().lower()
    if email != person.email:
        taken = WebexPerson.objects.filter(org=ctx.principal, email=email)
        if taken.exclude(pk=person.pk).exists():
            raise common.conflict(email)
        person.email = email
    person.first_name = (user.name.given_name if user.name else None) or ""
    person.last_name = (user.name.family_name if user.name else None) or ""
    person.display_name = (
        user.display_name or f"{person.first_name} {person.last_name}".strip() or email
    )
    person.nick_name = user.nick_name or ""
    if user.active is not None:
        person.login_enabled = user.active
    enterprise = user[EnterpriseUser]
    extra = {k: v for k, v in person.extra.items() if k not in {"userType", "title", "department"}}
    extra["userType"] = user.user_type
    if user.title:
        extra["title"] = user.title
    if enterprise is not None and enterprise.department:
        extra["department"] = enterprise.department
    person.extra = extra
    person.last_modified = ctx.now


def search(ctx: Ctx, org_id: str) -> HttpResponse:
    _check_org(ctx, org_id)
    query = WebexPerson.objects.filter(org=ctx.principal, visible_at__lte=ctx.now)
    found = common.parse_filter(ctx.request.GET.get("filter", ""), FILTERS)
    if found is not None:
        attribute, op, value = found
        if attribute == "id":
            query = query.filter(person_id=webex_id("PEOPLE", value))
        else:
            lookup = {"eq": "email", "sw": "email__startswith", "ew": "email__endswith"}[op]
            query = query.filter(**{lookup: value.strip().lower()})
    start, count = common.page_bounds(ctx.request, LARGEST_PAGE)
    total = query.count()
    page = list(query.order_by("id")[start - 1 : start - 1 + count]) if count else []
    location = _location(ctx, org_id)
    return common.list_response([to_scim(p, org_id, location) for p in page], total, start)


def create(ctx: Ctx, org_id: str) -> HttpResponse:
    org = _check_org(ctx, org_id)
    user = common.user_from_body(ctx.request, DIALECT, WebexScimUser)
    person = WebexPerson(person_id=webex_id("PEOPLE", str(uuid.uuid4())), org=org, email="")
    person.created = person.visible_at = ctx.now
    person.invite_pending = False  # an SSO organisation's person: no invitation (above)
    _apply(ctx, person, user)  # refuses an address the organisation already has
    try:
        person.save()
    except IntegrityError as exc:  # a concurrent create of the same address won
        raise common.conflict(person.email) from exc
    return _answer(ctx, org_id, person, 201)


def get(ctx: Ctx, org_id: str, user_id: str) -> HttpResponse:
    _check_org(ctx, org_id)
    return _answer(ctx, org_id, _person(ctx, user_id))


def replace(ctx: Ctx, org_id: str, user_id: str) -> HttpResponse:
    _check_org(ctx, org_id)
    person = _person(ctx, user_id)
    _apply(ctx, person, common.user_from_body(ctx.request, DIALECT, WebexScimUser))
    person.save()
    return _answer(ctx, org_id, person)


def patch(ctx: Ctx, org_id: str, user_id: str) -> HttpResponse:
    _check_org(ctx, org_id)
    person = _person(ctx, user_id)
    current = common.model_of(WebexScimUser, to_scim(person, org_id, _location(ctx, org_id)))
    _apply(ctx, person, common.patched(ctx.request, DIALECT, current))
    person.save()
    return _answer(ctx, org_id, person)


def delete(ctx: Ctx, org_id: str, user_id: str) -> HttpResponse:
    _check_org(ctx, org_id)
    person = _person(ctx, user_id)
    Link.objects.filter(target=person.person_id).delete()
    person.delete()
    return HttpResponse(status=204)


users = route(
    API,
    {
        "GET": Endpoint("scim.users.search", search),
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
