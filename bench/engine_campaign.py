"""A campaign run by real worker processes against the vendor sandbox, then checked.

    uv run python bench/engine_campaign.py --accounts 2000 --workers 4 --faults --kill
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test uv run python bench/engine_campaign.py …

The pace table (20,000 invitations at Zoom Business limits ×10, limits on) is
bench/engine_pace.py, which runs this script with --limits and --raw; --pace here is
the same command. The ceiling table (limits off, the engine beside bare client loops)
is bench/engine_ceiling.py, which runs this script with --raw, --raw-after and --warmup:
--raw N first times N creates by two bare client loops (the connector alone, no engine,
no database; bench/bare_loops.py), --raw-after times the multiplexed one again after the
engine, --warmup N makes N untimed creates before anything. --pin puts the sandbox on
the last CPU and everything of ours (this script, the workers, the loops and, on
PostgreSQL, the server processes of the bench's database) on the others.

With --faults the sandbox answers 5 % 5xx, 5 % time-outs, 2 % lost responses, 10 s of
eventual consistency and (with limits on) 429 bursts; with --kill a random worker is
SIGKILLed every 4-10 seconds and started again; with --token-churn (Zoom) another
program asks for the app's token every 1-3 seconds, which knocks out the workers' one
(Errata Z-a: the sandbox's default). At the end it checks that every account is invited, that the
sandbox holds exactly one user per account, that no job is lost or stuck, that the
service never paused for its credential (no account failed or waited for an
authentication reason), and that the workers asked for a token once, plus once per
token knocked out or worker killed — not once each. It prints a table and exits 1 if
any check failed. The engine's tests run it small (tests/provisioning/test_campaign_soak.py).

--main-cpu runs the batch pipeline in this process instead (limits off, no faults) and
prints the worker main thread's CPU per job, the engine's own cost; --profile FILE adds
a cProfile of that thread, timed by its CPU clock:

    uv run python bench/engine_campaign.py --main-cpu --accounts 2000 [--profile main.prof]
"""

from __future__ import annotations

import argparse
import datetime
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

from bench import tables  # noqa: E402 - after the path is set
from bench.bench_db import Backends, cpu_seconds_of, database_url, drop_database  # noqa: E402
from bench.campaign_report import report, settled_counters  # noqa: E402

