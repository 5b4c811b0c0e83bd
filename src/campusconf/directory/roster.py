"""Importing a CSV roster: all rows checked first, then applied in one transaction.

``import_roster`` is the one action behind ``campusconf import-roster`` and the back
office upload: it takes who started it and why, and writes the audit entry with the
changes. It reads the whole current directory into dictionaries once, so that 100,000
rows cost a handful of queries rather than 100,000 of them; the members are written by
``members.actions.apply_directory``.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from campusconf.audit.actors import Actor
from campusconf.audit.log import record
from campusconf.directory.roster_format import MEMBER_FIELDS, RosterRow, RowError, read_rows
from campusconf.members import actions as members

logger = logging.getLogger(__name__)
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


def mass_change_limit(member_count: int) -> int:
    """How many members one import may mark as left without ``allow_mass_change``."""
    percent = settings.CAMPUSCONF_MASS_CHANGE_PERCENT
    return min(member_count * percent // 100, settings.CAMPUSCONF_MASS_CHANGE_MAX)


def import_roster(
    lines: Iterable[str],
    *,
    actor: Actor,
    reason: str,
    full: bool = False,
    dry_run: bool = False,
    allow_mass_change: bool = False,
    today: datetime.date | None = None,
    **details: Any,
) -> RosterReport:
    """Check every row, then apply the roster and its audit entry in one transaction,
    or change nothing.

    ``actor`` started the import (``Actor.cli()``, or staff); the entry's actor is the
    roster on their behalf. ``full``: members missing from the file are marked as left on
    ``today`` — refused when more than ``mass_change_limit`` would leave, unless
    ``allow_mass_change``. ``dry_run``: report what would change and write nothing.
    ``details`` go into the audit entry (the file, the upload's digest).
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
            limit = mass_change_limit(members.active_member_count())
            if full and len(plan.leave) > limit and not allow_mass_change:
                report.refused_mass_change = True
                logger.warning(
                    "roster refused: %d members would leave, limit %d", len(plan.leave), limit
                )
                return report
            if dry_run:
                return report
            members.apply_directory(plan, MEMBER_FIELDS, today=today)
            report.applied = True
            _audit(report, Actor.roster(actor), reason, full, allow_mass_change, details)
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


def _audit(
    report: RosterReport,
    actor: Actor,
    reason: str,
    full: bool,
    allow_mass_change: bool,
    details: dict[str, Any],
) -> None:
    record(
        actor,
        "directory.roster_import",
        None,
        reason,
        **details,
        full=full,
        allow_mass_change=allow_mass_change,
        rows=report.rows,
        created=report.created,
        updated=report.updated,
        addresses_changed=report.addresses_changed,
        left=report.left,
    )


def _plan(
    lines: Iterable[str], report: RosterReport, *, full: bool, today: datetime.date
) -> members.DirectoryChanges:
    # Only a fingerprint of each member is kept, not its values: 100,000 members fit
    # in a few tens of megabytes, and a row changed iff its fingerprint differs.
    current: dict[str, tuple[int, int, bool]] = {
        row[0]: (row[1], hash(row[2:]), row[2 + STATUS] == members.ACTIVE)
        for row in members.directory_rows(MEMBER_FIELDS)
    }
    owners: dict[str, str] = {}  # address_key -> its owner's common ID
    held_lists: dict[str, list[tuple[str, bool]]] = {}
    for address, is_primary, common_id in members.directory_addresses():
        owners[members.address_key(address)] = common_id
        held_lists.setdefault(common_id, []).append((address, is_primary))
    held = {cid: hash(tuple(sorted(pairs))) for cid, pairs in held_lists.items()}
    del held_lists

    plan = members.DirectoryChanges()
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
            key = members.address_key(address)
            column = "mail_address" if index == 0 else "aliases"
            if key in seen_addresses:
                report.errors.append(_duplicate(row.line, column, seen_addresses[key]))
            seen_addresses[key] = row.line
        checked.append(row)
    # An address held in the database by someone absent from the file cannot move.
    for row in checked:
        for index, address in enumerate(row.addresses):
            owner = owners.get(members.address_key(address))
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
        known = current.get(row.common_id)
        if known is None:
            plan.create.append(row)
            continue
        changed = False
        if known[1] != hash(row.member_values()):
            plan.update.append((known[0], row))
            changed = True
        wanted = tuple(sorted((a, i == 0) for i, a in enumerate(row.addresses)))
        if held.get(row.common_id) != hash(wanted):
            plan.readdress.append((known[0], row))
            changed = True
        if not changed:
            report.unchanged += 1
    if full:
        plan.leave = [
            pk
            for common_id, (pk, _fingerprint, active) in current.items()
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
