"""Importing a CSV roster: all rows checked first, then applied in one transaction.

``import_roster`` is the one action behind ``campusconf import-roster`` and the back
office upload. It reads the whole current directory into dictionaries once, so that
100,000 rows cost a handful of queries rather than 100,000 of them.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _

from campusconf.directory.roster_format import MEMBER_FIELDS, RosterRow, RowError, read_rows
from campusconf.members.models import Member, MemberAddress

logger = logging.getLogger(__name__)
# Rows per INSERT: under SQLite's 32,766 bound parameters with Member's 13 columns.
BATCH = 2000
T = TypeVar("T")
STATUS = MEMBER_FIELDS.index("status")


@dataclass
class RosterReport:
    errors: list[RowError] = field(default_factory=list)
    rows: int = 0
    created: int = 0
    updated: int = 0
    addresses_changed: int = 0
    left: int = 0
    unchanged: int = 0
    applied: bool = False
    refused_mass_change: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors and not self.refused_mass_change

    @property
    def writes(self) -> int:
        return self.created + self.updated + self.addresses_changed + self.left


@dataclass
class _Plan:
    create: list[RosterRow] = field(default_factory=list)
    update: list[tuple[int, RosterRow]] = field(default_factory=list)
    readdress: list[tuple[int, RosterRow]] = field(default_factory=list)
    leave: list[int] = field(default_factory=list)


def mass_change_limit(member_count: int) -> int:
    """How many members one import may mark as left without ``allow_mass_change``."""
    percent = settings.CAMPUSCONF_MASS_CHANGE_PERCENT
    return min(member_count * percent // 100, settings.CAMPUSCONF_MASS_CHANGE_MAX)


def import_roster(
    lines: Iterable[str],
    *,
    full: bool = False,
    dry_run: bool = False,
    allow_mass_change: bool = False,
    today: datetime.date | None = None,
) -> RosterReport:
    """Check every row, then apply the roster in one transaction, or change nothing.

    ``full``: members missing from the file are marked as left on ``today`` — refused
    when more than ``mass_change_limit`` would leave, unless ``allow_mass_change``.
    ``dry_run``: report what would change and write nothing.
    """
    today = today or timezone.localdate()
    report = RosterReport()
    try:
        with transaction.atomic():
            # Reading and writing in one transaction: nobody changes the directory
            # between the checks and the writes.
            plan = _plan(lines, report, full=full, today=today)
            if report.errors:
                return report
            limit = mass_change_limit(_member_count())
            if full and len(plan.leave) > limit and not allow_mass_change:
                report.refused_mass_change = True
                logger.warning(
                    "roster refused: %d members would leave, limit %d", len(plan.leave), limit
                )
                return report
            if dry_run:
                return report
            _apply(plan, today)
            report.applied = True
    except IntegrityError as error:  # a concurrent writer beat us to an address or ID
        logger.warning("roster refused by the database: %s", error)
        report.errors.append(
            RowError(0, "-", "conflict", _("The directory changed during the import: try again."))
        )
        report.applied = False
    logger.info(
        "roster %s: rows=%d created=%d updated=%d addresses=%d left=%d unchanged=%d",
        "applied" if report.applied else "checked",
        report.rows,
        report.created,
        report.updated,
        report.addresses_changed,
        report.left,
        report.unchanged,
    )
    return report


def _member_count() -> int:
    return Member.objects.filter(status=Member.Status.ACTIVE).count()


def _plan(lines: Iterable[str], report: RosterReport, *, full: bool, today: datetime.date) -> _Plan:
    # Only a fingerprint of each member is kept, not its values: 100,000 members fit
    # in a few tens of megabytes, and a row changed iff its fingerprint differs.
    members: dict[str, tuple[int, int, bool]] = {
        row[0]: (row[1], hash(row[2:]), row[2 + STATUS] == Member.Status.ACTIVE)
        for row in Member.objects.values_list("common_id", "pk", *MEMBER_FIELDS).iterator(
            chunk_size=BATCH
        )
    }
    owners: dict[str, str] = {}  # lower-cased address -> its owner's common ID
    held_lists: dict[str, list[tuple[str, bool]]] = {}
    for address, is_primary, common_id in MemberAddress.objects.values_list(
        "address", "is_primary", "member__common_id"
    ).iterator(chunk_size=BATCH):
        owners[address.lower()] = common_id
        held_lists.setdefault(common_id, []).append((address, is_primary))
    held = {cid: hash(tuple(sorted(pairs))) for cid, pairs in held_lists.items()}
    del held_lists

    plan = _Plan()
    seen_ids: dict[str, int] = {}
    seen_addresses: dict[str, int] = {}
    checked: list[RosterRow] = []
    for row, errors in read_rows(lines):
        report.errors.extend(errors)
        if row is None:
            continue
        report.rows += 1
        if row.common_id in seen_ids:
            report.errors.append(_duplicate(row.line, "common_id", seen_ids[row.common_id]))
            continue
        seen_ids[row.common_id] = row.line
        for index, address in enumerate(row.addresses):
            key = address.lower()
            column = "mail_address" if index == 0 else "aliases"
            if key in seen_addresses:
                report.errors.append(_duplicate(row.line, column, seen_addresses[key]))
            seen_addresses[key] = row.line
        checked.append(row)
    # An address held in the database by someone absent from the file cannot move.
    for row in checked:
        for index, address in enumerate(row.addresses):
            owner = owners.get(address.lower())
            if owner and owner != row.common_id and owner not in seen_ids:
                report.errors.append(
                    RowError(
                        row.line,
                        "mail_address" if index == 0 else "aliases",
                        "address_taken",
                        _("%(address)s is already used by another member.") % {"address": address},
                    )
                )
    for error in report.errors:
        logger.warning(
            "roster row rejected: line=%d field=%s code=%s", error.line, error.field, error.code
        )
    if report.errors:
        return plan

    for row in checked:
        current = members.get(row.common_id)
        if current is None:
            plan.create.append(row)
            continue
        changed = False
        if current[1] != hash(row.member_values()):
            plan.update.append((current[0], row))
            changed = True
        wanted = tuple(sorted((a, i == 0) for i, a in enumerate(row.addresses)))
        if held.get(row.common_id) != hash(wanted):
            plan.readdress.append((current[0], row))
            changed = True
        if not changed:
            report.unchanged += 1
    if full:
        plan.leave = [
            pk
            for common_id, (pk, _fingerprint, active) in members.items()
            if common_id not in seen_ids and active
        ]
    report.created = len(plan.create)
    report.updated = len(plan.update)
    report.addresses_changed = len(plan.readdress)
    report.left = len(plan.leave)
    return plan


def _duplicate(line: int, column: str, first_line: int) -> RowError:
    return RowError(
        line,
        column,
        "duplicate",
        _("The same value is already on line %(line)d.") % {"line": first_line},
    )


def _batches(items: Iterable[T]) -> Iterator[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _insert(model: type[Model], columns: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """Plain multi-row INSERTs: the ORM's per-instance work costs more than the database.

    The values are already checked and adapted, so building 100,000 model instances
    would only spend time and memory.
    """
    quote = connection.ops.quote_name
    names = ", ".join(quote(c) for c in columns)
    table = quote(model._meta.db_table)
    if connection.vendor == "postgresql":  # COPY is several times faster than INSERT there
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
        return
    marks = "(" + ", ".join(["%s"] * len(columns)) + ")"
    with connection.cursor() as cursor:
        for batch in _batches(rows):
            sql = f"INSERT INTO {table} ({names}) VALUES "  # noqa: S608 - names come from the model, values are parameters
            params: list[Any] = [v for r in batch for v in r]
            cursor.execute(sql + ", ".join([marks] * len(batch)), params)


def _db_values(row: RosterRow) -> list[object]:
    adapt = connection.ops.adapt_datefield_value
    values = list(row.member_values())
    values[MEMBER_FIELDS.index("left_on")] = adapt(row.left_on)
    values[MEMBER_FIELDS.index("university_account_created_on")] = adapt(
        row.university_account_created_on
    )
    return values


def _member(row: RosterRow, now: datetime.datetime, pk: int) -> Member:
    member = Member(pk=pk, common_id=row.common_id, updated_at=now)
    for name, value in zip(MEMBER_FIELDS, row.member_values(), strict=True):
        setattr(member, name, value)
    return member


def _apply(plan: _Plan, today: datetime.date) -> None:
    now = timezone.now()
    stamp = connection.ops.adapt_datetimefield_value(now)
    # Addresses first leave the members whose addresses change, so an address may
    # move from one member to another inside the same file.
    for readdressed in _batches(pk for pk, _row in plan.readdress):
        MemberAddress.objects.filter(member_id__in=readdressed).delete()
    _insert(
        Member,
        ["common_id", *MEMBER_FIELDS, "created_at", "updated_at"],
        ([row.common_id, *_db_values(row), stamp, stamp] for row in plan.create),
    )
    # Small UPDATE batches: PostgreSQL plans a CASE of thousands of branches slowly.
    for changed in _batches(plan.update):
        Member.objects.bulk_update(
            [_member(row, now, pk) for pk, row in changed],
            [*MEMBER_FIELDS, "updated_at"],
            batch_size=250,
        )
    created = {row.common_id for row in plan.create}
    new_pks = {
        common_id: pk
        for common_id, pk in Member.objects.filter(created_at=now).values_list("common_id", "pk")
        if common_id in created
    }
    owned = [(new_pks[row.common_id], row) for row in plan.create] + plan.readdress
    _insert(
        MemberAddress,
        ["member_id", "address", "is_primary"],
        (
            (pk, address, index == 0)
            for pk, row in owned
            for index, address in enumerate(row.addresses)
        ),
    )
    for leavers in _batches(plan.leave):
        Member.objects.filter(pk__in=leavers).update(
            status=Member.Status.LEFT, left_on=today, updated_at=now
        )
