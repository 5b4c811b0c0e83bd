import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from campusconf.core.processes import Child, Supervisor


class Command(BaseCommand):
    help = "Run N worker processes that carry out queued jobs; SIGTERM stops them cleanly."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--processes", type=int, default=1)

    def handle(self, *args: Any, **options: Any) -> None:
        # Each child is the provisioning engine's own worker (docs/engine.md): on SIGTERM
        # it finishes the job it holds, or a lease expiry hands the job to another.
        children = [
            Child(name=f"worker-{n}", argv=[sys.executable, "-m", "campusconf.cli", "run_worker"])
            for n in range(1, options["processes"] + 1)
        ]
        sys.exit(Supervisor(children, grace_seconds=30.0).run())
