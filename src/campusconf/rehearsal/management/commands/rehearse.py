import json
import logging
import signal
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections

from campusconf.rehearsal.mix import DEFAULT_MIX, MixError, load_mix
from campusconf.rehearsal.report import html_report, markdown_table
from campusconf.rehearsal.run import Options, rehearse

# The settings a rehearsal may run under: it starts a sandbox, makes up members and
# moves CampusConf's clock, none of which belongs near a real installation.
DEVELOPMENT_SETTINGS = {"campusconf.settings.dev", "campusconf.settings.test"}


class Command(BaseCommand):
    help = (
        "Development tool: rehearse a term start — simulated members against the vendor "
        "sandbox on one moving clock — and write the report (HTML and markdown)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--members", type=int, default=200)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--mix", type=Path, help=f"the mix file (default: {DEFAULT_MIX})")
        parser.add_argument(
            "--manual",
            choices=["with", "only", "off"],
            default="with",
            help="the manual process of the seed pages: beside CampusConf's run (with), "
            "alone (only) or not at all (off)",
        )
        parser.add_argument(
            "--workdir", type=Path, help="where databases and reports go (var/rehearsal)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.SETTINGS_MODULE not in DEVELOPMENT_SETTINGS:
            raise CommandError(
                "rehearse is a development tool: it runs only with the development or test "
                f"settings, not {settings.SETTINGS_MODULE}."
            )
        if not 1 <= options["members"] <= 100_000:
            raise CommandError("--members must be between 1 and 100000.")
        try:
            mix = load_mix(options["mix"])
        except MixError as error:
            raise CommandError(str(error)) from error
        workdir = (options["workdir"] or Path(settings.VAR_DIR) / "rehearsal").resolve()
        workdir.mkdir(parents=True, exist_ok=True)
        logging.getLogger("campusconf.rehearsal").setLevel(logging.INFO)
        # SIGTERM ends the run through its cleanup, so the sandbox it started stops too.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        plan = {"with": [False, True], "only": [True], "off": [False]}[options["manual"]]
        runs = []
        for manual in plan:
            name = "manual" if manual else "campusconf"
            self.stdout.write(f"Rehearsing {options['members']} members ({name})…")
            _fresh_database(workdir / f"{name}.sqlite3")
            runs.append(
                rehearse(
                    Options(
                        members=options["members"],
                        seed=options["seed"],
                        mix=mix,
                        workdir=workdir / f"sandbox-{name}",
                        manual=manual,
                    )
                )
            )
        html = workdir / f"rehearsal-{options['members']}-seed{options['seed']}.html"
        html.write_text(
            html_report(runs, seed=options["seed"], mix_name=str(options["mix"] or "default")),
            encoding="utf-8",
        )
        (html.with_suffix(".json")).write_text(
            json.dumps([asdict(m) for m in runs], default=str, indent=1), encoding="utf-8"
        )
        self.stdout.write(markdown_table(runs))
        self.stdout.write(f"Report: {html}")


def _fresh_database(path: Path) -> None:
    """A rehearsal writes its own SQLite file, never the demo's or anyone's database."""
    connection = connections["default"]
    if connection.vendor != "sqlite":
        raise CommandError(
            "rehearse keeps its members in an SQLite file of its own; run it without "
            "DATABASE_URL pointing elsewhere."
        )
    connection.close()
    for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        stale.unlink(missing_ok=True)
    connection.settings_dict["NAME"] = str(path)
    call_command("migrate", interactive=False, verbosity=0)
