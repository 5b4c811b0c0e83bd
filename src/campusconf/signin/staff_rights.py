"""Staff rights from the university's sign-in: an attribute (SAML) or claim (OpenID
Connect) carrying one of the configured values makes the person staff.

The rights are kept as membership of the Django group ``CAMPUSCONF_STAFF_GROUP``, which
``core.staff_access`` honours for pages and API tokens alike, and are set again at every
sign-in: granted when the IdP says so, taken away when it no longer does. With no
attribute or claim configured, sign-in leaves the group alone (rights then come from the
database only).
"""

from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, Group


def _says_staff(values: Any, wanted: list[str]) -> bool:
    if values is None:
        return False
    given = values if isinstance(values, list | tuple | set) else [values]
    return any(str(value) in wanted for value in given)


def from_saml(ava: dict[str, Any]) -> bool | None:
    """None: staff rights are not configured to come from SAML."""
    attribute = settings.CAMPUSCONF_SAML_STAFF_ATTRIBUTE
    wanted = list(settings.CAMPUSCONF_SAML_STAFF_VALUES)
    if not attribute or not wanted:
        return None
    return _says_staff(ava.get(attribute), wanted)


def from_oidc(claims: dict[str, Any]) -> bool | None:
    claim = settings.CAMPUSCONF_OIDC_STAFF_CLAIM
    wanted = list(settings.CAMPUSCONF_OIDC_STAFF_VALUES)
    if not claim or not wanted:
        return None
    return _says_staff(claims.get(claim), wanted)


def sync(user: AbstractBaseUser, staff: bool) -> str:
    """Make the user's group membership say ``staff``: "granted", "removed" or ""."""
    group_name = settings.CAMPUSCONF_STAFF_GROUP
    if not group_name:
        return ""
    groups = user.groups  # type: ignore[attr-defined]
    member = groups.filter(name=group_name).exists()
    if staff and not member:
        group, _created = Group.objects.get_or_create(name=group_name)
        groups.add(group)
        return "granted"
    if not staff and member:
        groups.remove(Group.objects.get(name=group_name))
        return "removed"
    return ""
