"""Webex People API under /webex/v1, as docs/vendors.md and the published spec describe it."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse

from vendor_sandbox import faults, ratelimit
from vendor_sandbox.conf import CONFIG
from vendor_sandbox.credentials import webex_id
from vendor_sandbox.errors import WEBEX, ApiError, json_response, webex_invalid
from vendor_sandbox.models import PersonalAccount, WebexJob, WebexLicense, WebexOrg, WebexPerson
from vendor_sandbox.pipeline import Api, Ctx, Endpoint, json_body, route
from vendor_sandbox.webex import service
from vendor_sandbox.webex.oauth import authenticate

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
STRING_FIELDS = {
    "displayName", "firstName", "lastName", "nickName", "avatar", "orgId", "department",
    "manager", "managerId", "title", "extension", "locationId", "timezone",
}  # fmt: skip
LIST_OF_STR = {"emails", "roles", "licenses", "siteUrls"}
LIST_OF_OBJ = {"phoneNumbers", "addresses"}
POST_FIELDS = (STRING_FIELDS - {"nickName", "timezone"}) | LIST_OF_STR | LIST_OF_OBJ
PUT_FIELDS = STRING_FIELDS - {"timezone"} | LIST_OF_STR | LIST_OF_OBJ | {"loginEnabled"}
MAX_IDS = 85


def limit(org: WebexOrg, endpoint: Endpoint) -> None:
    ratelimit.check_webex(org.org_id, endpoint.name)


API = Api(WEBEX, authenticate, limit)


def _visible(ctx: Ctx) -> Any:
    return WebexPerson.objects.filter(org=ctx.principal, visible_at__lte=ctx.now)


def _get_person(ctx: Ctx, person_id: str) -> WebexPerson:
    person = _visible(ctx).filter(person_id=person_id).first()
    if person is None:
        raise ApiError(404, "Person not found.")
    return person


def _validate(body: dict[str, Any], allowed: set[str]) -> None:
    for key, value in body.items():
        if key not in allowed:
            raise webex_invalid(f"Unrecognized field '{key}'.")
        if key in STRING_FIELDS and not isinstance(value, str):
            raise webex_invalid(f"'{key}' must be a string.")
        if key in LIST_OF_STR and (
            not isinstance(value, list) or not all(isinstance(v, str) for v in value)
        ):
            raise webex_invalid(f"'{key}' must be an array of strings.")
        if key in LIST_OF_OBJ and (
            not isinstance(value, list) or not all(isinstance(v, dict) for v in value)
        ):
            raise webex_invalid(f"'{key}' must be an array of objects.")
        if key == "loginEnabled" and not isinstance(value, bool):
            raise webex_invalid("'loginEnabled' must be a boolean.")


def _email_from(body: dict[str, Any], required: bool) -> str | None:
    emails = body.get("emails")
    if not emails:
        if required:
            raise webex_invalid("'emails' is required.")
        return None
    email = emails[0].strip().lower()
    if not EMAIL_RE.match(email) or len(email) > 320:
        raise webex_invalid(f"Invalid email address '{emails[0]}'.")
    return email


def _check_org_and_licenses(ctx: Ctx, body: dict[str, Any]) -> None:
    org: WebexOrg = ctx.principal
    if body.get("orgId") and body["orgId"] != org.org_id:
        raise ApiError(403, "Not authorized to manage people in this organization.")
    wanted = set(body.get("licenses") or [])
    if wanted:
        known = set(
            WebexLicense.objects.filter(org=org, license_id__in=wanted).values_list(
                "license_id", flat=True
            )
        )
        if wanted - known:
            raise webex_invalid(f"Invalid license id '{sorted(wanted - known)[0]}'.")


def apply_fields(person: WebexPerson, body: dict[str, Any]) -> None:
    """Full replace, as Webex's PUT does: fields left out are emptied."""
    person.display_name = body.get("displayName") or ""
    person.first_name = body.get("firstName", "")
    person.last_name = body.get("lastName", "")
    person.nick_name = body.get("nickName", "")
    person.roles = body.get("roles", [])
    person.licenses = body.get("licenses", [])
    person.extra = {k: body[k] for k in service.EXTRA_FIELDS if k in body}


def apply_create_fields(person: WebexPerson, body: dict[str, Any]) -> None:
    """A new person's fields: as PUT sets them, with the names as the display name when
    the create gives none."""
    apply_fields(person, body)
    if not person.display_name:
        person.display_name = f"{person.first_name} {person.last_name}".strip()


