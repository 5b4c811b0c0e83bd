"""The engine's pace: invitations at Zoom Business limits ×10, against the limit.

    uv run python bench/engine_pace.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test uv run python bench/engine_pace.py

Runs bench/engine_campaign.py once with the sandbox's and the engine's rate limits on
(80 light calls/s → 800/s): 20,000 invitations by two worker processes, on a fresh
sandbox and database. Prints the achieved rate (jobs finished, first to last) against
the limit, the 429s among the vendor calls, the calls by kind, the workers' peak RSS
and the jobs finished second by second — a 429 burst shows as a dip — beside what a
bare client loop gets from the same sandbox with the same limits on. The checks
(every account invited, one vendor user each, every job done) must pass.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import tables

SCRIPT = Path(__file__).resolve().parent / "engine_campaign.py"


def pace(args: argparse.Namespace) -> int:
    print(f"# pace: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, load {tables.load()}")
    n = args.accounts
    cmd = ["--accounts", str(n), "--workers", str(args.workers), "--limits", "--plan", "business"]
    cmd += ["--rate-scale", str(args.rate_scale), "--concurrency", str(args.concurrency)]
    cmd += ["--batch", str(args.batch), "--deadline", str(args.deadline)]
    # What the sandbox itself serves with these limits on, for the same connections.
    cmd += ["--raw", str(args.raw or min(n, 4000))]
    t = tables.run(SCRIPT, cmd, {}, echo=True)
    rows = [
        ("database", os.environ.get("DATABASE_URL", "sqlite").split("@")[-1] or "sqlite"),
        ("invitations", t.get("accounts")),
        ("workers × concurrency", f"{args.workers} × {args.concurrency}"),
        (f"limit (light calls/s, Business ×{args.rate_scale:g})", t.get("pace limit (light calls/s)")),
        ("achieved (jobs/s, first to last finish)", t.get("jobs/s, first to last finish")),
        ("achieved / limit (target ≥ 0.95)", t.get("achieved / limit")),
        (
            f"bare client loop, limits on, {t.get('raw loop threads')} threads (/s)",
            t.get("raw create rate, bare client loop (/s)"),
        ),
        ("429s / calls (target ≤ 0.5 %)", f"{t.get('vendor 429s')} / {t.get('vendor calls')}"
         f" = {t.get('429s / calls')}"),
        ("vendor calls by kind", t.get("vendor calls by kind")),
        ("peak worker RSS MB (target ≤ 200)", t.get("peak worker RSS (MB)")),
        ("jobs finished, second by second", t.get("jobs finished, second by second")),
        ("checks", "all ok" if t.get("exit") == "0" else "FAILED"),
        ("load after", tables.load()),
    ]  # fmt: skip
    tables.print_rows(rows)
    return int(t.get("exit", "1"))


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--accounts", type=int, default=20_000, help="invitations")
    ap.add_argument("--workers", type=int, default=2, help="worker processes")
    ap.add_argument("--rate-scale", type=float, default=10.0, help="Zoom Business limits × this")
    # The engine's defaults (provisioning/conf.py), so the bench measures what runs.
    ap.add_argument("--concurrency", type=int, default=32, help="vendor calls in flight per worker")
    ap.add_argument("--batch", type=int, default=128, help="jobs in flight per worker")
    ap.add_argument("--deadline", type=float, default=600.0, help="give up after this many s")
    ap.add_argument("--raw", type=int, default=0, help="creates by the bare loop (≤ 4,000)")
    return ap


if __name__ == "__main__":
    sys.exit(pace(parser().parse_args()))
