"""Webex people: the shape on the wire and the actions the API and the pages share."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from vendor_sandbox import clock, links, mail
from vendor_sandbox.conf import CONFIG
from vendor_sandbox.credentials import webex_id
from vendor_sandbox.models import PersonalAccount, SandboxState, WebexOrg, WebexPerson

# Documented Person fields we keep as given and echo back.
EXTRA_FIELDS = (
    "phoneNumbers",
    "extension",
    "locationId",
    "avatar",
    "manager",
    "managerId",
    "addresses",
    "siteUrls",
    "timezone",
    "department",
    "title",
)
ACTIVE_WINDOW = timedelta(minutes=10)
INVITATION_LINK = "webex_activate"
INVITATION_MAIL = "webex_invite"  # the mail's kind and its template


def invitation_subject(org_name: str) -> str:
    return f"{org_name} has invited you to Cisco Webex"


def invitation_context(url: str, display_name: str) -> dict[str, object]:
    return {"links": {"Activate": url}, "display_name": display_name}


def new_person_id() -> str:
    return webex_id("PEOPLE", str(uuid.uuid4()))


def status(person: WebexPerson, now: datetime) -> str:
    """Presence: ``pending`` until first sign-in, then active for a while after activity."""
    if person.last_activity is None:
        return "pending"
    return "active" if now - person.last_activity < ACTIVE_WINDOW else "inactive"


def to_json(
    person: WebexPerson, now: datetime, presence: bool = True, flags: str = "strings"
) -> dict[str, Any]:
    """The person as Webex answers an admin. ``flags`` is the variant
    ``webex_admin_flags``: Cisco's spec types invitePending and loginEnabled as the strings
    "true"/"false" (the default); "booleans" answers JSON booleans, as SDKs show them."""
    data: dict[str, Any] = {
        "id": person.person_id,
        "emails": [person.email],
        "phoneNumbers": person.extra.get("phoneNumbers", []),
        "displayName": person.display_name,
    }
    for key, value in (
        ("nickName", person.nick_name),
        ("firstName", person.first_name),
        ("lastName", person.last_name),
    ):
        if value:
            data[key] = value
    data["orgId"] = person.org_id
    data["roles"] = person.roles
    data["licenses"] = person.licenses
    for key in EXTRA_FIELDS:
        if key != "phoneNumbers" and key in person.extra:
            data[key] = person.extra[key]
    data["created"] = clock.iso(person.created, millis=True)
    data["lastModified"] = clock.iso(person.last_modified, millis=True)
    if presence:
        if person.last_activity:
            data["lastActivity"] = clock.iso(person.last_activity, millis=True)
        data["status"] = status(person, now)
    data["invitePending"] = _flag(person.invite_pending, flags)
    data["loginEnabled"] = _flag(person.login_enabled, flags)
    data["type"] = "person"
    return data


def _flag(value: bool, flags: str) -> bool | str:
    if flags == "booleans":
        return bool(value)
    return "true" if value else "false"


def domain_verified(email: str) -> bool:
    """Whether the org has verified the address's mail domain (W-f): then Webex claims a
    free account at that address (the conversion mail, S7); otherwise it cannot be added."""
    stored = SandboxState.objects.values_list("webex_verified_domains", flat=True).first()
    domains = CONFIG.webex_verified_domains if stored is None else tuple(stored)
    domain = email.rsplit("@", 1)[-1].lower()
    return "*" in domains or domain in domains


def invite(person: WebexPerson, org: WebexOrg, now: datetime) -> None:
    """Mail the invitation, or the conversion request when a personal account exists.

    A new invitation restarts the expiry clock (``invited_at`` and a fresh link).
    """
    person.invited_at = now
    person.save(update_fields=["invited_at"])
    personal = PersonalAccount.objects.filter(vendor="webex", email=person.email).exists()
    if personal:
        url = links.new("webex_convert", person.email, person.person_id, now)
        mail.send(
            "webex",
            "webex_convert",
            person.email,
            "Convert to Enterprise Account",
            "webex_convert",
            {"links": {"Review": url}},
        )
    else:
        url = links.new(INVITATION_LINK, person.email, person.person_id, now)
        mail.send(
            "webex",
            INVITATION_MAIL,
            person.email,
            invitation_subject(org.name),
            INVITATION_MAIL,
            invitation_context(url, person.display_name),
        )


def send_reset(person: WebexPerson, now: datetime) -> None:
    url = links.new("webex_reset", person.email, person.person_id, now)
    mail.send(
        "webex",
        "webex_reset",
        person.email,
        "Reset your Cisco Webex password",
        "webex_reset",
        {"links": {"Reset Password": url}, "reset_url": url},
    )
