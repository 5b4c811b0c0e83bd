"""What ``campusconf status`` reports: the engine's state as plain data, then as a table.

The data is what ``--json`` prints, so scripts and people read the same facts. Times are
in the configured time zone (``TIME_ZONE``), as the back office shows them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Count
from django.utils import timezone

from campusconf.core import clock
from campusconf.provisioning.models import (
    Campaign,
    Job,
    RateBucket,
    ReconcilePass,
    ServiceProblem,
)
from campusconf.provisioning.queueing import rate_limits
from campusconf.provisioning.verbs import campaign_progress
from campusconf.provisioning.worker import lag_seconds
from campusconf.services.models import Service

LIVE_CAMPAIGNS = (Campaign.Status.ENROLLING, Campaign.Status.RUNNING)
TIME_FORMAT = "%Y-%m-%d %H:%M"


def local(moment: datetime | None) -> str | None:
    return timezone.localtime(moment).isoformat(timespec="seconds") if moment else None


def gather(now: datetime | None = None) -> dict[str, Any]:
    now = now or clock.now()
    jobs = {row["status"]: row["n"] for row in Job.objects.values("status").annotate(n=Count("id"))}
    problems = {p.service_id: p for p in ServiceProblem.objects.filter(resolved_at__isnull=True)}
    services = []
    for service in Service.objects.order_by("display_order", "slug"):
        live = Job.objects.filter(service=service)
        problem = problems.get(service.pk)
        last = ReconcilePass.objects.filter(service=service).order_by("-started_at").first()
        services.append(
            {
                "service": service.slug,
                "paused": (
                    {"since": local(problem.since), "kind": problem.kind, "detail": problem.detail}
                    if problem
                    else None
                ),
                "runnable": live.filter(status=Job.Status.QUEUED, run_after__lte=now).count(),
                "running": live.filter(status=Job.Status.RUNNING).count(),
                "rate_limits": [
                    {
                        "category": b.category,
                        "per_second": round(b.rate, 2),
                        "paced_waits": b.waits,
                        "vendor_429s": b.rate_limited,
                        "paused_until": local(b.paused_until)
                        if b.paused_until and b.paused_until > now
                        else None,
                        "pause_reason": b.pause_reason
                        if b.paused_until and b.paused_until > now
                        else "",
                    }
                    for b in RateBucket.objects.filter(service=service).order_by("category")
                ],
                "creates_paused_until": local(rate_limits.creates_paused_until(service, now)),
                "last_reconcile": (
                    {
                        "started_at": local(last.started_at),
                        "status": last.status,
                        "seen": last.seen,
                        "changes": last.changes,
                        "message": last.message,
                    }
                    if last
                    else None
                ),
                "campaigns": [
                    {
                        "id": campaign.pk,
                        "finish": campaign_progress.progress(campaign).finish_estimate,
                    }
                    for campaign in Campaign.objects.filter(
                        service=service, status__in=LIVE_CAMPAIGNS
                    ).order_by("pk")
                ],
            }
        )
    return {
        "at": local(now),
        "time_zone": timezone.get_current_timezone_name(),
        "jobs": jobs,
        "queue_lag_seconds": round(lag_seconds(now), 1),
        "services": services,
    }


def _short(iso: str | None) -> str:
    return datetime.fromisoformat(iso).strftime(TIME_FORMAT) if iso else "-"


def _reconcile(row: dict[str, Any] | None) -> str:
    if row is None:
        return "never"
    changes = ", ".join(f"{k} {v}" for k, v in row["changes"].items()) or "no changes"
    return f"{_short(row['started_at'])} {row['status']}, {row['seen']} seen, {changes}"


def table(report: dict[str, Any]) -> str:
    """The report for a person: one row per service, then what needs attention."""
    jobs = ", ".join(f"{status} {n}" for status, n in sorted(report["jobs"].items())) or "none"
    header = ("service", "state", "runnable", "running", "last reconcile", "campaigns")
    rows = [
        (
            s["service"],
            "PAUSED" if s["paused"] else "running",
            str(s["runnable"]),
            str(s["running"]),
            _reconcile(s["last_reconcile"]),
            ", ".join(f"#{c['id']} finish {c['finish']}" for c in s["campaigns"]) or "-",
        )
        for s in report["services"]
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [
        f"CampusConf at {_short(report['at'])} ({report['time_zone']})",
        f"jobs: {jobs}; queue lag {report['queue_lag_seconds']:.1f} s",
        "",
        "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip(),
        *("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows),
    ]
    for s in report["services"]:
        notes = []
        if s["paused"]:
            p = s["paused"]
            notes.append(
                f"PAUSED since {_short(p['since'])} ({p['kind']}): {p['detail']} — see the "
                f"back office, or run: campusconf vendor-check {s['service']}"
            )
        if s["creates_paused_until"]:
            notes.append(
                f"creates paused until {_short(s['creates_paused_until'])} (the vendor's daily "
                "create cap); they resume by themselves, nothing fails"
            )
        for b in s["rate_limits"]:
            paused = (
                f", paused until {_short(b['paused_until'])} ({b['pause_reason']})"
                if b["paused_until"]
                else ""
            )
            notes.append(
                f"rate limit {b['category']}: {b['per_second']}/s, {b['paced_waits']} paced "
                f"waits, {b['vendor_429s']} vendor 429s{paused}"
            )
        if notes:
            lines += ["", f"{s['service']}:", *(f"  {n}" for n in notes)]
    return "\n".join(lines)
