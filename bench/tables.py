"""Running a bench script as a child process and reading the table it prints.

The engine's benches print ``key  value`` rows (two spaces between); the pace and the
ceiling scripts run ``engine_campaign.py`` once per measurement, each on a fresh
sandbox and database, and read its rows back.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any


def run(
    script: Path, args: list[str], env: dict[str, str], *, echo: bool = False
) -> dict[str, str]:
    """Run ``script`` with ``args``; its rows as a dict, and its exit status as "exit"."""
    cmd = [sys.executable, str(script), *args]
    if echo:
        print("$", " ".join(cmd[1:]), flush=True)
    result = subprocess.run(cmd, env={**os.environ, **env}, capture_output=True, text=True)
    if result.returncode != 0:
        print(result.stdout, result.stderr[-3000:], sep="\n", file=sys.stderr)
    table = {}
    for line in result.stdout.splitlines():
        key, _, value = line.partition("  ")
        if value.strip():
            table[key.strip()] = value.strip()
    table["exit"] = str(result.returncode)
    return table


def load() -> str:
    """The machine's load averages: a figure taken on a busy machine says so."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def print_rows(rows: list[tuple[str, Any]]) -> None:
    width = max(len(str(k)) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
