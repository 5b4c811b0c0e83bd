"""A campaign run by real worker processes against the vendor sandbox, then checked.

    uv run python bench/engine_campaign.py --accounts 2000 --workers 4 --faults --kill
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test uv run python bench/engine_campaign.py …

With --faults the sandbox answers 5 % 5xx, 5 % time-outs, 2 % lost responses, 10 s of
eventual consistency and (with limits on) 429 bursts; with --kill a random worker is
SIGKILLed every 4-10 seconds and started again. At the end it checks that every account
is invited, that the sandbox holds exactly one user per account, and that no job is
lost or stuck; it prints a table and exits 1 if any check failed. The engine's tests
run it small (tests/provisioning/test_campaign_soak.py).
"""

from __future__ import annotations

import argparse
import datetime
import os
import random
import resource
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

from tests.provisioning.sandbox import (  # noqa: E402 - after the path is set
    connector_settings,
    running_sandbox,
    vendor_env,
)

FAULTS = {
    "error_rate": 0.05,
    "timeout_rate": 0.05,
    "timeout_seconds": 3.0,
    "lost_response_rate": 0.02,
    "consistency_delay_seconds": 10.0,
}


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


def populate(n: int, vendor: str, settings: dict[str, Any]) -> Any:
    from campusconf.members.models import Member, MemberAddress
    from campusconf.services.models import Service

    service = Service.objects.create(
        slug=vendor,
        vendor=vendor,
        name_ja=vendor,
        name_en=vendor,
        plan_name="bench",
        max_participants=300,
        invitation_validity_days=15,
        eligible_roles="faculty staff student",
        connector_settings=settings,
    )
    members = Member.objects.bulk_create(
        Member(
            common_id=f"{5000000000 + i:010d}",
            family_name_latin="Bench",
            given_name_latin=f"M{i}",
            roles="student",
            university_account_created_on=datetime.date(2020, 4, 1),
        )
        for i in range(n)
    )
    MemberAddress.objects.bulk_create(
        MemberAddress(member=m, address=f"{m.common_id}@g.ecc.example.ac.jp", is_primary=True)
        for m in members
    )
    return service


def raw_create_rate(service: Any, count: int, threads: int) -> float:
    """Creates per second by bare connector loops (one per worker), no engine at all."""
    from concurrent.futures import ThreadPoolExecutor

    from campusconf.connectors.base import UserSpec
    from campusconf.connectors.factory import build_connector
    from campusconf.provisioning.vendors import split_settings

    plain, secrets = split_settings(service.connector_settings)

    def loop(part: int) -> None:
        conn = build_connector(service.vendor, plain, secrets)
        for i in range(part, count, threads):
            conn.create_user(UserSpec(f"raw{i}@raw.example.org", "R", f"{i}", f"R {i}"))

    start = time.monotonic()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(loop, range(threads)))
    return count / (time.monotonic() - start)


class Workers:
    def __init__(self, count: int, env: dict[str, str]) -> None:
        self.env = env
        self.procs = [self._start() for _ in range(count)]
        self.kills = 0

    def _start(self) -> subprocess.Popen[bytes]:
        cmd = [sys.executable, "-m", "campusconf.cli", "run_worker"]
        return subprocess.Popen(
            cmd,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=None if os.environ.get("BENCH_LOG_LEVEL") else subprocess.DEVNULL,
        )

    def kill_one(self) -> None:
        i = random.randrange(len(self.procs))
        self.procs[i].kill()
        self.procs[i].wait()
        self.kills += 1
        self.procs[i] = self._start()

    def peak_rss_mb(self) -> float:
        return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024

    def stop(self) -> None:
        for p in self.procs:
            p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--accounts", type=int, default=200)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--vendor", choices=["zoom", "webex"], default="zoom")
    ap.add_argument("--faults", action="store_true")
    ap.add_argument("--kill", action="store_true", help="SIGKILL a random worker every 4-10 s")
    ap.add_argument("--limits", action="store_true", help="sandbox and engine rate limits on")
    ap.add_argument("--plan", default="pro")
    ap.add_argument("--rate-scale", type=float, default=1.0)
    ap.add_argument("--raw", type=int, default=0, help="first time N creates by a bare client loop")
    ap.add_argument("--deadline", type=float, default=600.0, help="give up after this many s")
    args = ap.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="engine-bench-"))
    base_url = os.environ.get("DATABASE_URL", "")
    db_url, pg_name = database_url(tmp)
    sandbox_env = {
        "SANDBOX_LIMITS": "1" if args.limits else "0",
        "SANDBOX_ZOOM_PLAN": args.plan.capitalize(),
        "SANDBOX_RATE_SCALE": str(args.rate_scale),
        "SANDBOX_WORKERS": "4",
    }
    try:
        with running_sandbox(tmp, **sandbox_env) as sandbox:
            creds = sandbox.credentials()
            env = {
                **os.environ,
                **vendor_env(creds),
                "DJANGO_SETTINGS_MODULE": "campusconf.settings.test",
                "DATABASE_URL": db_url,
                "CAMPUSCONF_VAR_DIR": str(tmp),
                "LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
                "CAMPUSCONF_ENGINE_LEASE_SECONDS": "8",
                "CAMPUSCONF_ENGINE_BACKOFF_BASE_SECONDS": "0.5",
                "CAMPUSCONF_ENGINE_BACKOFF_MAX_SECONDS": "10",
                "CAMPUSCONF_ENGINE_MAX_ATTEMPTS": "30",
                "CAMPUSCONF_ENGINE_RATE_LIMITS": "1" if args.limits else "0",
                "CAMPUSCONF_ENGINE_POLL_SECONDS": "0.2",
                "CAMPUSCONF_ENGINE_RECONCILE_MINUTES": "100000",
            }
            os.environ.update(env)
            subprocess.run(
                [sys.executable, "-m", "campusconf.cli", "migrate", "-v0"], env=env, check=True
            )
            import django

            django.setup()
            return run(args, sandbox, creds, env)
    finally:
        drop_database(base_url, pg_name)


