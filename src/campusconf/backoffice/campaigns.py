"""The back office's side of campaigns (S10): cohort preview, start, progress and
failures, on top of the engine's Campaign model and ``provisioning.verbs.campaign_enrolment``."""

import datetime
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, Max, Min, QuerySet
from django.utils import timezone

from campusconf.accounts.models import Account
from campusconf.accounts.states import LIVE_STATES, State
from campusconf.members.models import Member
from campusconf.provisioning.models import Campaign, CampaignSkip, Job
from campusconf.provisioning.verbs import campaign_enrolment as engine
from campusconf.provisioning.verbs import campaign_progress
from campusconf.provisioning.verbs.seats import waiting_in_campaign
from campusconf.services.eligibility import check_eligibility
from campusconf.services.models import Service

COMMON_ID = re.compile(r"\b[0-9]{10}\b")
SAMPLE = 10
RATE_WINDOW = datetime.timedelta(minutes=5)
# States in which the vendor has done its part of a campaign's invitation.
REACHED = frozenset({State.INVITED, State.CONVERSION_PENDING, State.ACTIVE})


@dataclass
class Cohort:
    roles: list[str]
    created_before: datetime.date | None
    affiliations: list[str]
    common_ids: list[str]

    def as_json(self) -> dict[str, Any]:
        return {
            "roles": self.roles,
            "created_before": self.created_before.isoformat() if self.created_before else None,
            "affiliations": self.affiliations,
            "common_ids": self.common_ids,
        }


def parse_common_ids(text: str) -> list[str]:
    """Every 10-digit number in pasted or uploaded text, in order, without repeats."""
    return list(dict.fromkeys(COMMON_ID.findall(text)))


def members_of(cohort: Cohort) -> QuerySet[Member]:
    return engine.cohort(
        cohort.roles, cohort.created_before, cohort.affiliations, cohort.common_ids
    )


@dataclass
class Preview:
    in_cohort: int
    to_invite: int
    already_live: int
    sample: list[Member]
    unknown_ids: list[str]


def preview(service: Service, cohort: Cohort) -> Preview:
    """What a start would do, changing nothing: the dry run."""
    members = members_of(cohort)
    live = members.filter(accounts__service=service, accounts__state__in=list(LIVE_STATES))
    candidates = members.exclude(pk__in=live.values("pk"))
    eligible = [m for m in candidates.iterator() if check_eligibility(m, service).eligible]
    known = set(members.values_list("common_id", flat=True)) if cohort.common_ids else set()
    return Preview(
        in_cohort=members.count(),
        to_invite=len(eligible),
        already_live=live.distinct().count(),
        sample=eligible[:SAMPLE],
        unknown_ids=[c for c in cohort.common_ids if c not in known],
    )


def start(
    service: Service,
    cohort: Cohort,
    *,
    actor: AbstractBaseUser,
    reason: str,
    start_at: datetime.datetime | None = None,
) -> Campaign:
    """Record the campaign and its audit entry; the workers enrol it (at ``start_at``,
    or at once)."""
    return engine.create_campaign(
        service, cohort.as_json(), actor=actor, reason=reason, start_at=start_at
    )


CampaignStateError = engine.CampaignStateError


def change_status(campaign: Campaign, status: str, *, actor: AbstractBaseUser, reason: str) -> None:
    """Pause, resume or cancel; raises CampaignStateError (nothing changed) when the
    campaign cannot make that move. The engine's action writes the audit entry."""
    engine.set_status(campaign, status, actor=actor, reason=reason)


@dataclass
class CampaignProgress:
    total: int
    done: int
    failed: int
    remaining: int
    per_minute: float
    finish_at: datetime.datetime | None
    daily_cap: int | None
    waiting: int = 0  # queued for a seat (S16): applied for by the engine when one frees
    retrying: int = 0  # jobs tried and failed at least once, waiting for another go
    last_error: str = ""  # the newest of their errors: a failing vendor is not "idle"
    paused_until: datetime.datetime | None = None  # creates paused by the daily cap (Z-e)

    @property
    def percent_done(self) -> int:
        return round(100 * self.done / self.total) if self.total else 100

    @property
    def percent_failed(self) -> int:
        return round(100 * self.failed / self.total) if self.total else 0


