"""The term-start rehearsal at 1,000 and 10,000 members, with its wall time.

    uv run python bench/rehearsal.py --members 1000
    uv run python bench/rehearsal.py --members 10000 --manual off

Runs ``campusconf rehearse`` (development settings, its own SQLite files and sandbox in
a temporary directory) with the default mix and seed 1, and prints the rehearsal's own
table (active by day, staff actions, help-desk mails, wall time per run) after the
machine's load, which moves every wall-clock figure on a shared machine.
"""

from __future__ import annotations

import argparse
import datetime
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import tables


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--manual", choices=["with", "only", "off"], default="with")
    args = parser.parse_args()
    print(
        f"# rehearsal: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, load {tables.load()}"
    )
    with tempfile.TemporaryDirectory(prefix="rehearsal-") as tmp:
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "campusconf.settings.dev"}
        env.pop("DATABASE_URL", None)  # the rehearsal keeps its own SQLite files
        cmd = [sys.executable, "-m", "campusconf.cli", "rehearse", "--members", str(args.members)]
        cmd += ["--seed", str(args.seed), "--manual", args.manual, "--workdir", tmp]
        started = time.monotonic()
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        wall = time.monotonic() - started
        print(done.stdout)
        if done.returncode:
            print(done.stderr[-3000:], file=sys.stderr)
            return done.returncode
    print(f"total wall time, start to report: {wall:.0f} s; load after {tables.load()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
