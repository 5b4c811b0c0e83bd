from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from campusconf.demo.sample import load_sample_data


class Command(BaseCommand):
    help = "Load the demo's sample members, the Webex and Zoom services and the administrator."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--sandbox-url", default="http://127.0.0.1:8100")
        parser.add_argument("--admin-password", default="campusconf-demo")

    def handle(self, *args: Any, **options: Any) -> None:
        counts = load_sample_data(options["sandbox_url"], options["admin_password"])
        self.stdout.write(
            f"sample data: {counts['members']} members added, {counts['services']} services"
        )
