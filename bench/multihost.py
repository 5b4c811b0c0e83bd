"""Several machines, one PostgreSQL, one vendor: a campaign across three hosts, with one
host's network cut and another's workers SIGKILLed mid-campaign, then checked.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test uv run python bench/multihost.py
    CI's size (tests/deploy/test_multihost.py): --accounts 300 --processes 1 --plan pro
        --rate-scale 0.5 --batch 16 --enrol-during --cut-after 2 --cut-for 9 --kill-after 4

Needs root and `ip netns` (bench/multihost_net.py makes the hosts: network namespaces,
a veth each, addresses in 10.231.0.0/16 only) and PostgreSQL: the hosts reach the
machine's server through a TCP relay this script starts (bench/tcp_relay.py), and one
vendor sandbox with Zoom's rate limits on (Business by default: Pro's daily cap is
1,500 creates), on an address every host reaches. Each host runs `campusconf serve` and
`campusconf worker --processes N` on the one database, with a hostname of its own (the
engine names its workers after the host). The webs boot while the database is migrated;
the campaign is queued, then the workers start once every web answers (--enrol-during:
the campaign is queued while the workers boot, as CI does to save a minute). Counted from the first job done, host 1's
link goes down for --cut-for seconds and comes back, and host 2's workers are SIGKILLed
and started again (as systemd would).

It prints bench/campaign_report.py's table and checks (the engine soak's: every account
invited, one vendor user per account, no job lost, stuck or failed, one token renewal
at a time), then a row per host — users created, calls and 429s, as the sandbox counted
them by the host's address — and the checks of this proof; exits 1 if any failed.
"""

from __future__ import annotations

import argparse
import datetime
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
STARTED = time.monotonic()
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

from bench import multihost_net, multihost_report  # noqa: E402 - after the path is set
from bench.bench_db import database_url, drop_database  # noqa: E402
from bench.campaign_report import report, settled_counters  # noqa: E402
from bench.engine_campaign import populate  # noqa: E402

from vendor_sandbox.launcher import (  # noqa: E402
    connector_settings,
    free_port,
    running_sandbox,
    vendor_env,
)


class Host:
    def __init__(self, net: multihost_net.Network, n: int, env: dict[str, str], tmp: Path) -> None:
        self.net, self.n, self.name = net, n, f"host{n}"
        self.env = {**env, "CAMPUSCONF_VAR_DIR": str(tmp / self.name)}
        self.log = (tmp / f"{self.name}.log").open("ab")
        # The web as the demo serves it (the development settings: the test settings
        # collect no static files), answering to this host's address.
        web = ["serve", "--bind", f"{net.address(n)}:8000", "--no-control-socket"]
        web_env = {
            "DJANGO_SETTINGS_MODULE": "campusconf.settings.dev",
            "ALLOWED_HOSTS": net.address(n),
            "CAMPUSCONF_DEV_LOGIN": "0",
        }
        self.web = self._start([*web, "--workers", "1", "--threads", "2"], web_env)
        self.workers: subprocess.Popen[bytes] | None = None

    def _start(
        self, command: list[str], env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        argv = [sys.executable, "-m", "campusconf.cli", *command]
        environ = {**self.env, **(env or {})}
        return self.net.run_in(
            self.n, self.name, argv, env=environ, stdout=self.log, stderr=self.log
        )

    def start_workers(self, processes: int) -> None:
        self.workers = self._start(["worker", "--processes", str(processes)])

    def worker_pids(self) -> list[int]:
        out = multihost_net.ip("netns", "pids", self.net.namespaces[self.n - 1], check=False)
        pids = []
        for pid in out.split():
            try:
                if b"run_worker" in Path(f"/proc/{pid}/cmdline").read_bytes():
                    pids.append(int(pid))
            except OSError:
                continue
        return pids

    def healthy(self) -> bool:
        import httpx

        try:
            r = httpx.get(f"http://{self.net.address(self.n)}:8000/healthz", timeout=3)
            return r.status_code == 200
        except httpx.HTTPError:
            return False

    def terminate(self) -> None:
        for p in (self.workers, self.web):
            if p is not None and p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)

    def stop(self) -> None:
        self.terminate()
        for p in (self.workers, self.web):
            if p is None:
                continue
            try:
                # Every job has ended: no need for the supervisor's 30 s of grace. What
                # a SIGKILL here leaves (its workers) goes with the namespace.
                p.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        self.log.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--accounts", type=int, default=3000)
    ap.add_argument("--hosts", type=int, default=3)
    ap.add_argument("--processes", type=int, default=2, help="engine workers per host")
    # Business: Pro's daily cap of 1,500 creates would stop a 3,000-account campaign.
    ap.add_argument("--plan", default="business", help="Zoom plan: business (80/s) or pro (30/s)")
    ap.add_argument("--rate-scale", type=float, default=1.0, help="the vendor's limits × this")
    ap.add_argument("--batch", type=int, default=128, help="jobs in flight per worker")
    ap.add_argument("--cut-after", type=float, default=10, help="s after the first job: cut host 1")
    ap.add_argument("--cut-for", type=float, default=15, help="s host 1 stays cut off")
    ap.add_argument("--kill-after", type=float, default=15, help="s: SIGKILL host 2's workers")
    ap.add_argument(
        "--enrol-during",
        action="store_true",
        help="start the workers while the campaign is enrolled (CI: quicker; enrolment-paced)",
    )
    ap.add_argument("--deadline", type=float, default=900, help="give up after this many s")
    args = ap.parse_args(argv)
    base_url = os.environ.get("DATABASE_URL", "")
    if not base_url.startswith("postgres"):
        # `make bench` runs every script, on SQLite unless told otherwise: not a failure.
        print("nothing run: several machines share one PostgreSQL; set DATABASE_URL=postgres://…")
        return 0
    why = multihost_net.available()
    if why:
        raise SystemExit(f"cannot make the hosts: {why}")
    # SIGTERM (a time-out) unwinds like an error, so everything made is undone.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    tmp = Path(tempfile.mkdtemp(prefix="multihost-"))
    db_url, pg_name = database_url(tmp)
    try:
        with multihost_net.Network(args.hosts) as net:
            print("hosts' namespaces ", " ".join(net.namespaces), flush=True)
            return with_network(args, net, tmp, db_url)
    finally:
        drop_database(base_url, pg_name)


