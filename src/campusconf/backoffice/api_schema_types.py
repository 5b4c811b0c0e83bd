"""The JSON Schemas the staff API's description is made of: texts, reasons, the resources.

The API checks every query and body against these very schemas before a view sees it
(``views/api_http.py``), so what the description allows and what the API accepts are
one thing. A rule the views add on top (the pages' forms) must be written here too, or
a schema-valid request would be refused: schemathesis's positive checks catch that.
"""

from typing import Any

from campusconf.accounts.reasons import Reason
from campusconf.accounts.states import State

STATES = [state.value for state in State]
REASON_CODES = [reason.value for reason in Reason]
INQUIRY_STATUSES = ["open", "waiting", "resolved"]
CAMPAIGN_STATUSES = ["scheduled", "enrolling", "running", "paused", "cancelled", "done"]
ACCOUNT_ACTIONS = ["resend", "retry", "reconcile", "suspend", "deprovision", "reprovision"]
CAMPAIGN_ACTIONS = ["pause", "resume", "cancel"]
ROLES = ["faculty", "staff", "student"]

# Databases store 64-bit integers; an offset past this is a mistake, not a page.
MAX_OFFSET = 10_000_000
MAX_ID = 2**63 - 1

# The characters Python's str.strip() removes, as the forms strip every text: a reason
# of three spaces is empty to them, so the pattern must say so too. Written out rather
# than \s, which means a different set in each regex engine (Python, Rust, ECMA).
SPACE = (
    "\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a"
    "\\u2028\\u2029\\u202f\\u205f\\u3000"
)
# At least three characters once stripped, and no NUL anywhere (PostgreSQL text cannot
# hold it; Django's forms refuse it).
STRIPPED_3 = f"^[{SPACE}]*[^{SPACE}\\x00][^\\x00]+[^{SPACE}\\x00][{SPACE}]*$"
NO_NUL = "^[^\\x00]*$"

TEXT: dict[str, Any] = {"type": "string", "pattern": NO_NUL, "x-error": "no_nul"}
REASON: dict[str, Any] = {
    "type": "string",
    "minLength": 3,
    "maxLength": 2000,
    "pattern": STRIPPED_3,
    "x-error": "three_characters",
    "description": "why: saved in the audit log; at least 3 characters besides spaces",
}
REPLY_BODY: dict[str, Any] = {
    "type": "string",
    "minLength": 3,
    "maxLength": 10000,
    "pattern": STRIPPED_3,
    "x-error": "three_characters",
}
# A cut-off date and a start time in the centuries a campaign can mean: the forms and
# the database take dates from year 1 to 9999, RFC 3339 from 0000.
DATE: dict[str, Any] = {
    "type": "string",
    "format": "date",
    "pattern": "^(19|20)[0-9]{2}-[0-9]{2}-[0-9]{2}$",
    "x-error": "date",
}
START_AT: dict[str, Any] = {
    "type": "string",
    "format": "date-time",
    "pattern": (
        "^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-5][0-9]:[0-5][0-9]"
        "(\\.[0-9]{1,6})?(Z|[+-][0-9]{2}:[0-9]{2})$"
    ),
    "x-error": "date_time",
    "description": "RFC 3339, in the future; a past time is refused with 409",
}
COMMON_ID: dict[str, Any] = {"type": "string", "pattern": "^[0-9]{10}$", "x-error": "common_id"}
NULLABLE_TIME: dict[str, Any] = {"type": "string", "format": "date-time", "nullable": True}
ID: dict[str, Any] = {"type": "integer", "minimum": 1, "maximum": MAX_ID}


def closed_object(properties: dict[str, Any], required: list[str], **more: Any) -> dict[str, Any]:
    """A body: these properties and no others, so a misspelt name is refused, not ignored
    (a campaign whose "role" filter was silently dropped would invite everyone)."""
    schema = {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
        **more,
    }
    if required:
        schema["required"] = required
    return schema


