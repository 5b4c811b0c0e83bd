"""Where a campaign stands, for the command line: counts, retries, an honest finish time.

The back office's page has its own view of progress (``backoffice.campaigns``, with the
pace measured); both read ``retrying`` here, so "being retried" means one thing.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass

from django.db.models import Count
from django.utils import timezone

from campusconf.accounts.models import Account
from campusconf.provisioning import ratelimit
from campusconf.provisioning.models import Campaign, Job
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
    tried (attempts > 0) and kept the error that sent it back (``queue.retry``).
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
    from campusconf.provisioning.seats import waiting_in_campaign

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


def estimate(service: Service, remaining: int) -> str:
    """An honest finish time: the per-second pace, and Zoom's daily create cap."""
    if remaining == 0:
        return "done"
    rate = ratelimit.limits(service).get("light" if service.vendor == "zoom" else "api", 1.0)
    seconds = remaining * 2 / max(rate, 0.01)  # a create and a look-up per account, at worst
    cap = ratelimit.daily_create_cap(service)
    days = math.ceil(remaining / cap) - 1 if cap else 0
    finish = timezone.now() + datetime.timedelta(seconds=seconds, days=max(0, days))
    note = f" (the daily create cap of {cap} adds {days} day(s))" if days > 0 else ""
    return f"about {finish:%Y-%m-%d %H:%M %Z}{note}"
