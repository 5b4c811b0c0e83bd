"""Reconcile of N vendor users that are all in step: time, and database writes.

    uv run python bench/engine_reconcile.py --users 100000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test uv run python bench/engine_reconcile.py

The sandbox's Zoom account is filled directly through the sandbox's own models (the
API would take minutes to create 100,000 users), the engine's database with members
and active accounts that match them. Then one reconcile pass runs, timed, with every
SQL statement it sends counted; writes must be 0 apart from the pass's one record.

Three timings, so that our side and the sandbox's listing can be told apart:
  - listing only: a bare loop over the connector's ``iter_users`` (HTTP, the
    sandbox's own work, the connector's parsing), before the pass;
  - the pass itself, wall and CPU of this process (the read-ahead thread included);
  - our side only: a second pass whose connector yields the users already read by
    the bare loop (no HTTP): loading rows, matching, judging, the leaver query.
The sandbox's CPU (all its processes) is given for the listing and for the pass.

    --profile FILE   cProfile of the pass's main thread (not the read-ahead thread)
    --gc MODE        on (default), freeze (gc.freeze() before the pass: the objects
                     made so far are never scanned again) or off (gc.disable() for the
                     pass): what collections cost a pass of this size
"""

from __future__ import annotations

import argparse
import cProfile
import datetime
import gc
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

from bench.bench_db import database_url, drop_database  # noqa: E402

from vendor_sandbox.launcher import (  # noqa: E402
    connector_settings,
    running_sandbox,
    vendor_env,
)

SEED = """
import datetime, django
django.setup()
from vendor_sandbox.models import ZoomAccount, ZoomUser
account = ZoomAccount.objects.first()
now = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=1)
n = int({n})
for start in range(0, n, 5000):
    ZoomUser.objects.bulk_create(
        ZoomUser(user_id=f"zu{{i:07d}}", account=account, email=f"{{6000000000 + i}}@g.ecc.example.ac.jp",
                 first_name="M", last_name=f"{{i}}", display_name=f"M {{i}}", type=2,
                 status="active", verified=1, login_types=[100], created_at=now,
                 visible_at=now, action="create")
        for i in range(start, min(n, start + 5000))
    )
"""


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=100_000)
    ap.add_argument("--profile", help="write a cProfile of the pass's main thread here")
    ap.add_argument("--gc", choices=("on", "freeze", "off"), default="on")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="engine-reconcile-"))
    base = os.environ.get("DATABASE_URL", "")
    db_url, pg_name = database_url(tmp)
    try:
        with running_sandbox(tmp, SANDBOX_LIMITS="0", SANDBOX_WORKERS="2") as sandbox:
            creds = sandbox.credentials()
            seed_env = {
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "vendor_sandbox.settings",
                "SANDBOX_DB": str(tmp / "sandbox.sqlite3"),
            }
            t = time.monotonic()
            code = SEED.format(n=args.users)
            subprocess.run([sys.executable, "-c", code], env=seed_env, check=True)
            seeded = time.monotonic() - t
            env = {
                **vendor_env(creds),
                "DJANGO_SETTINGS_MODULE": "campusconf.settings.test",
                "DATABASE_URL": db_url,
                "CAMPUSCONF_ENGINE_RATE_LIMITS": "0",
                "LOG_LEVEL": "WARNING",
            }
            os.environ.update(env)
            subprocess.run(
                [sys.executable, "-m", "campusconf.cli", "migrate", "-v0"],
                env=os.environ.copy(),
                check=True,
            )
            import django

            django.setup()
            return run(args.users, creds, seeded, sandbox.process.pid, args)
    finally:
        drop_database(base, pg_name)
        shutil.rmtree(tmp, ignore_errors=True)


def group_cpu(pgid: int) -> float:
    """CPU seconds (user + system) of the live processes in process group ``pgid``."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        if int(fields[2]) == pgid:  # fields[0] is the state: pgrp is the 5th field
            total += int(fields[11]) + int(fields[12])
    return total / tick


class Clock:
    """Wall and CPU time of this process, and of the sandbox's processes."""

    def __init__(self, sandbox_pgid: int) -> None:
        self.pgid = sandbox_pgid
        self.wall, self.cpu = time.monotonic(), time.process_time()
        self.sandbox = group_cpu(sandbox_pgid)

    def stop(self) -> tuple[float, float, float]:
        wall = time.monotonic() - self.wall
        cpu = time.process_time() - self.cpu
        return wall, cpu, group_cpu(self.pgid) - self.sandbox


def shown(times: tuple[float, ...], per: float = 1.0, digits: int = 1) -> str:
    return " / ".join(f"{t / per:.{digits}f}" for t in times)


class GcTimer:
    """Garbage collections while active: how many were full ones, and their time."""

    def __init__(self) -> None:
        self.full = self.count = 0
        self.seconds = 0.0
        self._start = 0.0

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
            return
        self.seconds += time.perf_counter() - self._start
        self.count += 1
        self.full += info["generation"] == 2

    def __enter__(self) -> GcTimer:
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._callback)

    def shown(self) -> str:
        return f"{self.full} / {self.count}, {self.seconds:.2f}"