NEW_CAMPAIGN = closed_object(
    {
        "service": {**TEXT, "minLength": 1, "maxLength": 50},
        "roles": {"type": "array", "items": {"type": "string", "enum": ROLES}},
        "created_before": DATE,
        "affiliations": {"type": "array", "items": {**TEXT, "minLength": 1, "maxLength": 200}},
        "common_ids": {"type": "array", "items": COMMON_ID},
        "start_at": START_AT,
        "dry_run": {"type": "boolean"},
        "reason": REASON,
    },
    ["service"],
    allOf=[
        {
            "x-error": "empty_cohort",
            "anyOf": [
                {"required": ["roles"], "properties": {"roles": {"minItems": 1}}},
                {"required": ["created_before"]},
                {"required": ["affiliations"], "properties": {"affiliations": {"minItems": 1}}},
                {"required": ["common_ids"], "properties": {"common_ids": {"minItems": 1}}},
            ],
        },
        {
            "x-error": "reason_unless_dry_run",
            "anyOf": [
                {"required": ["dry_run"], "properties": {"dry_run": {"enum": [True]}}},
                {"required": ["reason"]},
            ],
        },
    ],
)

ERROR: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "string"}},
}
# The member's affiliation: the English name (the key campaigns and eligibility match
# on) and the Japanese name, "" when the directory gave none; a script picks its own.
AFFILIATION: dict[str, Any] = {
    "affiliation": {"type": "string", "maxLength": 200},
    "affiliation_ja": {"type": "string", "maxLength": 200},
}
ACCOUNT: dict[str, Any] = {
    "type": "object",
    "required": ["id", "common_id", "service", "state", "desired_state"],
    "properties": {
        "id": {"type": "integer"},
        "common_id": {"type": "string", "pattern": "^[0-9]{10}$"},
        **AFFILIATION,
        "service": {"type": "string"},
        "state": {"type": "string", "enum": STATES},
        "desired_state": {"type": "string", "enum": ["present", "absent"]},
        "observed_state": {"type": "string"},
        "vendor_user_id": {"type": "string"},
        "vendor_address": {"type": "string"},
        "invitation_sent_at": NULLABLE_TIME,
        "invitation_expires_at": NULLABLE_TIME,
        "activated_at": NULLABLE_TIME,
        "last_error_code": {"type": "string"},
        # The reason in the caller's language; the code beside it for scripts.
        "last_error_message": {"type": "string"},
        "last_error_reason": {"type": "string", "enum": ["", *REASON_CODES]},
    },
}
CAMPAIGN: dict[str, Any] = {
    "type": "object",
    "required": [
        "id",
        "service",
        "status",
        "planned",
        "done",
        "failed",
        "remaining",
        "retrying",
        "last_error",
        "waiting_for_seat",
        "per_minute",
        "finish_at",
    ],
    "properties": {
        "id": {"type": "integer"},
        "service": {"type": "string"},
        "status": {"type": "string", "enum": CAMPAIGN_STATUSES},
        "cohort": {"type": "object"},
        "planned": {"type": "integer"},
        "skipped": {"type": "integer"},
        "done": {"type": "integer"},
        "failed": {"type": "integer"},
        "remaining": {"type": "integer"},
        "retrying": {"type": "integer", "minimum": 0},
        "last_error": {"type": "string"},
        "waiting_for_seat": {"type": "integer", "minimum": 0},
        "per_minute": {"type": "number", "minimum": 0},
        "finish_at": NULLABLE_TIME,
        "start_at": NULLABLE_TIME,
        "created_at": {"type": "string", "format": "date-time"},
    },
}
PREVIEW: dict[str, Any] = {
    "type": "object",
    "required": ["dry_run", "in_cohort", "to_invite", "already_live", "sample"],
    "properties": {
        "dry_run": {"type": "boolean", "enum": [True]},
        "in_cohort": {"type": "integer", "minimum": 0},
        "to_invite": {"type": "integer", "minimum": 0},
        "already_live": {"type": "integer", "minimum": 0},
        "sample": {"type": "array", "items": {"type": "string"}},
        "unknown_ids": {"type": "array", "items": {"type": "string"}},
    },
}
INQUIRY: dict[str, Any] = {
    "type": "object",
    "required": ["id", "common_id", "topic", "status", "created_at"],
    "properties": {
        "id": {"type": "integer"},
        "common_id": {"type": "string"},
        **AFFILIATION,  # as it was when the member asked
        "service": {"type": "string", "nullable": True},
        "account_id": {"type": "integer", "nullable": True},
        "topic": {"type": "string"},
        "status": {"type": "string", "enum": INQUIRY_STATUSES},
        "account_state_when_asked": {"type": "string"},
        "what_happened": {"type": "string"},
        "created_at": {"type": "string", "format": "date-time"},
    },
}