def parse_create(body: dict[str, Any]) -> str:
    """Validate a create body (fields, types, address, a name): the address, or ApiError."""
    _validate(body, POST_FIELDS)
    email = _email_from(body, required=True)
    if not any(body.get(k) for k in ("displayName", "firstName", "lastName")):
        raise webex_invalid("One of displayName, firstName or lastName is required.")
    return email or ""


def create_person(ctx: Ctx) -> HttpResponse:
    body = json_body(ctx.request, WEBEX)
    email = parse_create(body)
    _check_org_and_licenses(ctx, body)
    org: WebexOrg = ctx.principal
    if WebexPerson.objects.filter(org=org, email=email).exists():
        raise ApiError(409, "User already exists.", errors=[{"description": f"{email} exists"}])
    personal = PersonalAccount.objects.filter(vendor="webex", email=email).exists()
    if personal and not service.domain_verified(email):
        # A free account on a domain the org has not verified cannot be added (W-f);
        # Webex documents the rule, not its wording: this is the sandbox's.
        raise ApiError(
            409,
            "User already exists.",
            errors=[{"description": f"{email} holds a Webex account outside this organization"}],
        )
    person = WebexPerson(person_id=service.new_person_id(), org=org, email=email or "")
    apply_create_fields(person, body)
    person.created = person.last_modified = ctx.now
    person.visible_at = ctx.now
    delay = float(ctx.faults["consistency_delay_seconds"])
    if delay and faults.draw(ctx.faults, "consistency_rate"):
        person.visible_at = ctx.now + timedelta(seconds=delay)
    try:
        person.save()
    except IntegrityError as exc:  # a concurrent create of the same address won
        raise ApiError(409, "User already exists.") from exc
    service.invite(person, org, ctx.now)
    if faults.draw(ctx.faults, "webex_400_after_create_rate"):
        ctx.after_commit_error = webex_invalid("Person creation failed. Please try again.")
    return json_response(_json(ctx, person))


def _json(ctx: Ctx, person: WebexPerson, presence: bool = True) -> dict[str, Any]:
    return service.to_json(person, ctx.now, presence, ctx.variants.get("webex_admin_flags", ""))


def list_people(ctx: Ctx) -> HttpResponse:
    params = ctx.request.GET
    try:
        size = int(params.get("max", CONFIG.webex_page_default))
        after = int(params.get("cursor", "0"))
    except ValueError as exc:
        raise webex_invalid("'max' must be a positive integer.") from exc
    if size < 1:
        raise webex_invalid("'max' must be a positive integer.")
    # Above the endpoint's limit, Webex returns its largest page, not an error (W-e).
    size = min(size, CONFIG.webex_page_max)
    query = _visible(ctx).filter(id__gt=after)
    ids: list[str] = []
    if params.get("orgId") and params["orgId"] != ctx.principal.org_id:
        raise ApiError(403, "Not authorized to list people in this organization.")
    if params.get("email"):
        query = query.filter(email=params["email"].strip().lower())
    if params.get("displayName"):
        query = query.filter(display_name__istartswith=params["displayName"])
    if params.get("id"):
        ids = [i for i in params["id"].split(",") if i]
        if len(ids) > MAX_IDS:
            raise webex_invalid(f"At most {MAX_IDS} ids may be given.")
        query = query.filter(person_id__in=ids)
    for role in filter(None, params.get("roles", "").split(",")):
        query = query.filter(roles__icontains=f'"{role}"')
    rows = list(query.order_by("id")[: size + 1])
    page = rows[:size]
    body: dict[str, Any] = {"items": [_json(ctx, p, presence=not ids) for p in page]}
    if ids:
        found = {p.person_id for p in page}
        body["notFoundIds"] = [i for i in ids if i not in found] if len(rows) <= size else []
    resp = json_response(body)
    if len(rows) > size:
        query_args = {k: v for k, v in params.items() if k != "cursor"}
        query_args["cursor"] = str(page[-1].id)
        url = ctx.request.build_absolute_uri(ctx.request.path) + "?" + urlencode(query_args)
        resp["Link"] = f'<{url}>; rel="next"'
    return resp


def get_person(ctx: Ctx, person_id: str) -> HttpResponse:
    return json_response(_json(ctx, _get_person(ctx, person_id)))


