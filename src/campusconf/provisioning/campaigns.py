"""Bulk invitations to a cohort (S10): a Campaign whose jobs run in the bulk lane."""

from __future__ import annotations

import datetime
import math
from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from campusconf.accounts.lifecycle import AccountAlreadyLive, transition
from campusconf.accounts.models import Account
from campusconf.accounts.states import LIVE_STATES, Cause, DesiredState, State
from campusconf.members.models import Member
from campusconf.provisioning import ratelimit
from campusconf.provisioning.actions import NotEligible, WaitingForSeat, apply_for_service
from campusconf.provisioning.models import Campaign, Job
from campusconf.services.models import Service

BATCH = 200


def cohort(
    roles: Sequence[str] = (),
    created_before: datetime.date | None = None,
    affiliations: Sequence[str] = (),
) -> QuerySet[Member]:
    members = Member.objects.filter(status=Member.Status.ACTIVE)
    if roles:
        match = Q()
        for role in roles:
            match |= Q(roles__contains=role)  # no role name is part of another
        members = members.filter(match)
    if created_before:
        members = members.filter(university_account_created_on__lt=created_before)
    if affiliations:
        members = members.filter(affiliation__in=list(affiliations))
    return members.order_by("pk")


def start_campaign(
    service: Service,
    *,
    roles: Sequence[str] = (),
    created_before: datetime.date | None = None,
    affiliations: Sequence[str] = (),
    dry_run: bool = False,
) -> tuple[Campaign | None, int, int]:
    """Apply for every eligible member of the cohort who holds no live account.

    Returns (campaign, planned, skipped); a dry run creates nothing. Members are
    applied in batches of their own transactions, so a huge cohort never holds one
    long lock; each application still commits with its job.
    """
    members = cohort(roles, created_before, affiliations).exclude(
        accounts__service=service, accounts__state__in=list(LIVE_STATES)
    )
    filt = {
        "roles": list(roles),
        "created_before": created_before.isoformat() if created_before else None,
        "affiliations": list(affiliations),
    }
    if dry_run:
        from campusconf.services.eligibility import check_eligibility

        ok = sum(1 for m in members.iterator() if check_eligibility(m, service).eligible)
        return None, ok, 0
    campaign = Campaign.objects.create(service=service, cohort=filt)
    planned, skipped = enroll(campaign, list(members.values_list("pk", flat=True)))
    return campaign, planned, skipped


def enroll(
    campaign: Campaign, member_ids: list[int], *, actor: AbstractBaseUser | None = None
) -> tuple[int, int]:
    """Apply for each member on the campaign's behalf; record and return (planned, skipped).

    Members are applied in batches, each application in its own transaction with its
    job, so a huge cohort never holds one long lock.
    """
    planned = skipped = 0
    for start in range(0, len(member_ids), BATCH):
        for member in Member.objects.filter(pk__in=member_ids[start : start + BATCH]):
            try:
                apply_for_service(
                    member,
                    campaign.service,
                    cause=Cause.STAFF,
                    actor=actor,
                    reason=f"campaign {campaign.pk}",
                    campaign=campaign,
                )
                planned += 1
            except (NotEligible, AccountAlreadyLive):
                skipped += 1
            except WaitingForSeat:
                pass  # queued for a seat (S16) with this campaign; admitted when one frees
    Campaign.objects.filter(pk=campaign.pk).update(planned=planned, skipped=skipped)
    campaign.refresh_from_db()
    return planned, skipped


class CampaignStateError(ValueError):
    """A campaign cannot make this move (e.g. resume one that is running)."""


def set_status(campaign: Campaign, status: str) -> None:
    allowed = {
        Campaign.Status.PAUSED: {Campaign.Status.RUNNING},
        Campaign.Status.RUNNING: {Campaign.Status.PAUSED},
        Campaign.Status.CANCELLED: {Campaign.Status.RUNNING, Campaign.Status.PAUSED},
    }[Campaign.Status(status)]
    if campaign.status not in allowed:
        raise CampaignStateError(f"campaign {campaign.pk} is {campaign.status}, not {status}")
    if status != Campaign.Status.CANCELLED:
        Campaign.objects.filter(pk=campaign.pk).update(status=status)
        campaign.refresh_from_db()
        return
    # Cancel: queued jobs are dropped and their accounts, still without a vendor user,
    # withdrawn; work already running finishes (its vendor user is real).
    Campaign.objects.filter(pk=campaign.pk).update(status=status)
    for job in Job.objects.filter(campaign=campaign, status=Job.Status.QUEUED):
        with transaction.atomic():
            taken = Job.objects.filter(pk=job.pk, status=Job.Status.QUEUED).update(
                status=Job.Status.CANCELLED, finished_at=timezone.now()
            )
            account = Account.objects.filter(pk=job.account_id or 0).first()
            if (
                taken
                and account
                and account.state == State.REQUESTED
                and not account.vendor_user_id
            ):
                transition(
                    account,
                    State.REMOVED,
                    cause=Cause.STAFF,
                    reason="campaign cancelled",
                    desired_state=DesiredState.ABSENT,
                )
    campaign.refresh_from_db()


@dataclass
class Progress:
    campaign: Campaign
    by_state: dict[str, int]
    jobs: dict[str, int]
    finish_estimate: str


def progress(campaign: Campaign) -> Progress:
    accounts = Account.objects.filter(jobs__campaign=campaign).distinct()
    by_state = {row["state"]: row["n"] for row in accounts.values("state").annotate(n=Count("id"))}
    jobs = {
        row["status"]: row["n"]
        for row in Job.objects.filter(campaign=campaign).values("status").annotate(n=Count("id"))
    }
    remaining = jobs.get(Job.Status.QUEUED, 0) + jobs.get(Job.Status.RUNNING, 0)
    return Progress(campaign, by_state, jobs, estimate(campaign.service, remaining))


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
