"""Directory benchmark: import a CSV roster of N members, then the same file again.

Generates its own roster in a temporary directory and imports it into a throw-away
database (an SQLite file there, or ``test_<name>`` on the server of DATABASE_URL):

    uv run python bench/directory_import.py [--members 100000]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench uv run python bench/directory_import.py

Peak memory is the process's maximum resident set (Django and all), read from the OS.
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))


def write_roster(path: Path, members: int, *, renamed: int = 0) -> None:
    with path.open("w", encoding="utf-8", newline="") as stream:
        out = csv.writer(stream)
        out.writerow(
            [
                "common_id", "family_name_ja", "given_name_ja", "family_name_latin",
                "given_name_latin", "affiliation", "roles", "university_account_created_on",
                "mail_address", "aliases", "preferred_language", "status", "left_on",
            ]
        )  # fmt: skip
        for n in range(members):
            cid = f"{2000000000 + n:010d}"
            given = f"Hanako{n}" + ("x" if n < renamed else "")
            roles = "student" if n % 4 else "faculty;staff"
            alias = f"h{n}.yamada@example.ac.jp" if n % 3 == 0 else ""
            out.writerow(
                [
                    cid, "山田", "花子", "Yamada", given, "Faculty of Letters", roles,
                    "2021-04-01", f"{cid}@g.ecc.example.ac.jp", alias, "ja", "", "",
                ]
            )  # fmt: skip


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=100_000)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="directory-bench-"))
    os.environ["CAMPUSCONF_VAR_DIR"] = str(tmp)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "campusconf.settings.test")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django
    from django.conf import settings

    # A real file, as in production, not the in-memory database tests use.
    settings.DATABASES["default"]["TEST"] = {"NAME": str(tmp / "bench.sqlite3")}
    django.setup()
    from django.db import connection
    from django.test.utils import setup_databases, teardown_databases

    from campusconf.audit.actors import Actor
    from campusconf.directory.roster import import_roster

    old = setup_databases(verbosity=0, interactive=False, keepdb=False, serialized_aliases=set())
    try:
        roster = tmp / "roster.csv"
        write_roster(roster, args.members)
        changed = tmp / "roster-changed.csv"
        write_roster(changed, args.members, renamed=args.members // 100)
        rows: list[tuple[str, float, float, str]] = []
        for label, path in (
            ("first import (all new)", roster),
            ("same file again", roster),
            ("1 % of names changed", changed),
        ):
            start, cpu = time.perf_counter(), time.process_time()
            with path.open(encoding="utf-8", newline="") as stream:
                report = import_roster(stream, actor=Actor.cli(), reason="benchmark")
            elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
            assert report.ok, report.errors[:5]
            rows.append(
                (label, elapsed, cpu, f"{report.created} new, {report.updated} changed, "
                 f"{report.unchanged} unchanged")
            )  # fmt: skip
    finally:
        teardown_databases(old, verbosity=0)
    print(f"engine: {connection.vendor}, members: {args.members:,}")
    # CPU is this process only (the PostgreSQL server's work is not in it); on a busy
    # machine it shows what the wall-clock time would be without the contention.
    print(f"{'run':<26} {'wall s':>7} {'cpu s':>7}  result")
    for label, elapsed, cpu, result in rows:
        print(f"{label:<26} {elapsed:>7.2f} {cpu:>7.2f}  {result}")
    print(f"peak resident memory: {peak_mib():.0f} MiB")


if __name__ == "__main__":
    main()
