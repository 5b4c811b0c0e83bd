"""The engine's state for people (``campusconf status``) and for Prometheus (/metrics).

Everything is read from the database, so any web process reports every worker.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count
from django.http import HttpRequest, HttpResponse

from campusconf.core import clock
from campusconf.provisioning.models import Job, RateBucket, ReconcilePass, VendorCallCount
from campusconf.provisioning.worker import lag_seconds
from campusconf.services.models import Service


@dataclass
class EngineState:
    jobs_by_status: dict[str, int]
    lag: float
    services: dict[str, dict[str, Any]] = field(default_factory=dict)


def engine_state() -> EngineState:
    now = clock.now()
    jobs = {row["status"]: row["n"] for row in Job.objects.values("status").annotate(n=Count("id"))}
    snap = EngineState(jobs, lag_seconds(now))
    for service in Service.objects.order_by("display_order", "slug"):
        live = Job.objects.filter(service=service)
        buckets = []
        for b in RateBucket.objects.filter(service=service).order_by("category"):
            paused = (
                f", creates PAUSED until {b.paused_until:%Y-%m-%d %H:%M %Z} ({b.pause_reason})"
                if b.paused_until and b.paused_until > now
                else ""
            )
            buckets.append(
                f"{b.category}: {b.rate:.1f}/s, {b.waits} paced waits, "
                f"{b.rate_limited} vendor 429s{paused}"
            )
        last = ReconcilePass.objects.filter(service=service).order_by("-started_at").first()
        snap.services[service.slug] = {
            "queued": live.filter(status=Job.Status.QUEUED, run_after__lte=now).count(),
            "running": live.filter(status=Job.Status.RUNNING).count(),
            "buckets": buckets,
            "last_reconcile": (
                f"{last.started_at:%Y-%m-%d %H:%M:%S %Z} {last.status}, {last.seen} seen, "
                f"{last.changes or 'no changes'} {last.message}".strip()
                if last
                else "never"
            ),
        }
    return snap


def prometheus() -> str:
    lines = [
        "# HELP campusconf_jobs Jobs in the queue by status.",
        "# TYPE campusconf_jobs gauge",
    ]
    rows = Job.objects.values("service__slug", "status").annotate(n=Count("id"))
    for row in rows:
        lines.append(
            f'campusconf_jobs{{service="{row["service__slug"]}",status="{row["status"]}"}} {row["n"]}'
        )
    lines += [
        "# HELP campusconf_queue_lag_seconds Age of the oldest runnable job.",
        "# TYPE campusconf_queue_lag_seconds gauge",
        f"campusconf_queue_lag_seconds {lag_seconds():.3f}",
        "# HELP campusconf_vendor_calls_total Vendor calls by outcome.",
        "# TYPE campusconf_vendor_calls_total counter",
    ]
    for c in VendorCallCount.objects.select_related("service"):
        lines.append(
            f'campusconf_vendor_calls_total{{service="{c.service.slug}",outcome="{c.outcome}"}} {c.count}'
        )
    lines += [
        "# HELP campusconf_vendor_429_total 429 answers from vendors.",
        "# TYPE campusconf_vendor_429_total counter",
        "# HELP campusconf_rate_limit_waits_total Calls the shared limiter made wait.",
        "# TYPE campusconf_rate_limit_waits_total counter",
    ]
    for b in RateBucket.objects.select_related("service"):
        labels = f'service="{b.service.slug}",category="{b.category}"'
        lines.append(f"campusconf_vendor_429_total{{{labels}}} {b.rate_limited}")
        lines.append(f"campusconf_rate_limit_waits_total{{{labels}}} {b.waits}")
    return "\n".join(lines) + "\n"


def metrics_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse(prometheus(), content_type="text/plain; version=0.0.4; charset=utf-8")
