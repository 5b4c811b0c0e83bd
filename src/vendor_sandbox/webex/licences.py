"""Webex Licenses API under /webex/v1: the org's licences and a person's (Errata W-b).

``PATCH /licenses/users`` makes what it can of the changes: a licence with no units left
is not assigned, and the answer is 206 ("Partial Content") with the licences the person
now holds, or 400 when none of the changes could be made, as Cisco's spec describes.
"""

from __future__ import annotations

from django.db import connection
from django.http import HttpResponse

from vendor_sandbox.errors import WEBEX, ApiError, json_response, webex_invalid
from vendor_sandbox.models import WebexLicense
from vendor_sandbox.pipeline import Ctx, Endpoint, json_body, route
from vendor_sandbox.webex.api import API, _check_org_and_licenses, _get_person, _visible


def list_licenses(ctx: Ctx) -> HttpResponse:
    items = []
    with connection.cursor() as cur:
        for lic in WebexLicense.objects.filter(org=ctx.principal).order_by("name"):
            cur.execute(
                "SELECT COUNT(*) FROM vendor_sandbox_webexperson "
                "WHERE org_id = %s AND instr(licenses, %s) > 0",
                [lic.org_id, f'"{lic.license_id}"'],
            )
            used = cur.fetchone()[0]
            item = {
                "id": lic.license_id,
                "name": lic.name,
                "totalUnits": lic.total_units,
                "consumedUnits": used,
                "consumedByUsers": used,
                "consumedByWorkspaces": 0,
                "subscriptionId": "Sub-sandbox-0001",
            }
            if lic.site_url:
                item.update(siteUrl=lic.site_url, siteType="Control Hub managed site")
            items.append(item)
    return json_response({"items": items})


def patch_license_users(ctx: Ctx) -> HttpResponse:
    body = json_body(ctx.request, WEBEX)
    for key in body:
        if key not in {"email", "personId", "orgId", "licenses", "siteUrls"}:
            raise webex_invalid(f"Unrecognized field '{key}'.")
    changes = body.get("licenses")
    if not isinstance(changes, list) or not all(isinstance(c, dict) for c in changes):
        raise webex_invalid("'licenses' must be an array of objects.")
    if body.get("personId"):
        person = _get_person(ctx, str(body["personId"]))
    elif isinstance(body.get("email"), str):
        person = _visible(ctx).filter(email=body["email"].strip().lower()).first()
        if person is None:
            raise ApiError(404, "Person not found.")
    else:
        raise webex_invalid("One of 'email' or 'personId' is required.")
    _check_org_and_licenses(ctx, {"orgId": body.get("orgId"), "licenses": []})
    current = list(person.licenses)
    refused = []
    for change in changes:
        lic_id, op = change.get("id"), change.get("operation", "add")
        if not isinstance(lic_id, str) or op not in {"add", "remove"}:
            raise webex_invalid("Each license needs an 'id' and operation 'add' or 'remove'.")
        _check_org_and_licenses(ctx, {"licenses": [lic_id]})
        if op == "add" and lic_id not in current:
            if _units_left(person.org_id, lic_id) <= 0:
                refused.append(lic_id)  # no units left: the rest still goes ahead
                continue
            current.append(lic_id)
        if op == "remove" and lic_id in current:
            current.remove(lic_id)
    if refused and len(refused) == len(changes):
        raise ApiError(
            400,
            "License assignment failed",
            errors=[{"description": f"No units left of license(s): {', '.join(refused)}"}],
        )
    person.licenses = current
    person.last_modified = ctx.now
    person.save(update_fields=["licenses", "last_modified"])
    answer = {
        "orgId": person.org_id,
        "personId": person.person_id,
        "email": person.email,
        "licenses": current,
        "siteUrls": [],
    }
    # Some of the changes could not be made: "Partial Content", the body says what holds.
    return json_response(answer, 206 if refused else 200)


def _units_left(org_id: str, license_id: str) -> int:
    total = WebexLicense.objects.filter(org_id=org_id, license_id=license_id).values_list(
        "total_units", flat=True
    )
    with connection.cursor() as cur:
        cur.execute(
            "SELECT COUNT(*) FROM vendor_sandbox_webexperson "
            "WHERE org_id = %s AND instr(licenses, %s) > 0",
            [org_id, f'"{license_id}"'],
        )
        used = int(cur.fetchone()[0])
    return (total.first() or 0) - used


licenses = route(API, {"GET": Endpoint("licenses.list", list_licenses)})
license_users = route(API, {"PATCH": Endpoint("licenses.users", patch_license_users)})
