"""The per-host table and the checks of bench/multihost.py, after campaign_report's,
and what campaign_report reads of the workers of every host (``Fleet``).

Who did what comes from the sandbox (SANDBOX_COUNT_CLIENTS): its counts by client
address — each host has its own — of calls, 429s and users created (Zoom answers a
create with 201, and nothing else the engine sends with a POST does). The engine keeps no
trace of which worker finished a job (a done job's worker is cleared), and the vendor's
view is the one the proof is about anyway.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench import tables
from bench.bench_db import cpu_seconds_of
from bench.campaign_report import token_requests

if TYPE_CHECKING:  # the hosts of the run; only their names and addresses are read
    from bench.multihost import Host

STORM = 0.01  # more 429s than this share of the calls is a storm: the pacing did not hold


@dataclass
class Fleet:
    """What campaign_report.report reads of the worker processes, across every host."""

    kills: int = 0
    exits: int = 0
    cuts: int = 0
    knocked_out: int = 0
    peak_kb: int = 0
    cpu: dict[int, float] = field(default_factory=dict)
    server_cpu: float | None = None
    started_at: datetime.datetime = field(
        default_factory=lambda: datetime.datetime.now(datetime.UTC)
    )

    def peak_rss_mb(self) -> float:
        return self.peak_kb / 1024


def sample(fleet: Fleet, hosts: list[Host]) -> None:
    """The workers' peak RSS, and their CPU, while they live (kills and restarts kept)."""
    for h in hosts:
        for pid in h.worker_pids():
            seconds = cpu_seconds_of(pid)
            if seconds is not None:
                fleet.cpu[pid] = seconds
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            for line in status.splitlines():
                if line.startswith("VmHWM:"):
                    fleet.peak_kb = max(fleet.peak_kb, int(line.split()[1]))


def client_counts(counters: dict[str, Any] | None, address: str) -> tuple[int, int, int]:
    """Calls, 429s and users created the sandbox answered to ``address``."""
    calls = limited = created = 0
    for key, n in (counters or {}).get("other", {}).items():
        parts = key.split()
        if len(parts) == 4 and parts[0] == "client" and parts[1] == address:
            calls += n
            limited += n if parts[3] == "429" else 0
            created += n if parts[2:] == ["POST", "201"] else 0
    return calls, limited, created


def between(marks: dict[str, Any], first: str, last: str, address: str) -> tuple[int, int, int]:
    a, b = client_counts(marks.get(last), address), client_counts(marks.get(first), address)
    return a[0] - b[0], a[1] - b[1], a[2] - b[2]


def hosts_table(hosts: list[Host], service: Any, marks: dict[str, Any], elapsed: float) -> int:
    from campusconf.provisioning.models import Job
    from campusconf.provisioning.queueing import rate_limits

    rows: list[tuple[str, Any]] = []
    totals = [0, 0, 0]
    roles = {1: "link cut, rejoined", 2: "workers SIGKILLed"}
    web = [marks.get("web before", []), marks.get("web after", [])]
    for i, h in enumerate(hosts):
        address = h.net.address(h.n)
        calls, limited, created = between(marks, "before", "after", address)
        totals = [totals[0] + created, totals[1] + calls, totals[2] + limited]
        seen = "/".join("ok" if i < len(w) and w[i] else "down" for w in web)
        rows.append(
            (
                f"{h.name} {address} {roles.get(h.n, '')}".strip(),
                f"users created {created}, calls {calls}, 429s {limited}, "
                f"web /healthz before/after {seen}",
            )
        )
    created_per_host = [between(marks, "before", "after", h.net.address(h.n))[2] for h in hosts]
    during_cut = sum(
        between(marks, "at cut", "at rejoin", h.net.address(h.n))[2] for h in hosts[1:]
    )
    after_rejoin = between(marks, "at rejoin", "after", hosts[0].net.address(1))[2]
    limit = rate_limits.limits(service)["light"]
    done = Job.objects.filter(status="done")
    finished = sorted(done.values_list("finished_at", flat=True))
    span = (finished[-1] - finished[0]).total_seconds() if len(finished) > 1 else 0.0
    achieved = (len(finished) - 1) / span if span else 0.0
    after, before = marks.get("after", {}), marks.get("before", {})
    tokens = token_requests(after.get("requests", {}), "zoom") - token_requests(
        before.get("requests", {}), "zoom"
    )
    rows += [
        ("all hosts", f"users created {totals[0]}, calls {totals[1]}, 429s {totals[2]}"),
        ("wall time, workers started to last job (s)", f"{elapsed:.1f}"),
        (
            "host 1 cut off (s after the first job done)",
            f"{marks.get('cut', 0):.0f} to {marks.get('rejoin', 0):.0f}",
        ),
        ("host 2's workers SIGKILLed (s after the first job done)", f"{marks.get('kill', 0):.0f}"),
        ("users created by the others while host 1 was cut off", during_cut),
        ("users created by host 1 after it rejoined", after_rejoin),
        ("Zoom limit, light calls/s (the engine paces at 97 %)", f"{limit:.1f}"),
        ("achieved creates/s, first to last job done", f"{achieved:.1f}"),
        ("Zoom token grants, all hosts", tokens),
        ("load", tables.load()),
    ]
    checks = {
        "every host created users": all(created_per_host),
        "the limit held across the hosts (achieved ≤ limit)": 0 < achieved <= limit,
        f"no 429 storm (429s ≤ {STORM:.0%} of calls)": totals[2] <= STORM * max(totals[1], 1),
        "one Zoom token for every host (one grant)": tokens == 1,
        "the others carried on while host 1 was cut off": during_cut > 0,
        "host 1 rejoined and carried on": after_rejoin > 0,
        "every host's web answered before and after": all(web[0]) and all(web[1]),
    }
    print()
    tables.print_rows(rows + [(f"check: {k}", "ok" if v else "FAILED") for k, v in checks.items()])
    return 0 if all(checks.values()) else 1
