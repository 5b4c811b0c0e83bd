"""The term-start rush on the portal, measured with Locust, while a campaign runs.

    uv run python bench/rush.py                      # bounded: about 4 minutes
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test uv run python bench/rush.py
    uv run python bench/rush.py --full               # 5,000 members over 10 minutes

On a fresh database (bench_db) and a fresh sandbox at the vendors' real limits (Zoom
Business, Webex's default, no scaling): a directory of ``--directory`` members, a
campaign of ``--campaign`` of them started on ``--campaign-service``, the engine's
workers running (``campusconf worker``, as the demo starts them) and the web served as
the demo serves it (``campusconf serve``: gunicorn, the development settings, so that
the development sign-in exists). Then, at once:

- the rush (bench/rush_locustfile.py, open model): ``--members`` other members start
  over the first three quarters of ``--minutes``; each signs in, opens /my/, applies
  for both services and keeps /my/ open, reloading it every ``--poll`` seconds
  (± half). /healthz is asked at a steady 2/s by the same Locust, from the same server:
  the bare page beside the portal's.
- after it, three closed loops of ``--connections`` users with no pause: /healthz, then
  /my/ (each its own signed-in member), then a waiting card's refresh (members who
  applied first), ``--closed-seconds`` each; /my/ against /healthz is the portal's cost
  against Django's bare page, the card against /my/ a live card's update against a render.

Prints the table of every page and action (requests, errors, p50/p95/p99 ms), the
closed-loop rates and ratio, and how the applications reached the vendors: the
members' own jobs against the campaign's, waits from the job's creation to its end.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

from bench import tables  # noqa: E402 - after the path is set
from bench.bench_db import database_url, drop_database  # noqa: E402

from vendor_sandbox.launcher import (  # noqa: E402
    connector_settings,
    free_port,
    running_sandbox,
    vendor_env,
)

LOCUSTFILE = ROOT / "bench" / "rush_locustfile.py"
FIRST_ID = 4_000_000_000
MAIL_DOMAIN = "rush.example.ac.jp"
START_SECONDS = 240


def populate(directory: int, campaign: int, creds: dict[str, Any]) -> None:
    """The directory: the first ``campaign`` members are the campaign's students, the
    rest faculty who apply themselves (the rush and the closed loop take them in turn)."""
    from campusconf.members.models import Member, MemberAddress
    from campusconf.services.models import Service

    for order, vendor in enumerate(("zoom", "webex")):
        Service.objects.create(
            slug=vendor,
            vendor=vendor,
            display_order=order,
            name_ja=vendor.capitalize(),
            name_en=vendor.capitalize(),
            plan_name="Business" if vendor == "zoom" else "Enterprise",
            max_participants=300,
            invitation_validity_days=15 if vendor == "webex" else 30,
            eligible_roles="faculty staff student",
            connector_settings=connector_settings(vendor, creds, plan="business"),
        )
    step = 5000
    for start in range(0, directory, step):
        members = Member.objects.bulk_create(
            Member(
                common_id=f"{FIRST_ID + i:010d}",
                family_name_ja="試験",
                given_name_ja="花子",
                family_name_latin="Rush",
                given_name_latin=f"M{i}",
                roles="student" if i < campaign else "faculty",
                affiliation="Faculty of Science",
                university_account_created_on=datetime.date(2020, 4, 1),
            )
            for i in range(start, min(start + step, directory))
        )
        MemberAddress.objects.bulk_create(
            MemberAddress(member=m, address=f"{m.common_id}@{MAIL_DOMAIN}", is_primary=True)
            for m in members
        )


def start(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    out = log.open("ab")
    return subprocess.Popen(cmd, env=env, stdout=out, stderr=out, start_new_session=True)


def stop(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def wait_healthy(url: str, process: subprocess.Popen[bytes]) -> None:
    # On a machine shared with other work, gunicorn's workers may take a minute to boot.
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url + "/healthz", timeout=10).status_code == 200:
                return
        if process.poll() is not None:
            raise SystemExit("the web server did not start; see its log")
        time.sleep(0.3)
    raise SystemExit(f"the web server did not answer /healthz within {START_SECONDS} s")


def locust(
    url: str, env: dict[str, str], prefix: Path, users: int, rate: float, seconds: int
) -> dict[str, dict[str, str]]:
    """One headless Locust run; its rows by request name (and 'Aggregated')."""
    cmd = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless"]
    cmd += ["-u", str(users), "-r", f"{rate:g}", "-t", f"{seconds}s", "--host", url]
    cmd += ["--csv", str(prefix), "--only-summary", "--stop-timeout", "5", "--loglevel", "ERROR"]
    with (prefix.parent / f"{prefix.name}.log").open("wb") as log:
        subprocess.run(cmd, env=env, stdout=log, stderr=log, check=False)
    with open(f"{prefix}_stats.csv", newline="") as f:
        return {row["Name"]: row for row in csv.DictReader(f)}


def closed_loop(
    args: argparse.Namespace,
    url: str,
    env: dict[str, str],
    tmp: Path,
    mode: str,
    web_pid: int,
    skip: int = 0,
    lead: int = 10,
) -> dict[str, float]:
    """Requests/s, errors and p50/p99 ms of one page asked by ``--connections`` users
    without a pause, counted from the moment all of them are signed in."""
    out = tmp / f"{mode}.json"
    closed_env = {
        **env,
        "RUSH_MODE": mode,
        # ``skip``: a loop after another takes members of its own (the card loop applies).
        "RUSH_FIRST_ID": str(FIRST_ID + args.campaign + args.members + skip),
        "RUSH_CLOSED_USERS": str(args.connections),
        "RUSH_OUT": str(out),
        "RUSH_WEB_PID": str(web_pid),
    }
    n = args.connections
    # The sign-ins come first: the run lasts that much longer than the measured window.
    locust(url, closed_env, tmp / mode, n, n, args.closed_seconds + lead)
    record = json.loads(out.read_text())
    times = sorted(record["times_ms"])
    cuts = statistics.quantiles(times, n=100) if len(times) > 1 else [0.0] * 99
    return {
        # What the web's workers spent per answer: other load on the machine slows the
        # rate, but hardly changes this.
        "cpu_ms": 1000 * record["cpu"] / max(len(times), 1),
        "rate": len(times) / record["seconds"],
        "errors": record["failures"],
        "p50": cuts[49],
        "p99": cuts[98],
    }


def job_waits() -> list[tuple[str, str, int, int, str, str]]:
    """Per service and lane: jobs, jobs done, and p50/p95 seconds from creation to end."""
    from campusconf.provisioning.models import Job, Lane

    rows = []
    for slug in ("zoom", "webex"):
        for lane in (Lane.MEMBER, Lane.BULK):
            jobs = Job.objects.filter(service__slug=slug, lane=lane, account__isnull=False)
            ends = jobs.filter(finished_at__isnull=False).values_list("created_at", "finished_at")
            done = [(f - c).total_seconds() for c, f in ends if f is not None]
            p50 = f"{statistics.median(done):.1f}" if done else "—"
            p95 = f"{statistics.quantiles(done, n=20)[18]:.1f}" if len(done) > 1 else "—"
            rows.append((slug, lane.name.lower(), jobs.count(), len(done), p50, p95))
    return rows


def ms(row: dict[str, str], key: str) -> str:
    value = row.get(key, "N/A")
    return "—" if value in ("N/A", "") else f"{float(value):.0f}"


def run(args: argparse.Namespace) -> int:
    print(f"# rush: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, load {tables.load()}")
    tmp = Path(tempfile.mkdtemp(prefix="rush-bench-"))
    base_url = os.environ.get("DATABASE_URL", "")
    db_url, pg_name = database_url(tmp)
    # The vendors' own limits, unscaled: Zoom Business and Webex's per-minute default.
    sandbox_env = {
        "SANDBOX_LIMITS": "1",
        "SANDBOX_ZOOM_PLAN": "Business",
        "SANDBOX_RATE_SCALE": "1",
    }
    try:
        with running_sandbox(tmp, **sandbox_env) as sandbox:
            creds = sandbox.credentials()
            env = {
                **os.environ,
                **vendor_env(creds),
                "DJANGO_SETTINGS_MODULE": "campusconf.settings.dev",
                "CAMPUSCONF_DEV_LOGIN": "1",
                "DATABASE_URL": db_url,
                "CAMPUSCONF_VAR_DIR": str(tmp),
                "CAMPUSCONF_MAIL_DOMAIN": MAIL_DOMAIN,
                "LOG_LEVEL": "WARNING",
                # Every simulated member comes from 127.0.0.1: the per-address sign-in
                # limit would otherwise stop the rush after 30 members a minute.
                "CAMPUSCONF_SIGNIN_RATE_LIMIT": "1000000",
                # The notices go nowhere: port 1025 may be another program's.
                "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
            }
            os.environ.update(env)
            subprocess.run(
                [sys.executable, "-m", "campusconf.cli", "migrate", "-v0"], env=env, check=True
            )
            import django

            django.setup()
            return measure(args, tmp, env, sandbox)
    finally:
        drop_database(base_url, pg_name)


def measure(args: argparse.Namespace, tmp: Path, env: dict[str, str], sandbox: Any) -> int:
    from campusconf.provisioning.verbs import campaign_enrolment
    from campusconf.services.models import Service

    t0 = time.monotonic()
    populate(args.directory, args.campaign, sandbox.credentials())
    print(f"# directory of {args.directory:,} members in {time.monotonic() - t0:.0f} s")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    campusconf = [sys.executable, "-m", "campusconf.cli"]
    serve = [*campusconf, "serve", "--bind", f"127.0.0.1:{port}", "--no-control-socket"]
    serve += ["--workers", str(args.web_workers), "--threads", str(args.threads)]
    web = start(serve, env, tmp / "web.log")
    workers = start(
        [*campusconf, "worker", "--processes", str(args.engine_workers)], env, tmp / "worker.log"
    )
    try:
        wait_healthy(url, web)
        campaign_service = Service.objects.get(slug=args.campaign_service)
        _, planned, _ = campaign_enrolment.start_campaign(campaign_service, roles=["student"])
        print(f"# campaign of {planned:,} on {args.campaign_service} started")
        before = sandbox.admin("GET", "counters")
        if args.closed_only:
            args.members = 0
        seconds = int(args.minutes * 60)
        rate = args.members / (0.75 * seconds)
        locust_env = {
            **env,
            "RUSH_MODE": "rush",
            "RUSH_FIRST_ID": str(FIRST_ID + args.campaign),
            "RUSH_POLL_SECONDS": str(args.poll),
        }
        rush = {}
        if not args.closed_only:
            rush = locust(url, locust_env, tmp / "rush", args.members + 1, rate, seconds)
        during = job_waits()
        after = sandbox.admin("GET", "counters")
        bare = closed_loop(args, url, env, tmp, "closed-healthz", web.pid)
        page = closed_loop(args, url, env, tmp, "closed-my", web.pid)
        # Its users apply before their loop starts: a longer lead on a loaded machine.
        card = closed_loop(
            args, url, env, tmp, "closed-card", web.pid, skip=args.connections, lead=60
        )
    finally:
        stop(workers)
        stop(web)
    report(args, rush, bare, page, card, during, before, after)
    errors = sum(int(r["Failure Count"]) for k, r in rush.items() if k != "Aggregated")
    print(f"# logs in {tmp}")
    return 1 if errors else 0


def report(
    args: argparse.Namespace,
    rush: dict[str, dict[str, str]],
    bare: dict[str, float],
    page: dict[str, float],
    card: dict[str, float],
    waits: list[tuple[str, str, int, int, str, str]],
    before: dict[str, Any],
    after: dict[str, Any],
) -> None:
    print(
        f"\n## the rush: {args.members:,} members in {args.minutes:g} min, directory "
        f"{args.directory:,}, campaign {args.campaign:,} on {args.campaign_service}, "
        f"poll every {args.poll:g} s"
    )
    print("| page or action | requests | errors | p50 ms | p95 ms | p99 ms | max ms |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, row in rush.items():
        print(
            f"| {name} | {row['Request Count']} | {row['Failure Count']} | {ms(row, '50%')} "
            f"| {ms(row, '95%')} | {ms(row, '99%')} | {ms(row, 'Max Response Time')} |"
        )
    print(f"\n## closed loop, {args.connections} connections, {args.closed_seconds} s each")
    print("| page | requests/s | errors | p50 ms | p99 ms | web CPU ms per request |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, loop in (("/healthz", bare), ("/my/", page), ("live card, unchanged", card)):
        print(
            f"| {label} | {loop['rate']:.0f} | {loop['errors']:.0f} | {loop['p50']:.0f} "
            f"| {loop['p99']:.0f} | {loop['cpu_ms']:.1f} |"
        )
    ratio = page["rate"] / bare["rate"] if bare["rate"] else 0.0
    by_cpu = bare["cpu_ms"] / page["cpu_ms"] if page["cpu_ms"] else 0.0
    print(f"| /my/ ÷ /healthz (target ≥ 0.6) | {ratio:.2f} | | | | {by_cpu:.2f} |")
    card_cost = card["cpu_ms"] / page["cpu_ms"] if page["cpu_ms"] else 0.0
    print(f"| live card ÷ /my/ by CPU (target ≤ 0.2) | | | | | {card_cost:.2f} |")
    print("\n## applications at the vendors, at the rush's end")
    print("| service | lane | jobs | done | p50 s to done | p95 s to done |")
    print("|---|---|---:|---:|---:|---:|")
    for slug, lane, count, done, p50, p95 in waits:
        print(f"| {slug} | {lane} | {count} | {done} | {p50} | {p95} |")
    calls = sum(after["requests"].values()) - sum(before["requests"].values())
    limited = after["rate_limited"] - before["rate_limited"]
    print(f"\nvendor calls during the rush: {calls}, 429s: {limited}; load {tables.load()}")


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--full", action="store_true", help="the issue's rush: 5,000 members, 10 min")
    ap.add_argument("--directory", type=int, default=40_000, help="members in the directory")
    ap.add_argument("--members", type=int, default=300, help="members in the rush")
    ap.add_argument("--minutes", type=float, default=3.0, help="length of the rush")
    ap.add_argument("--campaign", type=int, default=2_000, help="members in the campaign")
    ap.add_argument("--campaign-service", choices=["zoom", "webex"], default="zoom")
    ap.add_argument("--poll", type=float, default=30.0, help="seconds between card reloads")
    ap.add_argument("--connections", type=int, default=64, help="closed-loop users")
    ap.add_argument("--closed-seconds", type=int, default=20, help="each closed loop's length")
    ap.add_argument("--web-workers", type=int, default=2, help="gunicorn workers (the demo's)")
    ap.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    ap.add_argument("--closed-only", action="store_true", help="only the two closed loops")
    ap.add_argument("--engine-workers", type=int, default=1, help="engine worker processes")
    return ap


def main() -> int:
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # progress, piped or not
    args = parser().parse_args()
    if args.full:
        args.members, args.minutes, args.campaign = 5_000, 10.0, 10_000
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
