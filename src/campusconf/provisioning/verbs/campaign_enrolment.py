"""Bulk invitations to a cohort (S10): a Campaign whose jobs run in the bulk lane.

A start only records the campaign (``create_campaign``); the enrolment — applying for
every member of the cohort — is work for the workers (the ``campaigns`` schedule calls
``enroll_due``), so a web request never enrols thousands of members. Enrolment runs in
batches, each committed with the campaign's cursor, under a lease on the campaign: a
worker that dies mid-way leaves the rest to the next one, and nobody is applied twice.

Fairness: each campaign's jobs get ``run_after`` stamps spaced at the service's create
rate, starting from now or from the campaign's last stamp. The queue claims in stamp
order, so two campaigns on one service alternate instead of the older one taking the
vendor for hours; members' own applications sit in a more urgent lane, ahead of both.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.db.models import F, Max, Q, QuerySet
from django.utils import translation

from campusconf.accounts.lifecycle import AccountAlreadyLive, transition
from campusconf.accounts.models import Account
from campusconf.accounts.reasons import Reason, Why
from campusconf.accounts.states import LIVE_STATES, Cause, DesiredState, State
from campusconf.audit.log import record
from campusconf.core import clock
from campusconf.members.models import Member
from campusconf.provisioning.models import Campaign, CampaignSkip, Job
from campusconf.provisioning.queueing import rate_limits
from campusconf.provisioning.verbs.actions import NotEligible, WaitingForSeat, apply_for_service
from campusconf.provisioning.verbs.audit_trail import Who, actor_of
from campusconf.services.eligibility import check_eligibility
from campusconf.services.models import Service

BATCH = 50  # one write transaction each: short enough not to make members wait
LEASE = datetime.timedelta(minutes=2)
Status = Campaign.Status


def cohort(
    roles: Sequence[str] = (),
    created_before: datetime.date | None = None,
    affiliations: Sequence[str] = (),
    common_ids: Sequence[str] = (),
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
    if common_ids:
        members = members.filter(common_id__in=list(common_ids))
    return members.order_by("pk")


def without_live_account(members: QuerySet[Member], service: Service) -> QuerySet[Member]:
    # One subquery, so "live" and "this service" hold for the same account.
    live = Account.objects.filter(service=service, state__in=list(LIVE_STATES))
    return members.exclude(pk__in=live.values("member_id"))


def cohort_json(
    roles: Sequence[str] = (),
    created_before: datetime.date | None = None,
    affiliations: Sequence[str] = (),
    common_ids: Sequence[str] = (),
) -> dict[str, Any]:
    return {
        "roles": list(roles),
        "created_before": created_before.isoformat() if created_before else None,
        "affiliations": list(affiliations),
        "common_ids": list(common_ids),
    }


def cohort_of(campaign: Campaign) -> QuerySet[Member]:
    c = campaign.cohort or {}
    before = c.get("created_before")
    return cohort(
        c.get("roles") or (),
        datetime.date.fromisoformat(before) if before else None,
        c.get("affiliations") or (),
        c.get("common_ids") or (),
    )


def create_campaign(
    service: Service,
    cohort: dict[str, Any],
    *,
    actor: Who,
    reason: str,
    start_at: datetime.datetime | None = None,
    now: datetime.datetime | None = None,
) -> Campaign:
    """Record a campaign and its audit entry (``campaign.start``, unless the engine's
    own); the workers enrol it at ``start_at`` (or at once)."""
    now = now or clock.now()
    scheduled = start_at is not None and start_at > now
    with transaction.atomic():
        campaign = Campaign.objects.create(
            service=service,
            cohort=cohort,
            status=Status.SCHEDULED if scheduled else Status.ENROLLING,
            start_at=start_at,
        )
        if actor is not None:
            record(
                actor_of(actor),
                "campaign.start",
                campaign,
                reason,
                service=service.slug,
                cohort=cohort,
                start_at=start_at.isoformat() if start_at else None,
            )
    return campaign


def start_campaign(
    service: Service,
    *,
    roles: Sequence[str] = (),
    created_before: datetime.date | None = None,
    affiliations: Sequence[str] = (),
    common_ids: Sequence[str] = (),
    dry_run: bool = False,
    start_at: datetime.datetime | None = None,
    actor: Who = None,
    reason: str = "",
) -> tuple[Campaign | None, int, int]:
    """The CLI's start: record the campaign and, unless scheduled, enrol it here.

    Returns (campaign, planned, skipped); a dry run creates nothing and returns the
    number of members who would be invited. The command line is its own process, so
    it enrols inline under the same lease as a worker: if it dies, a worker resumes.
    """
    members = without_live_account(cohort(roles, created_before, affiliations, common_ids), service)
    if dry_run:
        ok = sum(1 for m in members.iterator() if check_eligibility(m, service).eligible)
        return None, ok, 0
    campaign = create_campaign(
        service,
        cohort_json(roles, created_before, affiliations, common_ids),
        actor=actor,
        reason=reason,
        start_at=start_at,
    )
    if campaign.status == Status.ENROLLING:
        run_enrolment(campaign)
        campaign.refresh_from_db()
    return campaign, campaign.planned, campaign.skipped


def enroll_due(now: datetime.datetime | None = None) -> int:
    """The workers' part: start due scheduled campaigns, enrol, close finished ones.

    Returns how many campaigns this call enrolled (fully or until paused).
    """
    now = now or clock.now()
    Campaign.objects.filter(status=Status.SCHEDULED, start_at__lte=now).update(
        status=Status.ENROLLING
    )
    enrolled = 0
    for campaign in Campaign.objects.filter(status=Status.ENROLLING).order_by("pk"):
        if run_enrolment(campaign, now=now):
            enrolled += 1
    # A running campaign with no work left is done.
    Campaign.objects.filter(status=Status.RUNNING, enrolled_at__isnull=False).exclude(
        jobs__status__in=Job.LIVE
    ).update(status=Status.DONE)
    return enrolled


def run_enrolment(campaign: Campaign, *, now: datetime.datetime | None = None) -> bool:
    """Enrol ``campaign`` batch by batch while it is enrolling; False if another holds it."""
    now = now or clock.now()
    free = Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    taken = (
        Campaign.objects.filter(pk=campaign.pk, status=Status.ENROLLING)
        .filter(free)
        .update(lease_until=now + LEASE)
    )
    if not taken:
        return False
    try:
        # Skip reasons are stored once, in English, whatever language this process speaks.
        with translation.override("en"):
            while _enroll_batch(campaign.pk):
                Campaign.objects.filter(pk=campaign.pk).update(lease_until=clock.now() + LEASE)
    finally:
        Campaign.objects.filter(pk=campaign.pk).update(lease_until=None)
    campaign.refresh_from_db()
    return True


def _pace(service: Service) -> datetime.timedelta:
    cat = rate_limits.category(service.vendor, "create") or "api"
    rate = rate_limits.limits(service).get(cat, 10.0)
    return datetime.timedelta(seconds=1 / max(rate, 0.01))


def _enroll_batch(campaign_pk: int) -> bool:
    """Apply for the next batch; True while there is more to do."""
    with transaction.atomic():
        campaign = (
            Campaign.objects.select_for_update().select_related("service").get(pk=campaign_pk)
        )
        if campaign.status != Status.ENROLLING:
            return False  # paused or cancelled meanwhile
        service = campaign.service
        members = list(
            without_live_account(cohort_of(campaign), service).filter(
                pk__gt=campaign.enroll_cursor
            )[:BATCH]
        )
        step = _pace(service)
        now = clock.now()
        last = Job.objects.filter(campaign=campaign).aggregate(m=Max("run_after"))["m"]
        stamp = max(now, last + step) if last else now
        planned = 0
        skips: list[CampaignSkip] = []
        for member in members:
            try:
                account = apply_for_service(
                    member,
                    service,
                    cause=Cause.STAFF,
                    reason=Why(Reason.CAMPAIGN, campaign=campaign.pk),
                    campaign=campaign,
                )
            except NotEligible as exc:
                skips.append(_skip(campaign, member, "not_eligible", exc.reason))
                continue
            except AccountAlreadyLive:
                skips.append(_skip(campaign, member, "already_live", "already holds an account"))
                continue
            except WaitingForSeat:
                # Seats all taken (S16): queued with this campaign, admitted by the engine
                # when one frees; progress() counts them as waiting.
                continue
            Job.objects.filter(account=account, campaign=campaign, status=Job.Status.QUEUED).update(
                run_after=stamp
            )
            stamp += step
            planned += 1
        more = len(members) == BATCH
        if not more:
            skips.extend(_listed_but_not_enrolled(campaign))
        CampaignSkip.objects.bulk_create(skips)
        update: dict[str, Any] = {
            "planned": F("planned") + planned,
            "skipped": F("skipped") + len(skips),
        }
        if members:
            update["enroll_cursor"] = members[-1].pk
        if not more:
            update |= {"status": Status.RUNNING, "enrolled_at": clock.now()}
        Campaign.objects.filter(pk=campaign.pk).update(**update)
    return more


def _skip(campaign: Campaign, member: Member | None, code: str, reason: str) -> CampaignSkip:
    return CampaignSkip(
        campaign=campaign,
        member=member,
        common_id=member.common_id if member else "",
        code=code,
        reason=str(reason),
    )


def _listed_but_not_enrolled(campaign: Campaign) -> list[CampaignSkip]:
    """Pasted common IDs the cohort did not reach, each with why."""
    listed = list((campaign.cohort or {}).get("common_ids") or [])
    if not listed:
        return []
    reached = set(cohort_of(campaign).values_list("common_id", flat=True))
    found = {m.common_id: m for m in Member.objects.filter(common_id__in=listed)}
    skips = []
    for common_id in listed:
        if common_id in reached:
            continue
        member = found.get(common_id)
        if member is None:
            skip = _skip(campaign, None, "unknown_common_id", "no member has this common ID")
            skip.common_id = common_id
        elif member.status != Member.Status.ACTIVE:
            skip = _skip(campaign, member, "not_active", f"the member's status is {member.status}")
        else:
            skip = _skip(
                campaign, member, "outside_filters", "outside the roles, cut-off or affiliations"
            )
        skips.append(skip)
    return skips


class CampaignStateError(ValueError):
    """A campaign cannot make this move (e.g. resume one that is running)."""


# target → the statuses it may come from. "running" is the resume: a campaign paused
# before its enrolment finished goes back to enrolling.
ALLOWED = {
    Status.PAUSED: {Status.ENROLLING, Status.RUNNING},
    Status.RUNNING: {Status.PAUSED},
    Status.CANCELLED: {Status.SCHEDULED, Status.ENROLLING, Status.RUNNING, Status.PAUSED},
}


def set_status(campaign: Campaign, status: str, *, actor: Who, reason: str) -> None:
    """Pause, resume or cancel, with the audit entry naming the status it landed in;
    raises CampaignStateError (nothing changed) when the campaign cannot move so."""
    target = Status(status)
    if target not in ALLOWED:
        raise CampaignStateError(f"campaign {campaign.pk}: no move to {status}")
    with transaction.atomic():
        # Locked: an enrolment batch in flight finishes first, then sees the new status.
        current = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if current.status not in ALLOWED[target]:
            campaign.refresh_from_db()
            raise CampaignStateError(f"campaign {campaign.pk} is {current.status}, not {status}")
        if target == Status.RUNNING and current.enrolled_at is None:
            target = Status.ENROLLING
        Campaign.objects.filter(pk=campaign.pk).update(status=target)
        if actor is not None:
            record(
                actor_of(actor),
                f"campaign.{target}",
                campaign,
                reason,
                status_before=str(current.status),
            )
    if target in (Status.RUNNING, Status.ENROLLING):
        _restamp(campaign)  # a resume, whether or not the enrolment had finished
    if target == Status.CANCELLED:
        _cancel_queued(campaign)
    campaign.refresh_from_db()


def _restamp(campaign: Campaign) -> None:
    """After a pause, the campaign's waiting jobs are spaced again from now: stamps from
    before the pause would let it jump ahead of a campaign that kept running."""
    step = _pace(campaign.service)
    stamp = clock.now()
    pks = list(
        Job.objects.filter(campaign=campaign, status=Job.Status.QUEUED)
        .order_by("run_after", "pk")
        .values_list("pk", flat=True)
    )
    for start in range(0, len(pks), 500):
        chunk = [
            Job(pk=pk, run_after=stamp + i * step)
            for i, pk in enumerate(pks[start : start + 500], start)
        ]
        Job.objects.bulk_update(chunk, ["run_after"])


def _cancel_queued(campaign: Campaign) -> None:
    # Queued jobs are dropped and their accounts, still without a vendor user,
    # withdrawn; work already running finishes (its vendor user is real).
    for job in Job.objects.filter(campaign=campaign, status=Job.Status.QUEUED):
        with transaction.atomic():
            taken = Job.objects.filter(pk=job.pk, status=Job.Status.QUEUED).update(
                status=Job.Status.CANCELLED, finished_at=clock.now()
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
                    reason=Reason.CAMPAIGN_CANCELLED,
                    desired_state=DesiredState.ABSENT,
                )
