"""Webex wire formats: reading people and error bodies (see docs/vendors.md and the
People API reference). Kept apart from the client so each stays readable."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from campusconf.connectors.base import UserSpec, UserState, VendorUser
from campusconf.connectors.http_helpers import (
    ContractError,
    decode_json,
    opt_datetime,
    opt_str,
    req_dict,
    req_list,
    req_str,
)
from campusconf.connectors.transport.http_client import Response

# The fields PUT /people/{id} accepts. PUT replaces the whole person, so an
# update copies these from the current record and changes only what it means to.
PUT_FIELDS = (
    "emails",
    "phoneNumbers",
    "extension",
    "locationId",
    "displayName",
    "firstName",
    "lastName",
    "nickName",
    "avatar",
    "orgId",
    "roles",
    "licenses",
    "department",
    "manager",
    "managerId",
    "title",
    "addresses",
    "siteUrls",
    "loginEnabled",
)


def error_fields(answer: Response) -> tuple[str, str | None]:
    """Webex's {"message", "errors": [{"description"}], "trackingId"}, read leniently."""
    try:
        body = decode_json(answer)
    except ContractError:
        return answer.text[:200], None
    if not isinstance(body, dict):
        return "", None
    message = body.get("message") if isinstance(body.get("message"), str) else ""
    errors = body.get("errors")
    if isinstance(errors, list):
        details = [
            e["description"]
            for e in errors
            if isinstance(e, dict) and isinstance(e.get("description"), str)
        ]
        details = [d for d in details if d and d != message]
        message = "; ".join([m for m in [message, *details] if m])
    tracking = body.get("trackingId")
    return str(message), tracking if isinstance(tracking, str) else None


# Webex returns these two only to an admin of the person's organisation (W-a).
ADMIN_ONLY = "Webex returns it only to an admin of the person's organisation"


def admin_flag(record: Mapping[str, Any], key: str) -> bool:
    """``invitePending`` or ``loginEnabled``: Cisco's spec types them as the strings
    "true"/"false", SDKs and samples show booleans; both are read (W-a).

    Absent means the caller is not an admin of the person's organisation, so whether the
    person is invited, active or disabled is unknown. That is never read as active: the
    answer cannot be used, and the call fails as a broken contract naming the cause.
    """
    value = record.get(key)
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return bool(value == "true")
    if value is None:
        raise ContractError(f"field {key!r} is missing: {ADMIN_ONLY}")
    raise ContractError(f"field {key!r} is neither a boolean nor 'true'/'false': {value!r}")


def person(record: Mapping[str, Any], licence_id: str) -> VendorUser:
    emails = req_list(record, "emails")
    if not emails or not all(isinstance(e, str) for e in emails):
        raise ContractError("field 'emails' is empty or not a list of strings")
    licences = record.get("licenses", [])
    if not isinstance(licences, list) or not all(isinstance(x, str) for x in licences):
        raise ContractError("field 'licenses' is not a list of strings")
    if not admin_flag(record, "loginEnabled"):
        state = UserState.INACTIVE
    elif admin_flag(record, "invitePending"):
        state = UserState.PENDING
    else:
        state = UserState.ACTIVE
    return VendorUser(
        vendor_id=req_str(record, "id"),
        email=emails[0],
        first_name=opt_str(record, "firstName"),
        last_name=opt_str(record, "lastName"),
        display_name=opt_str(record, "displayName"),
        state=state,
        licensed=licence_id in licences,
        created=opt_datetime(record, "created"),
        # Webex reports activity, not sign-ins; it is the closest there is.
        last_login=opt_datetime(record, "lastActivity"),
        raw=record,
    )


def put_body(record: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a person a PUT writes: PUT replaces the whole person (W-d), so every
    field it accepts goes back as read. Absent and null fields stay out (PUT refuses a
    null where it wants a string); ``loginEnabled`` goes as the boolean PUT takes, though
    a read may give it as a string."""
    body = {key: record[key] for key in PUT_FIELDS if record.get(key) is not None}
    if "loginEnabled" in body:
        body["loginEnabled"] = admin_flag(body, "loginEnabled")
    return body


def choose_licence(body: Any, licence_name: str) -> str | list[str]:
    """The licence id from ``GET /licenses``: the one named ``licence_name``, else the
    org's only licence. The candidates' names when there is not exactly one."""
    items = req_list(req_dict(body, "licences"), "items")
    names = {req_str(i, "id"): opt_str(i, "name") for i in map(_record, items)}
    if licence_name:
        matches = [i for i, name in names.items() if name == licence_name]
    else:
        matches = list(names)  # unambiguous only when the org has one licence
    return matches[0] if len(matches) == 1 else sorted(names.values())


def licences_after_patch(body: Any) -> set[str]:
    """The licences a person holds after ``PATCH /licenses/users`` (200, or 206 when
    only some could be assigned, W-b), pending ones (a person outside the org) counted."""
    record = req_dict(body, "licence answer")
    held: set[str] = set()
    for key in ("licenses", "pendingLicenses"):
        value = record.get(key, [])
        if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
            raise ContractError(f"field {key!r} is not a list of strings")
        held.update(value)
    return held


def _record(value: Any) -> dict[str, Any]:
    return req_dict(value, "licence")


def create_body(spec: UserSpec, licence: str) -> dict[str, Any]:
    """``POST /people``: one address, the names, the licence. No ``callingData``: the
    documented "400 although created" concerns requests with it (W-c)."""
    return {
        "emails": [spec.email],
        "displayName": spec.display_name,
        "firstName": spec.first_name,
        "lastName": spec.last_name,
        "licenses": [licence] if spec.licensed else [],
    }
