"""``campusconf import-roster FILE [--full] [--dry-run] [--allow-mass-change]``."""

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from campusconf.audit.actors import Actor
from campusconf.directory.roster import RosterReport, import_roster, mass_change_limit

SHOWN_ERRORS = 200  # enough to fix a file in one go, without flooding a terminal


class Command(BaseCommand):
    help = "Import members from a CSV roster (format: docs/directory.md)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--full",
            action="store_true",
            help="The file lists every member: those missing from it are marked as left.",
        )
        parser.add_argument("--dry-run", action="store_true", help="Report, change nothing.")
        parser.add_argument(
            "--allow-mass-change",
            action="store_true",
            help="With --full, let more members leave than the mass-change guard allows.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            # utf-8-sig: spreadsheets often write a byte-order mark first. The import
            # writes its audit entry, the CLI operator as its starter.
            with path.open(encoding="utf-8-sig", newline="") as stream:
                report = import_roster(
                    stream,
                    actor=Actor.cli(),
                    reason=f"import-roster {path}",
                    full=options["full"],
                    dry_run=options["dry_run"],
                    allow_mass_change=options["allow_mass_change"],
                    file=str(path),
                )
        except OSError as error:
            raise CommandError(
                _("Cannot read %(file)s: %(error)s") % {"file": path, "error": error}
            ) from error
        except UnicodeDecodeError as error:
            raise CommandError(_("%(file)s is not UTF-8 text.") % {"file": path}) from error
        self._report(report, dry_run=options["dry_run"])

    def _report(self, report: RosterReport, *, dry_run: bool) -> None:
        for error in report.errors[:SHOWN_ERRORS]:
            self.stderr.write(str(error))
        if len(report.errors) > SHOWN_ERRORS:
            self.stderr.write(
                _("… and %(count)d more errors.") % {"count": len(report.errors) - SHOWN_ERRORS}
            )
        if report.errors:
            raise CommandError(
                _("The roster has %(count)d errors: nothing was changed.")
                % {"count": len(report.errors)}
            )
        if report.refused_mass_change:
            raise CommandError(
                _(
                    "%(count)d members would be marked as left, more than the limit of "
                    "%(limit)d: nothing was changed. Check the file, or add --allow-mass-change."
                )
                % {"count": report.left, "limit": mass_change_limit(report.rows + report.left)}
            )
        summary = _(
            "%(rows)d rows: %(created)d new, %(updated)d changed, %(addresses)d with new "
            "addresses, %(left)d marked as left, %(unchanged)d unchanged."
        ) % {
            "rows": report.rows,
            "created": report.created,
            "updated": report.updated,
            "addresses": report.addresses_changed,
            "left": report.left,
            "unchanged": report.unchanged,
        }
        prefix = _("Dry run, nothing written:") if dry_run else _("Imported:")
        self.stdout.write(f"{prefix} {summary}")
