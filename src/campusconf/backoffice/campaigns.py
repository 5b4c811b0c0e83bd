"""The back office's side of campaigns (S10): cohort preview, start, progress and
failures, on top of the engine's Campaign model and ``provisioning.campaigns``."""

import datetime
import re
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Count, QuerySet
from django.utils import timezone

from campusconf.accounts.models import Account
from campusconf.accounts.states import LIVE_STATES, State
from campusconf.audit.log import record
from campusconf.members.models import Member
from campusconf.provisioning import campaigns as engine
from campusconf.provisioning import ratelimit
from campusconf.provisioning.models import Campaign, Job
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
    members = engine.cohort(cohort.roles, cohort.created_before, cohort.affiliations)
    if cohort.common_ids:
        members = members.filter(common_id__in=cohort.common_ids)
    return members


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


def start(service: Service, cohort: Cohort, *, actor: AbstractBaseUser, reason: str) -> Campaign:
    if not cohort.common_ids:
        campaign, _planned, _skipped = engine.start_campaign(
            service,
            roles=cohort.roles,
            created_before=cohort.created_before,
            affiliations=cohort.affiliations,
        )
        assert campaign is not None  # only a dry run returns none
    else:
        # A pasted list: the same enrolment as the engine's filtered start.
        campaign = Campaign.objects.create(service=service, cohort=cohort.as_json())
        engine.enroll(campaign, [m.pk for m in members_of(cohort)], actor=actor)
    record(
        actor,
        "campaign.start",
        campaign,
        reason,
        service=service.slug,
        cohort=cohort.as_json(),
        planned=campaign.planned,
        skipped=campaign.skipped,
    )
    return campaign


def change_status(campaign: Campaign, status: str, *, actor: AbstractBaseUser, reason: str) -> None:
    before = campaign.status
    with transaction.atomic():
        engine.set_status(campaign, status)
        record(actor, f"campaign.{status}", campaign, reason, status_before=before)


@dataclass
class CampaignProgress:
    total: int
    done: int
    failed: int
    remaining: int
    per_minute: float
    finish_at: datetime.datetime | None
    daily_cap: int | None

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
    recent = jobs.filter(finished_at__gte=now - RATE_WINDOW).count()
    per_minute = recent / (RATE_WINDOW.total_seconds() / 60)
    finish_at = None
    cap = ratelimit.daily_create_cap(campaign.service)
    if remaining and per_minute:
        finish_at = now + datetime.timedelta(minutes=remaining / per_minute)
        if cap and remaining > cap:
            # The vendor creates at most `cap` users a day, whatever the pace.
            finish_at = max(finish_at, now + datetime.timedelta(days=remaining // cap))
    return CampaignProgress(total, done, failed, remaining, per_minute, finish_at, cap)


FAILURE_COLUMNS = [
    "common_id",
    "name",
    "affiliation",
    "state",
    "error_code",
    "error",
    "error_at",
]


def failures(campaign: Campaign) -> QuerySet[Account]:
    """Why did these members get nothing? The accounts of the campaign that failed."""
    return (
        _accounts(campaign)
        .filter(state=State.FAILED)
        .select_related("member")
        .order_by("member__common_id")
    )
