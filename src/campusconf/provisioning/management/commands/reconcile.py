from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from campusconf.audit.cli import record_cli
from campusconf.provisioning.engine.reconcile import run_pass
from campusconf.services.models import Service


class Command(BaseCommand):
    help = "Reconcile one service with its vendor now: campusconf reconcile <slug>."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("service")
        parser.add_argument(
            "--approve",
            action="store_true",
            help="let this pass deprovision more accounts than the mass-deprovision guard allows",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        service = Service.objects.filter(slug=options["service"]).first()
        if service is None:
            raise CommandError(f"no service {options['service']!r}")
        record = run_pass(service, approve=options["approve"])
        # After the pass, which talks to the vendor for minutes: its own record (the
        # ReconcilePass row) is already written, and this entry says who ran it.
        record_cli(
            "service.reconcile",
            service,
            f"reconcile {service.slug}" + (" --approve" if options["approve"] else ""),
            approve=options["approve"],
            status=record.status,
            changes=record.changes,
            reconcile_pass=record.pk,
        )
        self.stdout.write(
            f"reconcile {service.slug}: {record.status}, {record.seen} vendor users seen, "
            f"changes {record.changes or 'none'}"
        )
        if record.message:
            self.stdout.write(record.message)
        if record.status in ("failed", "held"):
            raise CommandError(f"reconcile {record.status}")