from vendor_sandbox.launcher import (  # noqa: E402
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


class Workers:
    def __init__(self, count: int, env: dict[str, str]) -> None:
        self.env = env
        self.procs = [self._start() for _ in range(count)]
        self.kills = 0
        self.exits = 0  # workers that ended by themselves, started again as systemd would
        self.cuts = 0  # times every database connection was cut (--cut-database)
        self.knocked_out = 0  # tokens asked for from outside (--token-churn)
        self.peak_kb = 0
        self.cpu: dict[int, float] = {}
        self.server_cpu: float | None = None  # PostgreSQL's processes serving them
        self.started_at = datetime.datetime.now(datetime.UTC)

    def _start(self) -> subprocess.Popen[bytes]:
        cmd = [sys.executable, "-m", "campusconf.cli", "run_worker"]
        return subprocess.Popen(
            cmd,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=None if os.environ.get("BENCH_LOG_LEVEL") else subprocess.DEVNULL,
        )

    def kill_one(self) -> None:
        self.sample_rss()
        self.sample_cpu()
        i = random.randrange(len(self.procs))
        self.procs[i].kill()
        self.procs[i].wait()
        self.kills += 1
        self.procs[i] = self._start()

    def restart_exited(self) -> None:
        for i, p in enumerate(self.procs):
            if p.poll() is not None:
                self.exits += 1
                self.procs[i] = self._start()

    def sample_cpu(self) -> None:
        """CPU seconds (user + system) of the live workers, before they stop."""
        for p in self.procs:
            seconds = cpu_seconds_of(p.pid)
            if seconds is not None:
                self.cpu[p.pid] = seconds

    def sample_rss(self) -> None:
        """Each live worker's peak RSS so far (VmHWM), kept across kills and restarts."""
        for p in self.procs:
            try:
                status = Path(f"/proc/{p.pid}/status").read_text()
            except OSError:
                continue
            for line in status.splitlines():
                if line.startswith("VmHWM:"):
                    self.peak_kb = max(self.peak_kb, int(line.split()[1]))

    def peak_rss_mb(self) -> float:
        return self.peak_kb / 1024

    def stop(self) -> None:
        self.sample_rss()
        self.sample_cpu()
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
    ap.add_argument(
        "--token-churn",
        action="store_true",
        help="Zoom: ask for the app's token from outside every 1-3 s (knocks the workers' out)",
    )
    ap.add_argument(
        "--cut-database",
        action="store_true",
        help="PostgreSQL: every 4-10 s, end every connection to the database, as a restart does",
    )
    ap.add_argument("--limits", action="store_true", help="sandbox and engine rate limits on")
    ap.add_argument("--plan", default="pro")
    ap.add_argument("--rate-scale", type=float, default=None, help="limits × this (default 1)")
    ap.add_argument("--raw", type=int, default=0, help="first time N creates by a bare client loop")
    ap.add_argument(
        "--raw-after", action="store_true", help="time the multiplexed bare loop again after"
    )
    ap.add_argument("--warmup", type=int, default=0, help="N untimed creates before anything")
    ap.add_argument("--deadline", type=float, default=600.0, help="give up after this many s")
    # The engine's defaults (provisioning/conf.py), so the bench measures what runs.
    ap.add_argument("--concurrency", type=int, default=32, help="vendor calls in flight per worker")
    ap.add_argument("--batch", type=int, default=128, help="jobs in flight per worker")
    ap.add_argument("--pace", action="store_true", help="the same as bench/engine_pace.py")
    ap.add_argument(
        "--pin",
        action="store_true",
        help="the sandbox on the last CPU, this script and its workers on the others",
    )
    ap.add_argument(
        "--main-cpu",
        action="store_true",
        help="run the pipeline in this process, limits off; print main-thread CPU per job",
    )
    ap.add_argument("--profile", default="", help="with --main-cpu: cProfile the main thread here")
    argv = sys.argv[1:] if argv is None else argv
    if "--pace" in argv:
        # The pace table has a script of its own; --pace stays for the commands on record.
        from bench import engine_pace

        return engine_pace.pace(engine_pace.parser().parse_args([a for a in argv if a != "--pace"]))
    args = ap.parse_args(argv)
    args.rate_scale = args.rate_scale or 1.0

    sandbox_cpus = None
    if args.pin:
        # A vendor's servers are not ours: the sandbox gets a core of its own, so the
        # engine and the bare loops are measured against the same sandbox capacity
        # rather than competing with it for CPU. PostgreSQL's server is not pinned.
        cpus = sorted(os.sched_getaffinity(0))
        if len(cpus) < 2:
            raise SystemExit("--pin needs two CPUs or more")
        sandbox_cpus = {cpus[-1]}
        os.sched_setaffinity(0, set(cpus[:-1]))  # the workers and the loops inherit it
    tmp = Path(tempfile.mkdtemp(prefix="engine-bench-"))
    base_url = os.environ.get("DATABASE_URL", "")
    db_url, pg_name = database_url(tmp)
    # PostgreSQL's server processes for this database are ours too: with --pin, on our
    # CPUs; their CPU per job is in the table beside the workers'.
    backends = None
    if pg_name:
        backends = Backends(base_url, pg_name, os.sched_getaffinity(0) if args.pin else None)
    sandbox_env = {
        "SANDBOX_LIMITS": "1" if args.limits else "0",
        "SANDBOX_ZOOM_PLAN": args.plan.capitalize(),
        "SANDBOX_RATE_SCALE": str(args.rate_scale),
        "SANDBOX_WORKERS": "4",
    }
    try:
        with running_sandbox(tmp, cpus=sandbox_cpus, **sandbox_env) as sandbox:
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
                "CAMPUSCONF_ENGINE_BATCH_SIZE": str(args.batch),
                "CAMPUSCONF_ENGINE_CONCURRENCY": str(args.concurrency),
            }
            os.environ.update(env)
            subprocess.run(
                [sys.executable, "-m", "campusconf.cli", "migrate", "-v0"], env=env, check=True
            )
            import django

            django.setup()
            if args.main_cpu:
                return main_cpu(args, creds)
            return run(args, sandbox, creds, env, backends)
    finally:
        drop_database(base_url, pg_name)


