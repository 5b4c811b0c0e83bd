"""The table and the checks at the end of bench/engine_campaign.py: what the sandbox
counted, what the database holds, and whether the run ended exactly once."""

from __future__ import annotations

import argparse
import datetime
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the run's worker pool; the report only reads its counts
    from bench.engine_campaign import Workers


def token_requests(requests: dict[str, int], vendor: str) -> int:
    return sum(n for key, n in requests.items() if key.startswith(f"{vendor} POST oauth.token"))


def settled_counters(sandbox: Any) -> dict[str, Any]:
    """The sandbox's request counts once every one of its processes has flushed.

    Each sandbox process flushes its counts every 0.5 s, and the admin call flushes only
    the process that serves it: read at once after the bare loop, the counts missed the
    loop's last half second, and its 429s (it runs into the limits on purpose) were
    then counted as the engine's — 158 of them in one pace run with no 429 dip at all.
    """
    from vendor_sandbox.counters import FLUSH_SECONDS

    time.sleep(2 * FLUSH_SECONDS)
    return sandbox.admin("GET", "counters")


def report(
    args: argparse.Namespace,
    sandbox: Any,
    service: Any,
    planned: int,
    elapsed: float,
    t_queued: float,
    workers: Workers,
    raw_rate: tuple[float, float | None] | None = None,
    base: tuple[int, int, dict[str, int]] = (0, 0, {}),
    after: float | None = None,
) -> int:
    from django.db.models import Count

    from campusconf.accounts.models import Account
    from campusconf.provisioning.models import Job, RateBucket, ServiceProblem
    from campusconf.provisioning.queueing import rate_limits

    limit = (
        rate_limits.limits(service).get("light") if args.limits and args.vendor == "zoom" else None
    )
    users = sandbox.zoom_users() if args.vendor == "zoom" else sandbox.webex_people()
    # The bare loops' own users (…@raw.example.org) are not the engine's.
    emails = [u["email"].lower() for u in users if not u["email"].endswith("@raw.example.org")]
    wanted = {
        a.lower()
        for a in Account.objects.filter(service=service).values_list(
            "member__addresses__address", flat=True
        )
    }
    states = dict(Account.objects.values_list("state").annotate(n=Count("id")))
    jobs = dict(Job.objects.values_list("status").annotate(n=Count("id")))
    counters = settled_counters(sandbox)
    calls = sum(counters["requests"].values()) - base[0]
    limited = counters["rate_limited"] - base[1]
    by_kind = {
        kind: n - base[2].get(kind, 0)
        for kind, n in sorted(counters["requests"].items())
        if n > base[2].get(kind, 0)
    }
    waits = sum(RateBucket.objects.values_list("waits", flat=True))
    finished = sorted(Job.objects.exclude(finished_at=None).values_list("finished_at", flat=True))
    span = (finished[-1] - finished[0]).total_seconds() if len(finished) > 1 else 0.0
    # The workers' token requests: the sandbox's, less the bench's own knock-outs.
    tokens = token_requests(counters["requests"], args.vendor) - token_requests(
        base[2], args.vendor
    )
    asked = tokens - workers.knocked_out
    refused = sum(
        n - base[2].get(kind, 0)
        for kind, n in counters["requests"].items()
        if kind.endswith(" 401") and "oauth" not in kind
    )
    paused = list(ServiceProblem.objects.values_list("kind", "detail"))
    checks = {
        "every account invited": states == {"invited": planned},
        "one vendor user per account": sorted(emails) == sorted(wanted),
        "no duplicate vendor user": len(emails) == len(set(emails)),
        "no job lost, stuck or failed": jobs == {"done": planned},
        # Failed (or waited) for an authentication reason: the service would have paused.
        "no account failed for an authentication reason": not paused,
        # One renewal per token knocked out or worker killed mid-renewal, not per worker.
        "one token renewal at a time": asked <= 1 + workers.knocked_out + workers.kills,
    }
    rows = [
        ("accounts", planned),
        ("workers", args.workers),
        ("worker SIGKILLs", workers.kills),
        ("database connections all cut", workers.cuts),
        ("workers that exited by themselves (restarted)", workers.exits),
        ("tokens knocked out from outside", workers.knocked_out),
        (
            "token requests by the workers",
            asked if args.vendor == "zoom" else f"{asked} (renewals)",
        ),
        ("401 answers (a token knocked out or expired)", refused),
        ("service paused for its credential", paused or "never"),
        ("faults", "on" if args.faults else "off"),
        ("queueing the campaign (s)", f"{t_queued:.1f}"),
        ("wall time (s)", f"{elapsed:.1f}"),
        (
            "first job done after start (s)",
            f"{(finished[0] - workers.started_at).total_seconds():.1f}" if finished else "-",
        ),
        ("raw create rate, bare client loop (/s)", f"{raw_rate[0]:.1f}" if raw_rate else "-"),
        (
            "raw create rate, multiplexed bare loop (/s)",
            f"{raw_rate[1]:.1f}" if raw_rate and raw_rate[1] else "-",
        ),
        (
            "raw create rate, multiplexed bare loop after (/s)",
            f"{after:.1f}" if after else "-",
        ),
        ("raw loop threads", args.workers * args.concurrency if raw_rate else "-"),
        ("jobs/s, first to last finish", f"{(len(finished) - 1) / span:.1f}" if span else "-"),
        ("jobs finished, second by second", _per_second(finished)),
        ("pace limit (light calls/s)", f"{limit:.0f}" if limit else "-"),
        (
            "achieved / limit",
            f"{(len(finished) - 1) / span / limit:.3f}" if span and limit else "-",
        ),
        ("vendor calls", calls),
        ("vendor calls by kind", by_kind),
        ("vendor 429s", limited),
        ("429s / calls", f"{limited / max(calls, 1):.2%}"),
        ("paced waits", waits),
        ("peak worker RSS (MB)", f"{workers.peak_rss_mb():.0f}"),
        ("worker CPU ms per job", f"{1000 * sum(workers.cpu.values()) / max(planned, 1):.2f}"),
        ("database server CPU ms per job", _per_job(workers.server_cpu, planned)),
        ("jobs needing retries", Job.objects.filter(attempts__gt=1).count()),
        ("account states", states),
        ("job states", jobs),
        *((f"check: {k}", "ok" if v else "FAILED") for k, v in checks.items()),
    ]
    width = max(len(str(k)) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    return 0 if all(checks.values()) else 1


def _per_job(seconds: float | None, jobs: int) -> str:
    return "-" if seconds is None else f"{1000 * seconds / max(jobs, 1):.2f}"


def _per_second(finished: list[datetime.datetime]) -> str:
    """How the finishes spread over the run: a stall or a slow tail shows as a dip."""
    if not finished:
        return "-"
    counts: dict[int, int] = {}
    for at in finished:
        second = int((at - finished[0]).total_seconds())
        counts[second] = counts.get(second, 0) + 1
    return " ".join(str(counts.get(s, 0)) for s in range(max(counts) + 1))