def with_network(
    args: argparse.Namespace, net: multihost_net.Network, tmp: Path, db_url: str
) -> int:
    shared = net.service_address
    pg = urllib.parse.urlsplit(db_url)
    relay_port = free_port(shared)
    relay = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "bench" / "tcp_relay.py"),
            f"{shared}:{relay_port}",
            f"{pg.hostname}:{pg.port or 5432}",
        ],
        stdout=subprocess.PIPE,
    )
    try:
        assert relay.stdout is not None and relay.stdout.readline().strip() == b"ready"
        userinfo = pg.netloc.rpartition("@")[0]
        hosts_db = pg._replace(netloc=f"{userinfo}@{shared}:{relay_port}").geturl()
        sandbox_env = {
            "SANDBOX_LIMITS": "1",
            "SANDBOX_ZOOM_PLAN": args.plan.capitalize(),
            "SANDBOX_RATE_SCALE": str(args.rate_scale),
            "SANDBOX_COUNT_CLIENTS": "1",
        }
        with running_sandbox(tmp, host=shared, **sandbox_env) as sandbox:
            return campaign(args, net, sandbox, tmp, db_url, hosts_db)
    finally:
        relay.terminate()
        relay.wait(10)


def campaign(
    args: argparse.Namespace,
    net: multihost_net.Network,
    sandbox: Any,
    tmp: Path,
    db_url: str,
    hosts_db: str,
) -> int:
    creds = sandbox.credentials()
    env = {
        **os.environ,
        **vendor_env(creds),
        "DJANGO_SETTINGS_MODULE": "campusconf.settings.test",
        "DATABASE_URL": db_url,
        "LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
        "CAMPUSCONF_ENGINE_LEASE_SECONDS": "8",
        "CAMPUSCONF_ENGINE_BACKOFF_BASE_SECONDS": "0.5",
        "CAMPUSCONF_ENGINE_BACKOFF_MAX_SECONDS": "10",
        "CAMPUSCONF_ENGINE_MAX_ATTEMPTS": "30",
        "CAMPUSCONF_ENGINE_RATE_LIMITS": "1",
        "CAMPUSCONF_ENGINE_POLL_SECONDS": "0.2",
        "CAMPUSCONF_ENGINE_RECONCILE_MINUTES": "100000",
        "CAMPUSCONF_ENGINE_BATCH_SIZE": str(args.batch),
    }
    os.environ.update({**env, "CAMPUSCONF_VAR_DIR": str(tmp)})
    # The webs boot while the database is migrated (/healthz needs no table).
    hosts_env = {**env, "DATABASE_URL": hosts_db}
    hosts = [Host(net, n, hosts_env, tmp) for n in range(1, args.hosts + 1)]
    fleet = multihost_report.Fleet()
    marks: dict[str, Any] = {}
    try:
        subprocess.run([sys.executable, "-m", "campusconf.cli", "migrate", "-v0"], check=True)
        say("migrated")
        import django

        django.setup()
        from campusconf.provisioning.engine import schedules
        from campusconf.provisioning.models import Job, Schedule

        extra = {"timeout_seconds": 2, "plan": args.plan, "rate_scale": args.rate_scale}
        service = populate(args.accounts, "zoom", connector_settings("zoom", creds, **extra))
        schedules.ensure()
        Schedule.objects.update(next_run_at=datetime.datetime(2100, 1, 1, tzinfo=datetime.UTC))
        marks["before"] = settled_counters(sandbox)
        enrolled: dict[str, Any] = {}
        enrolling = threading.Thread(target=enrol, args=(service, enrolled), daemon=True)
        if not args.enrol_during:
            # Queued first, so that the workers meet the whole campaign at once.
            enrolling.start()
            enrolling.join()
        wait_until(lambda: all(h.healthy() for h in hosts), 180, "every host's web answers")
        marks["web before"] = [h.healthy() for h in hosts]
        say("every host's web answers")
        fleet.started_at = datetime.datetime.now(datetime.UTC)
        started = time.monotonic()
        for h in hosts:
            h.start_workers(args.processes)
        if args.enrol_during:
            # Enrolled while the workers boot, who take its jobs as they come: quicker,
            # but the pace may then be the enrolment's rather than the vendor's.
            enrolling.start()
        # The faults' times count from the first user created: workers take seconds to
        # start on a busy machine, and a cut before any work proves nothing.
        wait_until(Job.objects.filter(status="done").exists, 180, "the first job is done")
        say("first job done")
        drive(args, net, sandbox, hosts, fleet, marks, time.monotonic(), enrolling)
        elapsed = time.monotonic() - started
        say("every job ended")
        marks["web after"] = [h.healthy() for h in hosts]
        planned, t_queued = enrolled["planned"], enrolled["seconds"]
    finally:
        if "cut" in marks and "rejoin" not in marks:
            net.rejoin(1)
        multihost_report.sample(fleet, hosts)
        stop_all(hosts)
        say("every host stopped")
    run = argparse.Namespace(
        limits=True, vendor="zoom", workers=args.hosts * args.processes, faults=False
    )
    before = marks["before"]
    base = (sum(before["requests"].values()), before["rate_limited"], before["requests"])
    status = report(run, sandbox, service, planned, elapsed, t_queued, fleet, None, base)
    marks["after"] = settled_counters(sandbox)
    return status | multihost_report.hosts_table(hosts, service, marks, elapsed)