def update_person(ctx: Ctx, person_id: str) -> HttpResponse:
    person = _get_person(ctx, person_id)
    body = json_body(ctx.request, WEBEX)
    _validate(body, PUT_FIELDS)
    if not body.get("displayName"):
        raise webex_invalid("'displayName' is required.")
    email = _email_from(body, required=False)
    _check_org_and_licenses(ctx, body)
    if email and email != person.email:
        if WebexPerson.objects.filter(org=ctx.principal, email=email).exists():
            raise ApiError(409, "Email address is already in use.")
        person.email = email
    if faults.draw(ctx.faults, "webex_put_partial_rate"):
        # Stopped half-way: the lists are not written yet, so the full replace left
        # them empty; the rest is as sent. Committed, then the error (docs/vendors.md, W-d).
        body = {k: v for k, v in body.items() if k not in LIST_OF_STR | LIST_OF_OBJ}
        body["emails"] = [person.email]
        ctx.after_commit_error = ApiError(500, "Internal server error.")
    apply_fields(person, body)
    if "loginEnabled" in body:
        person.login_enabled = body["loginEnabled"]
    person.last_modified = ctx.now
    person.save()
    return json_response(_json(ctx, person))


def delete_person(ctx: Ctx, person_id: str) -> HttpResponse:
    _get_person(ctx, person_id).delete()
    return HttpResponse(status=204)


def _job_org(ctx: Ctx, org_id: str) -> WebexOrg:
    if org_id != ctx.principal.org_id:
        raise ApiError(403, "Not authorized for this organization.")
    return ctx.principal


def start_activation_job(ctx: Ctx, org_id: str) -> HttpResponse:
    """The org-wide resend job; the sandbox runs it at once, so status is final."""
    org = _job_org(ctx, org_id)
    sent = skipped = 0
    for person in WebexPerson.objects.filter(org=org).iterator():
        if person.invite_pending:
            service.invite(person, org, ctx.now)
            sent += 1
        else:
            skipped += 1
    job_id = "Y2lzY29zcGFyazovL3VzL0pPQl9JRC8" + secrets.token_hex(12)
    counts = {
        "userResendInviteSent": sent,
        "userResendInviteFailed": 0,
        "userResendInviteSkipped": skipped,
        "totalUsers": sent + skipped,
    }
    job = WebexJob.objects.create(job_id=job_id, org=org, created=ctx.now, result=counts)
    return json_response(_job_json(job, ctx.tracking, "STARTING", "UNKNOWN"), 202)


def _job_json(job: WebexJob, tracking: str, status: str, exit_code: str) -> dict[str, Any]:
    """Cisco's BulkActivationEmailResendJobDetails: the job, its state and its counts."""
    return {
        "name": "resendinviteemail",
        "id": job.job_id,
        "trackingId": tracking,
        "sourceUserId": webex_id("PEOPLE", "sandbox-service-app"),
        "sourceCustomerId": job.org_id,
        "targetCustomerId": job.org_id,
        "instanceId": 1,
        "latestExecutionStatus": status,
        "latestExecutionExitCode": exit_code,
        "counts": job.result,
    }


def _job(ctx: Ctx, org_id: str, job_id: str) -> WebexJob:
    job = WebexJob.objects.filter(job_id=job_id, org=_job_org(ctx, org_id)).first()
    if job is None:
        raise ApiError(404, "Job not found.")
    return job


def job_status(ctx: Ctx, org_id: str, job_id: str) -> HttpResponse:
    # The sandbox runs the job at once: its status is already final.
    job = _job(ctx, org_id, job_id)
    return json_response(_job_json(job, ctx.tracking, "COMPLETED", "COMPLETED"))


def job_errors(ctx: Ctx, org_id: str, job_id: str) -> HttpResponse:
    _job(ctx, org_id, job_id)
    return json_response({"items": []})


people = route(
    API,
    {
        "GET": Endpoint("people.list", list_people),
        "POST": Endpoint("people.create", create_person),
    },
)
person = route(
    API,
    {
        "GET": Endpoint("people.get", get_person),
        "PUT": Endpoint("people.update", update_person),
        "DELETE": Endpoint("people.delete", delete_person),
    },
)
activation_job = route(API, {"POST": Endpoint("jobs.activation", start_activation_job)})
activation_job_status = route(API, {"GET": Endpoint("jobs.status", job_status)})
activation_job_errors = route(API, {"GET": Endpoint("jobs.errors", job_errors)})


def unknown(request: HttpRequest, rest: str = "") -> HttpResponse:
    tracking = WEBEX.tracking_id()
    resp = WEBEX.render(ApiError(404, "The requested resource could not be found."), tracking)
    resp[WEBEX.tracking_header] = tracking
    return resp
