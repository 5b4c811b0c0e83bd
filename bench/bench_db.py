"""The benches' own databases: a fresh one per run, dropped after, and on PostgreSQL
the server processes that serve it, pinned to our CPUs and their CPU time counted.

The server's CPU is half of what a job costs on PostgreSQL (the worker's main thread
is the other half), and it runs outside the workers, so their CPU alone misses it.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
import uuid
from pathlib import Path


def database_url(tmp: Path) -> tuple[str, str | None]:
    """A fresh database: an SQLite file, or a new PostgreSQL database beside $DATABASE_URL."""
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgres"):
        return f"sqlite:///{tmp / 'engine.sqlite3'}", None
    import psycopg

    name = f"engine_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return base.rsplit("/", 1)[0] + "/" + name, name


def drop_database(base: str, name: str | None) -> None:
    if name is None:
        return
    import psycopg
    from django.db import connections

    connections.close_all()
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def cpu_seconds_of(pid: int) -> float | None:
    """User + system CPU of a process so far; None once it has ended."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Backends:
    """The server processes of database ``name``, looked for every 0.2 s from a thread
    (each worker and the bench open their own): pinned to ``cpus`` when given, and
    their CPU time read each time, so that a backend that ends still counts."""

    def __init__(self, base: str, name: str, cpus: set[int] | None = None) -> None:
        self.base, self.name, self.cpus = base, name, cpus
        self.seen: dict[int, float] = {}  # pid → CPU seconds at its last reading
        self.lock = threading.Lock()
        threading.Thread(target=self._watch, name="pg-backends", daemon=True).start()

    def cpu_seconds(self) -> float:
        """CPU of every backend seen so far: read now if alive, else at its last reading."""
        with self.lock:
            self._read(list(self.seen))
            return sum(self.seen.values())

    def _read(self, pids: list[int]) -> None:
        for pid in pids:
            now = cpu_seconds_of(pid)
            if now is not None:
                self.seen[pid] = max(self.seen.get(pid, 0.0), now)

    def _watch(self) -> None:
        import psycopg

        with psycopg.connect(self.base, autocommit=True) as conn:
            while True:
                rows = conn.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = %s", [self.name]
                ).fetchall()
                with self.lock:
                    new = [pid for (pid,) in rows if pid not in self.seen]
                    for pid in new if self.cpus else ():
                        with contextlib.suppress(OSError):  # it may have ended already
                            os.sched_setaffinity(pid, self.cpus)
                    self._read(list(self.seen) + new)
                time.sleep(0.2)
