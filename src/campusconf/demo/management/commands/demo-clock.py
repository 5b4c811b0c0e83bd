import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from campusconf.demo.clock import ClockError, let_days_pass
from campusconf.demo.management.commands.demo import SANDBOX_PORT


class Command(BaseCommand):
    help = (
        "Demo tool: let days pass for invitations — moves the vendor sandbox's clock and "
        "moves CampusConf's invitation dates back by the same amount (development only)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--advance-days", type=float, required=True)
        parser.add_argument("--sandbox-url", default=f"http://127.0.0.1:{SANDBOX_PORT}")
        parser.add_argument(
            "--credentials",
            help="the sandbox's credentials file (default: var/sandbox.json)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError(
                "demo-clock changes invitation dates; it runs only with the development "
                "settings (DEBUG on), never on a real installation."
            )
        days = options["advance_days"]
        if not 0 < days <= 366:
            raise CommandError("--advance-days must be more than 0 and at most 366.")
        path = Path(options["credentials"] or Path(settings.VAR_DIR) / "sandbox.json")
        try:
            token = json.loads(path.read_text())["admin_token"]
        except (OSError, ValueError, KeyError) as error:
            raise CommandError(
                f"Cannot read the sandbox's admin token from {path} ({error}); start "
                "'make demo' first."
            ) from error
        try:
            sandbox_now, aged = let_days_pass(options["sandbox_url"], token, days)
        except ClockError as error:
            raise CommandError(f"Nothing changed: {error}. Is 'make demo' running?") from error
        self.stdout.write(
            f"{days:g} days passed: the sandbox's clock now reads {sandbox_now}; "
            f"{aged} invitations in CampusConf are {days:g} days older. The worker notices "
            "expired invitations within five minutes (its expiry check)."
        )