def run(n: int, creds: dict[str, object], seeded: float, pgid: int, args: Any) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from campusconf.accounts.models import Account
    from campusconf.members.models import Member, MemberAddress
    from campusconf.provisioning.engine import vendors
    from campusconf.provisioning.engine.reconcile import run_pass
    from campusconf.services.models import Service

    settings = connector_settings("zoom", creds, timeout_seconds=60)
    service = Service.objects.create(
        slug="zoom",
        vendor="zoom",
        name_ja="zoom",
        name_en="zoom",
        plan_name="bench",
        max_participants=300,
        invitation_validity_days=30,
        eligible_roles="student",
        connector_settings=settings,
    )
    t = time.monotonic()
    for start in range(0, n, 5000):
        ids = range(start, min(n, start + 5000))
        members = Member.objects.bulk_create(
            Member(
                common_id=f"{6000000000 + i}",
                family_name_latin=f"{i}",
                given_name_latin="M",
                roles="student",
                university_account_created_on=datetime.date(2020, 4, 1),
            )
            for i in ids
        )
        MemberAddress.objects.bulk_create(
            MemberAddress(member=m, address=f"{m.common_id}@g.ecc.example.ac.jp", is_primary=True)
            for m in members
        )
        Account.objects.bulk_create(
            Account(
                member=m,
                service=service,
                state="active",
                observed_state="active",
                vendor_user_id=f"zu{i:07d}",
                vendor_address=f"{m.common_id}@g.ecc.example.ac.jp",
                observed_licensed=True,
                observed_login_type="zoom",
            )
            for i, m in zip(ids, members, strict=True)
        )
    loaded = time.monotonic() - t
    conn = vendors.connector_for(service)  # cached: the pass uses this same instance
    clock = Clock(pgid)
    listed = sum(1 for _ in conn.iter_users())  # keeps nothing: the pass's RSS stays its own
    listing = clock.stop()

    profile = args.profile
    profiler = cProfile.Profile() if profile else None
    if args.gc == "freeze":
        gc.freeze()
    elif args.gc == "off":
        gc.disable()
    load = "/".join(f"{x:.2f}" for x in os.getloadavg())
    listing_ended: list[float] = []
    iter_users = conn.iter_users

    def timed_iter_users(page_size: int | None = None) -> Iterator[Any]:
        yield from iter_users(page_size)
        listing_ended.append(time.monotonic())  # in the read-ahead thread

    conn.iter_users = timed_iter_users  # type: ignore[method-assign]
    with CaptureQueriesContext(connection) as queries, GcTimer() as gcs:
        clock = Clock(pgid)
        if profiler:
            profiler.enable()
        record = run_pass(service)
        if profiler:
            profiler.disable()
        elapsed = clock.stop()
    del conn.iter_users
    ended = listing_ended[0] if listing_ended else float("nan")
    in_pass, tail = ended - clock.wall, clock.wall + elapsed[0] - ended
    gc.enable()
    gc.unfreeze()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    if profiler and profile:
        profiler.dump_stats(profile)

    users = list(conn.iter_users())
    conn.iter_users = lambda page_size=None: iter(users)  # type: ignore[method-assign]
    clock = Clock(pgid)
    ours_record = run_pass(service)
    ours = clock.stop()
    del conn.iter_users
    pages = max(1, -(-n // 300))  # the active users' pages; the other two lists are empty
    writes = [
        q["sql"] for q in queries if q["sql"].split()[0].upper() in {"INSERT", "UPDATE", "DELETE"}
    ]
    account_writes = [w for w in writes if "reconcilepass" not in w]
    if account_writes:
        print("first write:", account_writes[0][:300])
    rows = [
        ("database", connection.vendor),
        ("vendor users", n),
        ("seeding sandbox / engine DB (s)", f"{seeded:.1f} / {loaded:.1f}"),
        ("listing only, bare loop (s wall / CPU / sandbox CPU)", shown(listing)),
        ("  the same per page of 300 (ms)", shown(listing, pages / 1000, 0)),
        ("reconcile pass (s wall / CPU / sandbox CPU)", shown(elapsed)),
        ("  its listing's last page / the rest after it (s)", shown((in_pass, tail))),
        ("our side only, listing pre-read (same)", shown(ours)),
        ("load average before the pass (1/5/15 min)", load),
        (f"garbage collections in the pass (full / all, s), gc {args.gc}", gcs.shown()),
        ("users seen", record.seen),
        ("changes", record.changes or "none"),
        ("SQL statements", len(queries)),
        ("writes (all)", len(writes)),
        ("writes other than the pass record", len(account_writes)),
        ("peak RSS of this process by the pass's end (MB)", rss),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    ok = not account_writes and record.seen == n and listed == n
    return 0 if ok and ours_record.seen == n and not ours_record.changes else 1


if __name__ == "__main__":
    sys.exit(main())
