"""Reading and checking a CSV roster, row by row, before anything touches the database.

The format is described in docs/directory.md. Every problem becomes a ``RowError``
(line, column, reason) so that the person who made the file can fix it in one go.
"""

from __future__ import annotations

import csv
import datetime
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TypeVar, cast

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from campusconf.members.roles import ALL_ROLES

COLUMNS: tuple[str, ...] = (
    "common_id",
    "family_name_ja",
    "given_name_ja",
    "family_name_latin",
    "given_name_latin",
    "affiliation",
    "affiliation_ja",
    "roles",
    "university_account_created_on",
    "mail_address",
    "aliases",
    "preferred_language",
    "status",
    "left_on",
)
REQUIRED_COLUMNS: tuple[str, ...] = (
    "common_id",
    "family_name_latin",
    "given_name_latin",
    "roles",
    "university_account_created_on",
    "mail_address",
)
# The same lengths as the Member model's columns.
MAX_LENGTHS = {
    "family_name_ja": 100,
    "given_name_ja": 100,
    "family_name_latin": 100,
    "given_name_latin": 100,
    "affiliation": 200,
    "affiliation_ja": 200,
}
LANGUAGES = ("ja", "en")
# ASCII digits only: \d would let full-width digits from a spreadsheet through.
COMMON_ID = re.compile(r"[0-9]{10}")
LIST_SEPARATORS = re.compile(r"[\s;,]+")
S = TypeVar("S")


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    field: str
    code: str
    message: str

    def __str__(self) -> str:
        return _("line %(line)d, %(field)s: %(message)s") % {
            "line": self.line,
            "field": self.field,
            "message": self.message,
        }


@dataclass(frozen=True, slots=True)
class RosterRow:
    line: int
    common_id: str
    family_name_ja: str
    given_name_ja: str
    family_name_latin: str
    given_name_latin: str
    affiliation: str
    affiliation_ja: str
    roles: str
    university_account_created_on: datetime.date
    preferred_language: str
    left_on: datetime.date | None  # None: the member is active
    addresses: tuple[str, ...]  # the primary address first, then the aliases

    @property
    def status(self) -> str:
        return "active" if self.left_on is None else "left"

    def member_values(self) -> tuple[object, ...]:
        """The Member columns this row sets, in ``MEMBER_FIELDS`` order."""
        return (
            self.family_name_ja,
            self.given_name_ja,
            self.family_name_latin,
            self.given_name_latin,
            self.affiliation,
            self.affiliation_ja,
            self.roles,
            self.status,
            self.left_on,
            self.university_account_created_on,
            self.preferred_language,
        )


MEMBER_FIELDS: tuple[str, ...] = (
    "family_name_ja",
    "given_name_ja",
    "family_name_latin",
    "given_name_latin",
    "affiliation",
    "affiliation_ja",
    "roles",
    "status",
    "left_on",
    "university_account_created_on",
    "preferred_language",
)


def check_header(header: Iterable[str] | None) -> list[RowError]:
    if header is None:
        return [RowError(1, "-", "empty", _("The file is empty: it needs a header line."))]
    names = [name.strip() for name in header]
    errors = [
        RowError(1, name, "unknown_column", _("Unknown column."))
        for name in names
        if name not in COLUMNS
    ]
    errors += [
        RowError(1, name, "missing_column", _("This column is required."))
        for name in REQUIRED_COLUMNS
        if name not in names
    ]
    errors += [
        RowError(1, name, "duplicate_column", _("This column appears twice."))
        for name in sorted({n for n in names if names.count(n) > 1})
    ]
    return errors


def _parse_date(value: str) -> datetime.date:
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        raise ValueError(value)
    return datetime.date.fromisoformat(value)


