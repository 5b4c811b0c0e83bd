"""The roles a member can hold, stored as a space-separated, sorted word list.

A plain string keeps cohort queries cheap on SQLite and PostgreSQL alike: no role
name is a substring of another, so ``roles__contains="student"`` is exact.
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

FACULTY = "faculty"
STAFF = "staff"
STUDENT = "student"
ALL_ROLES: tuple[str, ...] = (FACULTY, STAFF, STUDENT)
ROLE_LABELS = {FACULTY: _("faculty"), STAFF: _("staff"), STUDENT: _("student")}


def parse_roles(value: str | list[str] | tuple[str, ...]) -> list[str]:
    """Split, check and sort roles; an unknown role is a ValidationError naming it."""
    words = value.replace(",", " ").split() if isinstance(value, str) else list(value)
    unknown = sorted({word for word in words if word not in ALL_ROLES})
    if unknown:
        raise ValidationError(
            _("Unknown role %(roles)s: roles must be among %(allowed)s."),
            code="unknown_role",
            params={"roles": ", ".join(unknown), "allowed": ", ".join(ALL_ROLES)},
        )
    return sorted(set(words))


def join_roles(roles: list[str]) -> str:
    return " ".join(parse_roles(roles))


def validate_roles(value: str) -> None:
    parse_roles(value)
