"""Rehearsals the staff start from the back office: each one a ``campusconf rehearse``
process of its own, out of the request, in a folder of its own under
``var/rehearsal/staff/``.

A process, not an engine job: a rehearsal runs for minutes to hours, starts its own
sandbox, swaps in a database of its own and moves CampusConf's clock, none of which a
worker that carries members' jobs may do. The folder is the run's whole record — what
was asked (``request.json``, ``mix.toml``, ``cohorts.json``), what it printed
(``output.log``), how it ended (``exit-code``, written by the shell that waits for it)
and the report — so any web process can show any run, and nothing is added to the
database.
"""

from __future__ import annotations

import datetime
import json
import logging
import os
import re
import secrets
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings

from campusconf.rehearsal.mix import Mix
from campusconf.rehearsal.projection import Limits

log = logging.getLogger("campusconf.backoffice")

RUN_ID = re.compile(r"^[0-9]{8}-[0-9]{6}-[0-9a-f]{6}$")
DAY = re.compile(r"rehearsal day (\d+):")
PASS = re.compile(r"^Rehearsing \d+ members \((campusconf|manual)\)", re.M)
KEPT = 10  # runs listed on the page


@dataclass
class Run:
    run_id: str
    request: dict[str, Any]
    state: str  # "running", "done" or "failed"
    passes: int = 0  # passes begun (CampusConf's, then the manual process's)
    day: int = 0  # the last simulated day finished in the current pass
    report: str = ""  # the report's HTML fragment, once done
    projection: list[dict[str, Any]] = field(default_factory=list)
    output_tail: str = ""  # the end of what it printed, when it failed

    @property
    def total_passes(self) -> int:
        return 2 if self.request.get("manual") else 1

    @property
    def percent(self) -> int:
        """How far the run is, in simulated days over every pass."""
        days = max(int(self.request.get("days") or 1), 1)
        done = max(self.passes - 1, 0) * days + self.day
        return min(100, round(100 * done / (days * self.total_passes)))


def root() -> Path:
    return Path(settings.VAR_DIR) / "rehearsal" / "staff"


def start(
    *,
    members: int,
    seed: int,
    manual: bool,
    mix: Mix,
    mix_text: str,
    limits: list[Limits],
) -> str:
    """Write the run's folder and start its process; returns the run's id."""
    now = datetime.datetime.now(datetime.UTC)
    run_id = f"{now:%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"
    folder = root() / run_id
    folder.mkdir(parents=True)
    (folder / "mix.toml").write_text(mix_text, encoding="utf-8")
    cohorts = [vars(limit) for limit in limits]
    (folder / "cohorts.json").write_text(json.dumps(cohorts, indent=1), encoding="utf-8")
    request = {
        "members": members,
        "seed": seed,
        "manual": manual,
        "days": mix.days,
        "cohorts": cohorts,
        "started": now.isoformat(),
    }
    (folder / "request.json").write_text(json.dumps(request, indent=1), encoding="utf-8")
    command = [
        sys.executable,
        "-m",
        "campusconf.cli",
        "rehearse",
        f"--members={members}",
        f"--seed={seed}",
        f"--manual={'with' if manual else 'off'}",
        f"--mix={folder / 'mix.toml'}",
        f"--cohorts={folder / 'cohorts.json'}",
        f"--workdir={folder}",
    ]
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": settings.SETTINGS_MODULE}
    # The rehearsal keeps its members in SQLite files of its own (it refuses anything
    # else): the web's own database must not be handed to it.
    env.pop("DATABASE_URL", None)
    # The shell waits for the rehearsal and writes how it ended, so a page can tell a
    # finished run from a running one without being its parent.
    script = '"$@" >output.log 2>&1; echo $? >exit-code'
    process = subprocess.Popen(
        ["/bin/sh", "-c", script, "rehearse", *command],
        cwd=folder,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    (folder / "pid").write_text(str(process.pid), encoding="utf-8")
    log.info(
        "rehearsal %s started: %s members, seed %s (pid %s)", run_id, members, seed, process.pid
    )
    return run_id


def find(run_id: str) -> Run | None:
    if not RUN_ID.match(run_id):
        return None
    folder = root() / run_id
    try:
        request = json.loads((folder / "request.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    output = _read(folder / "output.log")
    passes = len(PASS.findall(output))
    last_pass = output[output.rfind("Rehearsing ") :] if passes else ""
    days = [int(d) for d in DAY.findall(last_pass)]
    run = Run(run_id, request, _state(folder), passes, days[-1] if days else 0)
    if run.state == "done":
        run.report = _read(folder / "report-fragment.html")
        run.projection = json.loads(_read(folder / "projection.json") or "[]")
    elif run.state == "failed":
        run.output_tail = "\n".join(output.splitlines()[-20:])
    return run


def recent() -> list[Run]:
    if not root().is_dir():
        return []
    names = sorted((p.name for p in root().iterdir() if RUN_ID.match(p.name)), reverse=True)
    return [run for run in (find(name) for name in names[:KEPT]) if run is not None]


def _state(folder: Path) -> str:
    code = _read(folder / "exit-code").strip()
    if code:
        return "done" if code == "0" and (folder / "report-fragment.html").exists() else "failed"
    pid = _read(folder / "pid").strip()
    if not pid.isdigit():
        return "running"  # the page asked between the start and the pid's writing
    try:
        os.kill(int(pid), 0)  # signal 0: only asks whether the process is there
    except ProcessLookupError:
        return "failed"  # gone without a word: killed, or the machine restarted
    except PermissionError:
        pass  # alive, someone else's
    return "running"


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