def run(
    args: argparse.Namespace,
    sandbox: Any,
    creds: dict[str, Any],
    env: dict[str, str],
    backends: Backends | None,
) -> int:
    from bench import bare_loops

    from campusconf.provisioning.engine import schedules
    from campusconf.provisioning.models import Job, Schedule
    from campusconf.provisioning.verbs import campaign_enrolment

    extra: dict[str, Any] = {"timeout_seconds": 2, "plan": args.plan, "rate_scale": args.rate_scale}
    if not args.limits:
        # Limits off: nothing may space the jobs (campaigns stamp run_after at the rate).
        extra["rate_limits"] = {"light": 1e6, "medium": 1e6, "api": 1e6}
    service = populate(args.accounts, args.vendor, connector_settings(args.vendor, creds, **extra))
    threads = args.workers * args.concurrency
    if args.warmup:
        # The sandbox's first requests load its code and warm its caches: not its rate.
        bare_loops.multiplexed(service, args.warmup, threads, prefix="warm")
    raw_rate = None
    if args.raw:
        # With limits on, the loops would only meet 429s; the threaded one shows what
        # the sandbox serves then.
        mux = None if args.limits else bare_loops.multiplexed(service, args.raw, threads)
        raw_rate = (bare_loops.threaded(service, args.raw, threads), mux)
    # The engine's calls and 429s are counted from here (the bare loop's are not its).
    before = settled_counters(sandbox)
    base = (sum(before["requests"].values()), before["rate_limited"], before["requests"])
    schedules.ensure()
    Schedule.objects.update(next_run_at=datetime.datetime(2100, 1, 1, tzinfo=datetime.UTC))
    t0 = time.monotonic()
    _, planned, _ = campaign_enrolment.start_campaign(service, roles=["student"])
    t_queued = time.monotonic() - t0
    if args.faults:
        sandbox.faults(**FAULTS)
    started_at = datetime.datetime.now(datetime.UTC)
    server_cpu = backends.cpu_seconds() if backends else 0.0
    workers = Workers(args.workers, env)
    start = time.monotonic()
    live = Job.objects.filter(status__in=["queued", "running"])
    faulty = args.faults
    churn = Churn(creds) if args.token_churn and args.vendor == "zoom" else None
    try:
        while live.exists() and time.monotonic() - start < args.deadline:
            # A worker takes a few seconds to start: kill one every 4-10 s, so that
            # work goes on between the kills.
            time.sleep(random.uniform(4, 10) if args.kill or args.cut_database else 1)
            workers.sample_rss()
            workers.restart_exited()
            if args.cut_database:
                cut_connections()
                workers.cuts += 1
            fresh = live.filter(status="queued", attempts=0).exists()
            # Killed while work is in flight too: the engine claims a whole campaign in
            # seconds, and a kill only while fresh jobs wait missed the runs altogether.
            if args.kill and (fresh or live.filter(status="running").exists()):
                workers.kill_one()
            if faulty and not fresh:
                faulty = not clear_faults(sandbox)  # the tail converges without new faults
    finally:
        elapsed = time.monotonic() - start
        if churn is not None:
            workers.knocked_out = churn.stop()
        workers.stop()
    workers.started_at = started_at
    if backends:
        # A backend that ended after its last reading (0.2 s before) misses that much.
        workers.server_cpu = backends.cpu_seconds() - server_cpu
    after = None
    if args.raw and args.raw_after and not args.limits:
        # The sandbox now holds the engine's users too: the loop again, on the same data.
        after = bare_loops.multiplexed(service, args.raw, threads, prefix="after")
    return report(
        args, sandbox, service, planned, elapsed, t_queued, workers, raw_rate, base, after
    )