def _accounts(campaign: Campaign) -> QuerySet[Account]:
    return Account.objects.filter(jobs__campaign=campaign).distinct()


def progress(campaign: Campaign, now: datetime.datetime | None = None) -> CampaignProgress:
    now = now or timezone.now()
    jobs = Job.objects.filter(campaign=campaign)
    by_status = dict(jobs.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    remaining = by_status.get(Job.Status.QUEUED, 0) + by_status.get(Job.Status.RUNNING, 0)
    failed = _accounts(campaign).filter(state=State.FAILED).count()
    total = campaign.planned or sum(by_status.values())
    done = max(total - remaining - failed, 0)
    per_minute = _pace(jobs, now, still_going=bool(remaining))
    # The measured pace; while the daily cap pauses creates nothing finishes, and the
    # estimate goes by the engine's pacing from the vendor's reset on (Z-e).
    finish = campaign_progress.finish_estimate(campaign.service, remaining, per_minute, now)
    if not per_minute and not finish.paused_until:
        finish = campaign_progress.Finish(None, None, finish.daily_cap)
    waiting = waiting_in_campaign(campaign)
    retrying, last_error = campaign_progress.retrying(campaign)
    return CampaignProgress(
        total,
        done,
        failed,
        remaining,
        per_minute,
        finish.at,
        finish.daily_cap,
        waiting,
        retrying,
        last_error,
        paused_until=finish.paused_until if remaining else None,
    )


def _pace(jobs: QuerySet[Job], now: datetime.datetime, *, still_going: bool) -> float:
    """Jobs finished per minute over the last RATE_WINDOW, measured over the time they
    took: six invitations sent within seconds are a fast pace, not 1.2 a minute (the
    count spread over the whole window)."""
    recent = jobs.filter(finished_at__gte=now - RATE_WINDOW).aggregate(
        n=Count("id"), first=Min("finished_at"), last=Max("finished_at")
    )
    if not recent["n"]:
        return 0.0
    # While work remains, the pace runs up to now; once done, up to the last job.
    end = now if still_going else recent["last"]
    seconds: float = max((end - recent["first"]).total_seconds(), 1.0)
    return float(recent["n"]) * 60 / seconds


FAILURE_COLUMNS = [
    "common_id",
    "name",
    "affiliation",
    "affiliation_ja",
    "outcome",
    "state",
    "error_code",
    "error",
    "error_at",
]


def failures(campaign: Campaign) -> QuerySet[Account]:
    """Accounts of the campaign that failed at the vendor."""
    return (
        _accounts(campaign)
        .filter(state=State.FAILED)
        .select_related("member")
        .order_by("member__common_id")
    )


def skips(campaign: Campaign) -> QuerySet[CampaignSkip]:
    """Members the campaign did not invite at all (not eligible, unknown ID, …)."""
    return CampaignSkip.objects.filter(campaign=campaign).select_related("member").order_by("pk")


def failure_rows(campaign: Campaign) -> Iterator[list[str]]:
    """Why did these members get nothing? Every failed account, then every member the
    campaign skipped, each with its reason; rows in FAILURE_COLUMNS order."""
    for a in failures(campaign).iterator():
        yield [
            a.member.common_id,
            a.member.display_name_latin,
            a.member.affiliation,
            a.member.affiliation_ja,
            "failed",
            a.state,
            a.last_error_code,
            a.last_error_message,
            a.last_error_at.isoformat() if a.last_error_at else "",
        ]
    for skip in skips(campaign).iterator():
        m = skip.member
        yield [
            skip.common_id,
            m.display_name_latin if m else "",
            m.affiliation if m else "",
            m.affiliation_ja if m else "",
            "skipped",
            "",
            skip.code,
            skip.reason,
            skip.created_at.isoformat(),
        ]
