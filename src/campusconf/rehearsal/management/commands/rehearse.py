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

from campusconf.rehearsal import guard
from campusconf.rehearsal.measures import Measures
from campusconf.rehearsal.mix import DEFAULT_MIX, MixError, load_mix
from campusconf.rehearsal.projection import (
    Limits,
    Projection,
    as_json,
    project,
    read_limits,
)
from campusconf.rehearsal.report import html_report, markdown_table, report_fragment
from campusconf.rehearsal.run import Options, rehearse


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
        parser.add_argument(
            "--cohorts",
            type=Path,
            help="JSON: the real cohort of each service and its vendor limits "
            '([{"service", "members", "creates_per_minute", "daily_cap"}]); the report '
            "then says when the last member will be active (the back office writes it)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not guard.allowed():
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
        limits = _cohorts(options["cohorts"])
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
        projections = _projections(limits, runs)
        mix_name = options["mix"].name if options["mix"] else "default"
        html = workdir / f"rehearsal-{options['members']}-seed{options['seed']}.html"
        html.write_text(
            html_report(runs, seed=options["seed"], mix_name=mix_name, projections=projections),
            encoding="utf-8",
        )
        (html.with_suffix(".json")).write_text(
            json.dumps([asdict(m) for m in runs], default=str, indent=1), encoding="utf-8"
        )
        # What the back office's page shows: the report inside its own page, and the
        # projection, which the page shows itself in the reader's language.
        (workdir / "report-fragment.html").write_text(
            report_fragment(runs, seed=options["seed"], mix_name=mix_name), encoding="utf-8"
        )
        (workdir / "projection.json").write_text(
            json.dumps(as_json(projections), indent=1), encoding="utf-8"
        )
        self.stdout.write(markdown_table(runs))
        self.stdout.write(f"Report: {html}")


def _cohorts(path: Path | None) -> list[Limits]:
    if path is None:
        return []
    try:
        return read_limits(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise CommandError(f"cannot read the cohorts {path}: {error}") from error


def _projections(limits: list[Limits], runs: list[Measures]) -> list[Projection]:
    """The real cohorts, each with CampusConf's run's slowest member (the manual
    process's members wait for the help desk, which is not what the term will do)."""
    ours = next((m for m in runs if not m.manual), runs[0])
    slowest = max(ours.active_after_hours.values(), default=0.0)
    return [project(limit, slowest) for limit in limits]


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
