"""Webex wire formats: reading people and error bodies (see docs/vendors.md and the
People API reference). Kept apart from the client so each stays readable."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from campusconf.connectors.base import UserState, VendorUser
from campusconf.connectors.http import (
    ContractError,
    decode_json,
    opt_bool,
    opt_datetime,
    opt_str,
    req_list,
    req_str,
)
from campusconf.connectors.wire import Response

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


def person(record: Mapping[str, Any], licence_id: str) -> VendorUser:
    emails = req_list(record, "emails")
    if not emails or not all(isinstance(e, str) for e in emails):
        raise ContractError("field 'emails' is empty or not a list of strings")
    licences = record.get("licenses", [])
    if not isinstance(licences, list) or not all(isinstance(x, str) for x in licences):
        raise ContractError("field 'licenses' is not a list of strings")
    if not opt_bool(record, "loginEnabled", default=True):
        state = UserState.INACTIVE
    elif opt_bool(record, "invitePending"):
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
    """The part of a person a PUT writes. Absent and null fields stay out: PUT refuses
    a null where it wants a string."""
    return {key: record[key] for key in PUT_FIELDS if record.get(key) is not None}
