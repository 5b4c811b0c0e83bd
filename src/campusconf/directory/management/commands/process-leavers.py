"""``campusconf process-leavers``: tell members who left, then let their accounts go."""

from typing import Any

from django.core.management.base import BaseCommand

from campusconf.audit.cli import record_cli
from campusconf.directory.leavers import process_leavers


class Command(BaseCommand):
    help = "Notify members who left and deprovision their accounts after the grace period."

    def handle(self, *args: Any, **options: Any) -> None:
        report = process_leavers()
        if report.notified or report.deprovisioned:
            record_cli(
                "directory.process_leavers",
                None,
                "process-leavers",
                notified=report.notified,
                deprovisioned=report.deprovisioned,
                mail_failures=report.mail_failures,
            )
        self.stdout.write(
            f"notified={report.notified} deprovisioned={report.deprovisioned} "
            f"mail_failures={report.mail_failures}"
        )
