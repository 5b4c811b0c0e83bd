"""Where a campaign stands, for the command line: counts, retries, an honest finish time.

The back office's page has its own view of progress (``backoffice.campaigns``, with the
pace measured); both read ``retrying`` here, so "being retried" means one thing.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass

from django.db.models import Count

from campusconf.accounts.models import Account
from campusconf.core import clock
from campusconf.provisioning.models import Campaign, Job
from campusconf.provisioning.queueing import rate_limits
from campusconf.provisioning.verbs.seats import waiting_in_campaign
from campusconf.services.models import Service


@dataclass
class Progress:
    campaign: Campaign
    by_state: dict[str, int]
    jobs: dict[str, int]
    finish_estimate: str
    waiting: int = 0  # members queued for a seat (S16), not yet applied
    retrying: int = 0  # jobs that failed at least once and wait for another go
    last_error: str = ""  # the most recent of their errors


def retrying(campaign: Campaign) -> tuple[int, str]:
    """How many of the campaign's jobs are being retried, and the latest error.

    While the vendor answers 5xx nothing is done or failed yet, so without this a
    failing campaign looks idle. A job being retried is still queued or running, was
    tried (attempts > 0) and kept the error that sent it back (``job_queue.retry``).
    """
    jobs = Job.objects.filter(campaign=campaign, status__in=Job.LIVE, attempts__gt=0).exclude(
        last_error=""
    )
    count = jobs.count()
    # The job put back last waits the furthest ahead; the error is the newest one.
    latest = jobs.order_by("-run_after", "-pk").values_list("last_error", flat=True).first()
    return count, latest or ""


def progress(campaign: Campaign) -> Progress:
    accounts = Account.objects.filter(jobs__campaign=campaign).distinct()
    by_state = {row["state"]: row["n"] for row in accounts.values("state").annotate(n=Count("id"))}
    jobs = {
        row["status"]: row["n"]
        for row in Job.objects.filter(campaign=campaign).values("status").annotate(n=Count("id"))
    }
    remaining = jobs.get(Job.Status.QUEUED, 0) + jobs.get(Job.Status.RUNNING, 0)
    waiting = waiting_in_campaign(campaign)
    count, last_error = retrying(campaign)
    return Progress(
        campaign,
        by_state,
        jobs,
        estimate(campaign.service, remaining),
        waiting,
        retrying=count,
        last_error=last_error,
    )


@dataclass(frozen=True)
class Finish:
    """When the remaining creates can be done, honestly: at the pace, within the
    vendor's daily create cap, after a pause the cap has already caused."""

    at: datetime.datetime | None  # None: nothing left, or no pace to go by
    paused_until: datetime.datetime | None  # creates paused (daily cap) until then
    daily_cap: int | None
    cap_days: int = 0  # whole days the cap adds after today


def paced_per_minute(service: Service) -> float:
    """Creates a minute at the engine's pacing of the vendor's limit, counting a
    look-up per account too (the worst case of a campaign with faults)."""
    per_second = rate_limits.limits(service).get(
        "light" if service.vendor == "zoom" else "api", 1.0
    )
    return max(per_second * rate_limits.HEADROOM, 0.01) * 60 / 2


def finish_estimate(
    service: Service,
    remaining: int,
    per_minute: float | None = None,
    now: datetime.datetime | None = None,
) -> Finish:
    """The finish of ``remaining`` creates at ``per_minute`` (the measured pace, else the
    paced one). A daily cap (Zoom) holds creates to ``cap`` a vendor day, each starting
    at 00:00 UTC; creates already paused wait for the pause to end first (Z-e)."""
    now = now or clock.now()
    paused = rate_limits.creates_paused_until(service, now)
    cap = rate_limits.daily_create_cap(service)
    if remaining <= 0:
        return Finish(None, paused, cap)
    pace = per_minute if per_minute else paced_per_minute(service)
    start, todo = (paused, remaining) if paused else (now, remaining)
    days = 0
    if cap:
        left_today = 0 if paused else rate_limits.creates_left_today(service, cap, now)
        if paused:
            days = math.ceil(remaining / cap) - 1
            todo = remaining - days * cap
        elif remaining > left_today:
            beyond = remaining - left_today
            days = math.ceil(beyond / cap)
            start = rate_limits.next_reset(now) + datetime.timedelta(days=days - 1)
            todo = beyond - (days - 1) * cap
    at = start + datetime.timedelta(minutes=todo / pace)
    if paused and cap:
        at += datetime.timedelta(days=days)
    # Within a day the pace bounds it too: the cap only ever makes it later.
    at = max(at, (paused or now) + datetime.timedelta(minutes=remaining / pace))
    return Finish(at, paused, cap, days)


def estimate(service: Service, remaining: int) -> str:
    """The finish estimate in words, for the command line."""
    if remaining == 0:
        return "done"
    f = finish_estimate(service, remaining)
    assert f.at is not None
    notes = []
    if f.paused_until:
        notes.append(
            f"creates paused until {f.paused_until:%Y-%m-%d %H:%M %Z} by the vendor's daily "
            "create cap; they resume by themselves"
        )
    if f.cap_days > 0:
        notes.append(f"the daily create cap of {f.daily_cap} adds {f.cap_days} day(s)")
    note = f" ({'; '.join(notes)})" if notes else ""
    return f"about {f.at:%Y-%m-%d %H:%M %Z}{note}"
