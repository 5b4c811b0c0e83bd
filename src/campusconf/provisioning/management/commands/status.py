import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from campusconf.provisioning.ops.status_report import gather, table


class Command(BaseCommand):
    help = (
        "Queue depth, rate-limit state, the last reconcile of each service, and the "
        "finish estimate of each running campaign (times in the configured time zone)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="print the report as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        report = gather()
        if options["json"]:
            self.stdout.write(json.dumps(report, ensure_ascii=False, indent=2))
        else:
            self.stdout.write(table(report))
