"""Client CPU per connector call: bare create/get loops against the vendor sandbox.

Starts ``vendor-sandbox serve`` (limits off) on a free 127.0.0.1 port, builds one Webex
and one Zoom connector with ``build_connector`` (shared by all threads, as the engine
shares its cached connector), and runs ``create_user`` then ``get_user`` loops with 1
and 8 threads. It prints this process's CPU time (``time.process_time``, all threads)
per call in microseconds: the sandbox runs in another process, so its CPU is not
counted. Wall rates are printed too but mean little on a shared machine.

    uv run --frozen python bench/connector_client.py [--calls 2000] [--threads 1,8]
                                                     [--profile zoom|webex]

``--profile`` also runs one single-thread create loop under cProfile and prints the
functions with the most own time.
"""

from __future__ import annotations

import argparse
import cProfile
import itertools
import pstats
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

from campusconf.connectors import Created, Ok, UserSpec  # noqa: E402 - after the path is set
from campusconf.connectors.base import Connector  # noqa: E402
from campusconf.connectors.factory import build_connector  # noqa: E402
from vendor_sandbox.launcher import running_sandbox  # noqa: E402

_serial = itertools.count()


def make_connector(vendor: str, creds: dict[str, Any]) -> Connector:
    if vendor == "zoom":
        zoom = creds["zoom"]
        settings = {
            "base_url": zoom["base_url"],
            "oauth_base_url": zoom["oauth_url"].removesuffix("/oauth/token"),
        }
        secrets = {k: zoom[k] for k in ("account_id", "client_id", "client_secret")}
        return build_connector("zoom", settings, secrets)
    webex = creds["webex"]
    licence = next(v for k, v in webex["licenses"].items() if "Meeting" in k)
    return build_connector(
        "webex",
        {"base_url": webex["base_url"], "licence_id": licence},
        {"access_token": webex["token"]},
    )


def spec() -> UserSpec:
    n = next(_serial)
    return UserSpec(f"bench{n}@bench.example.ac.jp", "Bench", f"User{n}", f"Bench User{n}")


def run_threads(threads: int, calls: int, work: Any) -> tuple[float, float]:
    """(CPU seconds of this process, wall seconds) for `calls` calls of work(i)."""
    errors: list[BaseException] = []

    def loop(part: int) -> None:
        try:
            for i in range(part, calls, threads):
                work(i)
        except BaseException as exc:  # reported after the run
            errors.append(exc)

    # One thread runs in this one, so that cProfile (main thread only) sees it.
    pool = [threading.Thread(target=loop, args=(p,)) for p in range(threads)] if threads > 1 else []
    cpu, wall = time.process_time(), time.perf_counter()
    for t in pool:
        t.start()
    if not pool:
        loop(0)
    for t in pool:
        t.join()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    if errors:
        raise errors[0]
    return cpu, wall


def measure(vendor: str, connector: Connector, calls: int, threads: int) -> list[tuple[str, ...]]:
    ids: list[str] = [""] * calls

    def create(i: int) -> None:
        outcome = connector.create_user(spec())
        if not isinstance(outcome, Created) or outcome.user.vendor_id is None:
            raise RuntimeError(f"create failed: {outcome!r}")
        ids[i] = outcome.user.vendor_id

    def get(i: int) -> None:
        outcome = connector.get_user(ids[i])
        if not isinstance(outcome, Ok):
            raise RuntimeError(f"get failed: {outcome!r}")

    rows = []
    for name, work in (("create", create), ("get", get)):
        cpu, wall = run_threads(threads, calls, work)
        rows.append((vendor, name, str(threads), f"{1e6 * cpu / calls:.0f}", f"{calls / wall:.0f}"))
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--calls", type=int, default=2000, help="calls per loop (default 2000)")
    ap.add_argument("--threads", default="1,8", help="thread counts (default 1,8)")
    ap.add_argument("--vendors", default="webex,zoom")
    ap.add_argument("--profile", choices=["webex", "zoom"], help="cProfile one create loop")
    args = ap.parse_args(argv)
    env = {"SANDBOX_LIMITS": "0", "SANDBOX_WORKERS": "2", "SANDBOX_THREADS": "16"}
    with (
        tempfile.TemporaryDirectory(prefix="connector-bench-") as tmp,
        running_sandbox(Path(tmp), **env) as sandbox,
    ):
        creds = sandbox.credentials()
        rows: list[tuple[str, ...]] = []
        for vendor in args.vendors.split(","):
            connector = make_connector(vendor, creds)
            measure(vendor, connector, 50, 1)  # warm up: token, connections, imports
            for threads in (int(t) for t in args.threads.split(",")):
                rows += measure(vendor, connector, args.calls, threads)
        if args.profile:
            connector = make_connector(args.profile, creds)
            measure(args.profile, connector, 50, 1)
            profiler = cProfile.Profile(time.process_time)  # CPU, not waits
            profiler.enable()
            measure(args.profile, connector, args.calls, 1)
            profiler.disable()
    header = ("vendor", "call", "threads", "client CPU µs/call", "calls/s wall")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)))
    if args.profile:
        stats = pstats.Stats(profiler)
        stats.sort_stats("tottime").print_stats(25)
        stats.sort_stats("cumulative").print_stats(r"campusconf|httpx/_client|json|logging", 25)
    return 0


if __name__ == "__main__":
    sys.exit(main())
