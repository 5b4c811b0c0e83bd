from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from campusconf.provisioning.ops.vendor_check import FAIL, run_checks
from campusconf.services.models import Service


class Command(BaseCommand):
    help = (
        "Check a service against its vendor before go-live, read-only: the token, the scopes, "
        "the licence and seats left, one page of users, the webhook endpoint, the rate "
        "limits and the clock. Exits 1 if any check fails: campusconf vendor-check <slug>."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("service", help="the service's slug (zoom, webex, …)")
        parser.add_argument(
            "--webhook-url",
            help="where Zoom posts events (default: CAMPUSCONF_PUBLIC_URL + /webhooks/zoom)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        service = Service.objects.filter(slug=options["service"]).first()
        if service is None:
            known = ", ".join(Service.objects.values_list("slug", flat=True)) or "none"
            raise CommandError(f"no service {options['service']!r} (services: {known})")
        base = (service.connector_settings or {}).get("base_url", "")
        self.stdout.write(f"vendor-check {service.slug} ({service.vendor}, {base})")
        checks = run_checks(service, webhook_url=options["webhook_url"])
        width = max(len(c.name) for c in checks)
        for check in checks:
            self.stdout.write(f"  [{check.status:<4}] {check.name:<{width}}  {check.detail}")
            if check.fix:
                self.stdout.write(f"         {'':<{width}}  fix: {check.fix}")
        failed = sum(1 for c in checks if c.status == FAIL)
        if failed:
            raise CommandError(
                f"{failed} check(s) failed: {service.slug} is not ready", returncode=1
            )
        self.stdout.write(f"all checks passed: {service.slug} is ready")
