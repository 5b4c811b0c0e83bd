"""From a SCIM User to a Member: the mapping documented in docs/directory.md.

- common ID: from userName (``<10 digits>@<domain>`` or the bare digits), externalId
  or the enterprise employeeNumber, as CAMPUSCONF_SCIM_COMMON_ID_FROM says;
- Latin names: name.familyName / name.givenName; Japanese names: displayName
  ("山田 太郎", family name first, split on the first ASCII or ideographic space);
- addresses: the primary email (else the first) is the university address, the
  others are aliases;
- roles: the core ``roles`` values (else the words of ``userType``), or the Groups
  named faculty / staff / student when CAMPUSCONF_SCIM_ROLES_FROM is ``groups``;
- affiliation: the enterprise department (else organization); its Japanese name: our
  extension's departmentJa (scim/schema.py);
- preferredLanguage: ja or en; active=false: the member has left, today.
"""

from __future__ import annotations

import datetime
import re
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import translation
from scim2_models import InvalidValueException, UniquenessException

from campusconf.directory.models import ScimUser
from campusconf.directory.scim.schema import CAMPUSCONF, DEPARTMENT_JA
from campusconf.members.actions import AddressTaken, save_directory_member
from campusconf.members.models import Member
from campusconf.members.roles import ALL_ROLES

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
COMMON_ID = re.compile(r"[0-9]{10}")


def derive_common_id(data: dict[str, Any]) -> str | None:
    rule = settings.CAMPUSCONF_SCIM_COMMON_ID_FROM
    if rule == "externalId":
        raw = data.get("externalId")
    elif rule == "employeeNumber":
        raw = (data.get(ENTERPRISE) or {}).get("employeeNumber")
    else:
        raw = data.get("userName")
    local = str(raw or "").strip().split("@", 1)[0]
    return local if COMMON_ID.fullmatch(local) else None


def addresses_of(data: dict[str, Any]) -> list[str]:
    emails = [e for e in data.get("emails") or [] if isinstance(e, dict) and e.get("value")]
    emails.sort(key=lambda e: not e.get("primary"))  # stable: the primary first
    seen: set[str] = set()
    result = []
    for email in emails:
        value = str(email["value"]).strip()
        if value.lower() not in seen:
            seen.add(value.lower())
            result.append(value)
    return result


def roles_of(data: dict[str, Any], group_names: list[str]) -> list[str]:
    if settings.CAMPUSCONF_SCIM_ROLES_FROM == "groups":
        words = [name.lower() for name in group_names]
    else:
        words = [str(r.get("value", "")).lower() for r in data.get("roles") or []]
        if not words:
            words = re.split(r"[\s,;]+", str(data.get("userType") or "").lower())
    return sorted({w for w in words if w in ALL_ROLES})


def _japanese_names(display_name: str) -> tuple[str, str]:
    parts = re.split(r"[ \u3000]+", display_name.strip(), maxsplit=1)
    if len(parts) == 2 and not display_name.isascii():
        return parts[0][:100], parts[1][:100]
    return "", ""


def member_fields(data: dict[str, Any], group_names: list[str]) -> tuple[dict[str, Any], str]:
    """The Member fields a user carries, and why no member can be made ("" if one can)."""
    name = data.get("name") or {}
    family, given = str(name.get("familyName") or ""), str(name.get("givenName") or "")
    family_ja, given_ja = _japanese_names(str(data.get("displayName") or ""))
    enterprise = data.get(ENTERPRISE) or {}
    language = str(data.get("preferredLanguage") or "ja")[:2].lower()
    fields = {
        "family_name_latin": family[:100],
        "given_name_latin": given[:100],
        "family_name_ja": family_ja,
        "given_name_ja": given_ja,
        "affiliation": str(enterprise.get("department") or enterprise.get("organization") or "")[
            :200
        ],
        "affiliation_ja": str((data.get(CAMPUSCONF) or {}).get(DEPARTMENT_JA) or "")[:200],
        "roles": " ".join(roles_of(data, group_names)),
        "preferred_language": language if language in ("ja", "en") else "ja",
    }
    rule = settings.CAMPUSCONF_SCIM_COMMON_ID_FROM
    if derive_common_id(data) is None:
        return fields, f"no 10-digit common ID in {rule}"
    if not family or not given:
        return fields, "name.familyName and name.givenName are needed"
    if not fields["roles"]:
        return fields, "no role among " + ", ".join(ALL_ROLES)
    if not addresses_of(data):
        return fields, "no email address"
    return fields, ""


def sync_member(
    member: Member | None,
    common_id: str,
    fields: dict[str, Any],
    addresses: list[str],
    active: bool,
    today: datetime.date | None = None,
) -> Member:
    """Create or update the member a SCIM user feeds; raise a SCIM error and change nothing.

    Runs inside the request's transaction: an error rolls back what came before. The
    rules (addresses unique whatever their case, valid, the common ID fixed) are
    ``members.actions``'; this only says them in SCIM's words.
    """
    # SCIM's errors are for the client's logs, in English whatever the site's language.
    with translation.override("en"):
        try:
            return save_directory_member(
                member, common_id, fields, addresses, active=active, today=today
            )
        except AddressTaken as error:
            raise UniquenessException(detail="; ".join(error.messages)) from error
        except ValidationError as error:
            raise InvalidValueException(detail="; ".join(error.messages)) from error


def pending_records() -> Any:
    """SCIM users that feed no member (no common ID, no role…): for the back office."""
    return ScimUser.objects.filter(member__isnull=True).order_by("-updated_at")