def parse_row(
    line: int, raw: dict[str, str], shared: dict[object, object] | None = None
) -> tuple[RosterRow | None, list[RowError]]:
    """One CSV record as a ``RosterRow``, or the list of everything wrong with it.

    ``shared`` keeps one copy of values many rows repeat (roles, affiliations,
    family names, dates), which halves the memory a large roster takes.
    """
    errors: list[RowError] = []

    def share(value: S) -> S:
        return value if shared is None else cast(S, shared.setdefault(value, value))

    def fail(field: str, code: str, message: str) -> None:
        errors.append(RowError(line, field, code, message))

    value = {name: (raw.get(name) or "").strip() for name in COLUMNS}
    if None in raw:  # csv puts the surplus cells of a long row under the key None
        fail("-", "too_many_cells", _("The row has more cells than the header has columns."))
    common_id = value["common_id"]
    if not COMMON_ID.fullmatch(common_id):
        fail("common_id", "common_id_format", _("A common ID is exactly 10 digits."))
    for name in ("family_name_latin", "given_name_latin"):
        if not value[name]:
            fail(name, "required", _("This field is required."))
    for name, limit in MAX_LENGTHS.items():
        if len(value[name]) > limit:
            fail(name, "too_long", _("At most %(limit)d characters.") % {"limit": limit})
    if value["affiliation_ja"] and not value["affiliation"]:
        # The English name is the key campaigns and eligibility match on.
        fail(
            "affiliation_ja",
            "affiliation_ja_alone",
            _("A Japanese affiliation needs the English one in the affiliation column."),
        )
    words = [w for w in LIST_SEPARATORS.split(value["roles"]) if w]
    unknown = sorted({w for w in words if w not in ALL_ROLES})
    if not words:
        fail("roles", "required", _("A member needs at least one role."))
    elif unknown:
        fail(
            "roles",
            "unknown_role",
            _("Unknown role %(roles)s: roles must be among %(allowed)s.")
            % {"roles": ", ".join(unknown), "allowed": ", ".join(ALL_ROLES)},
        )
    created_on = left_on = None
    try:
        created_on = _parse_date(value["university_account_created_on"])
    except ValueError:
        fail(
            "university_account_created_on",
            "date_format",
            _("A date is written YYYY-MM-DD, for example 2024-04-01."),
        )
    status = value["status"].lower() or "active"
    if status not in ("active", "left"):
        fail("status", "unknown_status", _("The status is either active or left."))
    if value["left_on"]:
        try:
            left_on = _parse_date(value["left_on"])
        except ValueError:
            fail(
                "left_on", "date_format", _("A date is written YYYY-MM-DD, for example 2024-04-01.")
            )
    if status == "left" and left_on is None and not value["left_on"]:
        fail("left_on", "required", _("A member who has left needs the date they left."))
    if status == "active" and value["left_on"]:
        fail("left_on", "unexpected", _("Only a member who has left has a leaving date."))
    language = value["preferred_language"].lower() or "ja"
    if language not in LANGUAGES:
        fail("preferred_language", "unknown_language", _("The language is either ja or en."))
    addresses = _parse_addresses(value["mail_address"], value["aliases"], fail)
    if errors or created_on is None:
        return None, errors
    return (
        RosterRow(
            line=line,
            common_id=common_id,
            family_name_ja=share(value["family_name_ja"]),
            given_name_ja=share(value["given_name_ja"]),
            family_name_latin=share(value["family_name_latin"]),
            given_name_latin=value["given_name_latin"],
            affiliation=share(value["affiliation"]),
            affiliation_ja=share(value["affiliation_ja"]),
            roles=share(" ".join(sorted(set(words)))),
            university_account_created_on=share(created_on),
            preferred_language=share(language),
            left_on=share(left_on) if status == "left" else None,
            addresses=addresses,
        ),
        [],
    )


def _parse_addresses(
    primary: str, aliases: str, fail: Callable[[str, str, str], None]
) -> tuple[str, ...]:
    if not primary:
        fail("mail_address", "required", _("A member needs a university mail address."))
    addresses = [primary] if primary else []
    addresses += [a for a in LIST_SEPARATORS.split(aliases) if a]
    seen: set[str] = set()
    for index, address in enumerate(addresses):
        field = "mail_address" if index == 0 and primary else "aliases"
        try:
            if len(address) > 254:
                raise ValidationError("too long")
            validate_email(address)
        except ValidationError:
            fail(
                field,
                "invalid_address",
                _("%(address)s is not a valid mail address.") % {"address": address},
            )
        if address.lower() in seen:
            fail(field, "duplicate_address", _("The same address is listed twice."))
        seen.add(address.lower())
    return tuple(addresses)


def read_rows(lines: Iterable[str]) -> Iterator[tuple[RosterRow | None, list[RowError]]]:
    """Parse a roster; the first item carries the header's errors (and no row)."""
    reader = csv.DictReader(lines)
    try:
        header = reader.fieldnames
    except csv.Error as error:
        yield None, [RowError(1, "-", "csv", _("Not a CSV file: %(error)s") % {"error": error})]
        return
    header_errors = check_header(header)
    yield None, header_errors
    if header_errors:
        return
    reader.fieldnames = [name.strip() for name in header or ()]
    shared: dict[object, object] = {}
    while True:
        try:
            raw = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            message = _("Not a CSV file: %(error)s") % {"error": error}
            # DictReader copies line_num only after a row is read whole: on an error it
            # still names the line before; the underlying reader's count is the line's.
            yield None, [RowError(reader.reader.line_num, "-", "csv", message)]
            return
        if not any((cell or "").strip() for cell in raw.values() if isinstance(cell, str)):
            continue  # blank lines carry no member
        yield parse_row(reader.line_num, raw, shared)