def main_cpu(args: argparse.Namespace, creds: dict[str, Any]) -> int:
    """The engine's own CPU per job: the batch pipeline in this process, limits off.

    The worker's main thread claims, loads, gets the service's token, sends the creates
    over the multiplexer, reads their answers and settles; pool threads only run a create
    that is more than one request, or whose answer was a 401. ``time.thread_time`` of
    the main thread, summed over the pipeline's steps, is the engine's CPU; the
    process total adds the pool's. CPU time, not wall time, so other load on the
    machine changes the figure less.
    """
    import cProfile
    import pstats
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    from campusconf.provisioning import worker
    from campusconf.provisioning.fast_batch import pipeline
    from campusconf.provisioning.models import Job
    from campusconf.provisioning.verbs import campaign_enrolment

    extra = {"timeout_seconds": 5, "rate_limits": {"light": 1e6, "medium": 1e6, "api": 1e6}}
    service = populate(args.accounts, args.vendor, connector_settings(args.vendor, creds, **extra))
    _, planned, _ = campaign_enrolment.start_campaign(service, roles=["student"])
    # Timed by the main thread's CPU clock: waiting for answers is not CPU.
    profiler = cProfile.Profile(time.thread_time) if args.profile else None
    main_cpu_s = 0.0
    statements, stepping = [0], [False]

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        statements[0] += stepping[0]  # the pipeline's, not this loop's own check
        return execute(sql, params, many, context)

    cpu0, wall0 = time.process_time(), time.monotonic()
    with (
        ThreadPoolExecutor(args.concurrency, "vendor-call") as pool,
        connection.execute_wrapper(count),
    ):
        pipe = pipeline.Pipeline(
            worker.worker_id(), pool, args.batch, worker.run_one, connections=args.concurrency
        )
        live = Job.objects.filter(status__in=["queued", "running"])
        while time.monotonic() - wall0 < args.deadline:
            t = time.thread_time()
            if profiler:
                profiler.enable()
            stepping[0] = True
            busy = pipe.step()
            stepping[0] = False
            if profiler:
                profiler.disable()
            main_cpu_s += time.thread_time() - t
            if not busy and not live.exists():
                break
    cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
    from campusconf.accounts.models import Account
    from campusconf.portal.models import Notice

    done = Job.objects.filter(status="done").count()
    invited = Account.objects.filter(state="invited").count()
    notices = Notice.objects.filter(kind="invitation_sent").count()
    rows = [
        ("database", connection_vendor()),
        ("accounts", planned),
        ("jobs done", done),
        ("batch × concurrency", f"{args.batch} × {args.concurrency}"),
        ("main-thread CPU per job (µs)", f"{1e6 * main_cpu_s / max(done, 1):.0f}"),
        ("process CPU per job (µs, with client threads)", f"{1e6 * cpu / max(done, 1):.0f}"),
        ("SQL statements per job", f"{statements[0] / max(done, 1):.2f}"),
        ("wall (s)", f"{wall:.1f}"),
        ("accounts invited / invitation notices", f"{invited} / {notices}"),
        ("load", tables.load()),
    ]
    tables.print_rows(rows)
    if profiler:
        profiler.dump_stats(args.profile)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
    return 0 if done == invited == notices == planned else 1


def connection_vendor() -> str:
    from django.db import connection

    return str(connection.vendor)


class Churn:
    """Another program asking for the Zoom app's token every 1-3 s, on a thread of its own:
    each time, Zoom knocks out the token the workers share (the sandbox's default)."""

    def __init__(self, creds: dict[str, Any]) -> None:
        import threading

        self.creds, self.count = creds, 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="token-churn", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stopping.wait(random.uniform(1, 3)):
            knock_out_token(self.creds)
            self.count += 1

    def stop(self) -> int:
        self.stopping.set()
        self.thread.join()
        return self.count


def cut_connections() -> None:
    """End every connection to this database but the bench's own: what the workers meet
    when PostgreSQL restarts or a network path drops."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


def knock_out_token(creds: dict[str, Any]) -> None:
    import base64

    import httpx

    zoom = creds["zoom"]
    pair = f"{zoom['client_id']}:{zoom['client_secret']}".encode()
    httpx.post(
        zoom["oauth_url"],
        params={"grant_type": "account_credentials", "account_id": zoom["account_id"]},
        headers={"Authorization": "Basic " + base64.b64encode(pair).decode()},
        timeout=10,
    ).raise_for_status()


def clear_faults(sandbox: Any) -> bool:
    # The sandbox's admin API draws its 5xx faults too: try again.
    for _ in range(20):
        try:
            sandbox.faults()
            return True
        except Exception:  # any failure here is the injected 5xx
            time.sleep(0.2)
    return False


if __name__ == "__main__":
    sys.exit(main())
