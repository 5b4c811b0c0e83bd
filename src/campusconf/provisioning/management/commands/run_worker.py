from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from campusconf.provisioning.worker import Worker


class Command(BaseCommand):
    help = "Run one engine worker process (campusconf worker runs N of these)."
    # The system checks cost a worker about 3 s of CPU at every start (the SAML
    # schemas among them), and a supervisor restarts workers; `campusconf worker`, which
    # starts them, has run the checks once already.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="run one job, then stop")
        parser.add_argument("--until-idle", action="store_true", help="stop when no job is due")

    def handle(self, *args: Any, **options: Any) -> None:
        Worker(once=options["once"], idle_exit=options["until_idle"]).run()