def enrol(service: Any, into: dict[str, Any]) -> None:
    """Queue the campaign (a thread of its own, with its own connection)."""
    from django.db import connection

    from campusconf.provisioning.verbs import campaign_enrolment

    t = time.monotonic()
    try:
        _, into["planned"], _ = campaign_enrolment.start_campaign(service, roles=["student"])
        into["seconds"] = time.monotonic() - t
        say(f"campaign of {into['planned']} queued")
    finally:
        connection.close()


def drive(
    args: argparse.Namespace,
    net: multihost_net.Network,
    sandbox: Any,
    hosts: list[Host],
    fleet: multihost_report.Fleet,
    marks: dict[str, Any],
    t0: float,
    enrolling: threading.Thread,
) -> None:
    """Cut host 1 off and let it back, SIGKILL host 2's workers, until every job ends."""
    from campusconf.provisioning.models import Job

    live = Job.objects.filter(status__in=["queued", "running"])
    killed = hosts[1 % len(hosts)]
    while time.monotonic() - t0 < args.deadline:
        now = time.monotonic() - t0
        if "cut" not in marks and now >= args.cut_after:
            net.cut(1)
            say("host 1 cut off")
            marks["cut"], marks["at cut"] = now, sandbox.admin("GET", "counters")
        if "rejoin" not in marks and now >= args.cut_after + args.cut_for:
            # Host 1 made no call since the cut: its counts here are settled.
            marks["at rejoin"] = sandbox.admin("GET", "counters")
            net.rejoin(1)
            marks["rejoin"] = now
            say("host 1 back")
        if "kill" not in marks and now >= args.kill_after:
            multihost_report.sample(fleet, hosts)
            pids = killed.worker_pids()
            for pid in pids:  # the workers first: each is in a process group of its own
                os.kill(pid, signal.SIGKILL)
            fleet.kills += len(pids)
            assert killed.workers is not None
            os.killpg(killed.workers.pid, signal.SIGKILL)  # then their supervisor
            killed.workers.wait()
            marks["kill"] = now
            say(f"host 2's {len(pids)} workers SIGKILLed")
            time.sleep(1)  # systemd's RestartSec
            killed.start_workers(args.processes)
        for h in hosts:  # one that exited by itself is started again, as systemd would
            if h.workers is not None and h.workers.poll() is not None:
                fleet.exits += 1
                h.start_workers(args.processes)
        multihost_report.sample(fleet, hosts)
        if "rejoin" in marks and "kill" in marks and not enrolling.is_alive() and not live.exists():
            break
        time.sleep(0.5)


def stop_all(hosts: list[Host]) -> None:
    """SIGTERM every host's processes at once, then wait for each (in parallel, not in turn)."""
    for h in hosts:
        h.terminate()
    for h in hosts:
        h.stop()


def say(what: str) -> None:
    """Where the run is, on stderr: a run takes minutes, most of them before the campaign."""
    print(f"[{time.monotonic() - STARTED:6.1f} s] {what}", file=sys.stderr, flush=True)


def wait_until(ready: Any, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not ready():
        if time.monotonic() > deadline:
            raise RuntimeError(f"gave up after {seconds:.0f} s waiting until {what}")
        time.sleep(0.5)


if __name__ == "__main__":
    sys.exit(main())