def run(args: argparse.Namespace, sandbox: Any, creds: dict[str, Any], env: dict[str, str]) -> int:
    from campusconf.provisioning import campaigns, schedules
    from campusconf.provisioning.models import Job, Schedule

    extra = {"timeout_seconds": 2, "plan": args.plan}
    service = populate(args.accounts, args.vendor, connector_settings(args.vendor, creds, **extra))
    raw_rate = raw_create_rate(service, args.raw, args.workers) if args.raw else None
    schedules.ensure()
    Schedule.objects.update(next_run_at=datetime.datetime(2100, 1, 1, tzinfo=datetime.UTC))
    t0 = time.monotonic()
    _, planned, _ = campaigns.start_campaign(service, roles=["student"])
    t_queued = time.monotonic() - t0
    if args.faults:
        sandbox.faults(**FAULTS)
    workers = Workers(args.workers, env)
    start = time.monotonic()
    live = Job.objects.filter(status__in=["queued", "running"])
    faulty = args.faults
    try:
        while live.exists() and time.monotonic() - start < args.deadline:
            # A worker takes a few seconds to start: kill one every 4-10 s, so that
            # work goes on between the kills.
            time.sleep(random.uniform(4, 10) if args.kill else 1)
            fresh = live.filter(status="queued", attempts=0).exists()
            if args.kill and fresh:
                workers.kill_one()
            if faulty and not fresh:
                faulty = not clear_faults(sandbox)  # the tail converges without new faults
    finally:
        elapsed = time.monotonic() - start
        workers.stop()
    return report(args, sandbox, service, planned, elapsed, t_queued, workers, raw_rate)


def clear_faults(sandbox: Any) -> bool:
    # The sandbox's admin API draws its 5xx faults too: try again.
    for _ in range(20):
        try:
            sandbox.faults()
            return True
        except Exception:  # any failure here is the injected 5xx
            time.sleep(0.2)
    return False


def report(
    args: argparse.Namespace,
    sandbox: Any,
    service: Any,
    planned: int,
    elapsed: float,
    t_queued: float,
    workers: Workers,
    raw_rate: float | None = None,
) -> int:
    from django.db.models import Count

    from campusconf.accounts.models import Account
    from campusconf.provisioning.models import Job, RateBucket

    users = sandbox.zoom_users() if args.vendor == "zoom" else sandbox.webex_people()
    emails = [u["email"].lower() for u in users if not u["email"].endswith("@raw.example.org")]
    wanted = {
        a.lower()
        for a in Account.objects.filter(service=service).values_list(
            "member__addresses__address", flat=True
        )
    }
    states = dict(Account.objects.values_list("state").annotate(n=Count("id")))
    jobs = dict(Job.objects.values_list("status").annotate(n=Count("id")))
    counters = sandbox.admin("GET", "counters")
    calls = sum(counters["requests"].values())
    waits = sum(RateBucket.objects.values_list("waits", flat=True))
    finished = sorted(Job.objects.exclude(finished_at=None).values_list("finished_at", flat=True))
    span = (finished[-1] - finished[0]).total_seconds() if len(finished) > 1 else 0.0
    checks = {
        "every account invited": states == {"invited": planned},
        "one vendor user per account": sorted(emails) == sorted(wanted),
        "no duplicate vendor user": len(emails) == len(set(emails)),
        "no job lost, stuck or failed": jobs == {"done": planned},
    }
    rows = [
        ("accounts", planned),
        ("workers", args.workers),
        ("worker SIGKILLs", workers.kills),
        ("faults", "on" if args.faults else "off"),
        ("queueing the campaign (s)", f"{t_queued:.1f}"),
        ("wall time (s)", f"{elapsed:.1f}"),
        ("raw create rate, bare client loop (/s)", f"{raw_rate:.1f}" if raw_rate else "-"),
        ("jobs/s, first to last finish", f"{(len(finished) - 1) / span:.1f}" if span else "-"),
        ("vendor calls", calls),
        ("vendor 429s", counters["rate_limited"]),
        ("429s / calls", f"{counters['rate_limited'] / max(calls, 1):.2%}"),
        ("paced waits", waits),
        ("peak worker RSS (MB)", f"{workers.peak_rss_mb():.0f}"),
        ("jobs needing retries", Job.objects.filter(attempts__gt=1).count()),
        ("account states", states),
        ("job states", jobs),
        *((f"check: {k}", "ok" if v else "FAILED") for k, v in checks.items()),
    ]
    width = max(len(str(k)) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
