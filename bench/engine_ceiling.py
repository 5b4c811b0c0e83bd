"""The engine's ceiling: with rate limits off, its jobs per second beside the sandbox's
own raw create rate, measured by bare client loops in the same run.

    uv run python bench/engine_ceiling.py --pg postgres://postgres@127.0.0.1:5432/test
    uv run python bench/engine_ceiling.py --pg postgres://postgres@127.0.0.1:5432/test --pin

Runs SQLite with one worker and PostgreSQL with 1, 2 and 4 workers, each ``--rounds``
times on a fresh sandbox and database (bench/engine_campaign.py does one round). A
round warms the sandbox up (its first requests load its code), times ``--accounts``
creates by two bare loops — threads calling the connector, and the same creates
multiplexed from one thread over as many connections as the engine has — then the
engine's campaign of as many invitations, checked (every account invited, one vendor
user each, every job done), then the multiplexed loop once more, on the sandbox as the
engine left it. The yardstick is the fastest of the three loops; the table gives each
round's ratio and their median.

With ``--pin`` the sandbox runs on a CPU of its own and everything of ours (the
workers, the loops, and PostgreSQL's server processes for the bench's database) on the
rest: a vendor's servers are not ours, and on shared cores the ratio measures who wins
the CPU (the sandbox needs about a core at the loops' rate) rather than whether the
engine keeps the vendor busy.
"""

from __future__ import annotations

import argparse
import datetime
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import tables

SCRIPT = Path(__file__).resolve().parent / "engine_campaign.py"


def one_round(accounts: int, workers: int, url: str, args: argparse.Namespace) -> dict[str, str]:
    cmd = ["--accounts", str(accounts), "--workers", str(workers)]
    cmd += ["--raw", str(accounts), "--raw-after", "--warmup", str(args.warmup)]
    cmd += ["--concurrency", str(args.concurrency), "--batch", str(args.batch)]
    cmd += ["--pin"] if args.pin else []
    return tables.run(SCRIPT, cmd, {"DATABASE_URL": url})


def _rate(table: dict[str, str], key: str) -> float:
    try:
        return float(table.get(key, ""))
    except ValueError:
        return 0.0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pg", default="", help="PostgreSQL server URL (its runs are skipped without)")
    ap.add_argument("--pin", action="store_true", help="the sandbox on a CPU of its own")
    ap.add_argument("--accounts", type=int, default=4000, help="invitations per round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--only", default="", help="these runs, as sqlite:1,postgresql:2,…")
    ap.add_argument("--warmup", type=int, default=1000)
    ap.add_argument("--concurrency", type=int, default=32, help="vendor calls in flight per worker")
    ap.add_argument("--batch", type=int, default=128, help="jobs in flight per worker")
    args = ap.parse_args()
    when = f"{datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC"
    print(
        f"# ceiling: {when}, load {tables.load()}, {args.accounts} invitations a round", flush=True
    )
    if args.pin:
        print(
            "# the sandbox on a CPU of its own; the engine, its database and the loops on the rest"
        )
    runs = [("SQLite", 1, "")]
    if args.pg:
        runs += [("PostgreSQL", w, args.pg) for w in (1, 2, 4)]
    if args.only:
        # e.g. --only postgresql:2, to repeat one run that the table showed noisy
        wanted = {tuple(item.lower().split(":")) for item in args.only.split(",")}
        runs = [r for r in runs if (r[0].lower(), str(r[1])) in wanted]
    head = ("run", "engine jobs/s", "bare loops /s (threads, mux, mux after)", "ratio", "checks")
    rows: list[tuple[str, ...]] = []
    summary: list[tuple[str, ...]] = []
    status = 0
    for name, workers, url in runs:
        ratios = []
        for n in range(1, args.rounds + 1):
            t = one_round(args.accounts, workers, url, args)
            ok = t["exit"] == "0"
            status |= not ok
            engine = _rate(t, "jobs/s, first to last finish")
            loops = [
                _rate(t, "raw create rate, bare client loop (/s)"),
                _rate(t, "raw create rate, multiplexed bare loop (/s)"),
                _rate(t, "raw create rate, multiplexed bare loop after (/s)"),
            ]
            ratio = engine / max(loops) if max(loops) else 0.0
            ratios.append(ratio)
            label = f"{name}, {workers} worker(s), round {n}"
            loop_text = " / ".join(f"{r:.0f}" for r in loops)
            rows.append(
                (label, f"{engine:.0f}", loop_text, f"{ratio:.2f}", "ok" if ok else "FAILED")
            )
            print("  ".join(rows[-1]), flush=True)
        summary.append((f"{name}, {workers} worker(s)", f"{statistics.median(ratios):.2f}",
                        " ".join(f"{r:.2f}" for r in ratios)))  # fmt: skip
    print()
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    for row in [head, *rows]:
        print("  ".join(f"{v:<{w}}" for v, w in zip(row, widths, strict=True)))
    print()
    print(f"{'run':<26}  median ratio (target ≥ 0.8)  rounds")
    for label, median, each in summary:
        print(f"{label:<26}  {median:<27}  {each}")
    print(f"# load after: {tables.load()}")
    return status


if __name__ == "__main__":
    sys.exit(main())
