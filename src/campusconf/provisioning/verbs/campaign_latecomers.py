"""Members a campaign's audience gains after its first wave (S10: "some students got none").

A campaign's cut-off ("university account created before …") bounds the first wave, the
cohort enrolled at the start and paced at the vendor's rate. It does not say who the
campaign is for: a student whose university account is created after the cut-off, or
after the campaign began (roster, SCIM or any other directory add), is the same student
with a later date, and under the university's old process was the one who got no
invitation and wrote to the help desk. So once a campaign has enrolled its first wave,
the ``campaign-latecomers`` schedule invites, on the campaign's behalf, every active
member of its roles and affiliations who has never had an account at the service and
whom the campaign has not already left out.

Left alone: campaigns by a pasted list of common IDs (the list is the audience);
paused, cancelled, scheduled and enrolling campaigns (the first wave decides those);
members who have or had an account at the service (whatever happened to it, a person
or the engine chose it, and a campaign does not reopen it). A latecomer who is not
eligible is recorded as a skip once, as the first wave's are, and not tried again.
"""

from __future__ import annotations

from django.db.models import F, QuerySet
from django.utils import translation

from campusconf.accounts.lifecycle import AccountAlreadyLive
from campusconf.accounts.models import Account
from campusconf.accounts.reasons import Reason, Why
from campusconf.accounts.states import Cause
from campusconf.members.models import Member
from campusconf.provisioning.models import Campaign, CampaignSkip
from campusconf.provisioning.verbs.actions import NotEligible, WaitingForSeat, apply_for_service
from campusconf.provisioning.verbs.campaign_enrolment import cohort

BATCH = 50  # per campaign and pass: latecomers arrive a few at a time
OPEN = (Campaign.Status.RUNNING, Campaign.Status.DONE)


def latecomers(campaign: Campaign) -> QuerySet[Member]:
    """The members the campaign's audience gained, not yet invited or left out by it."""
    c = campaign.cohort or {}
    if c.get("common_ids") or campaign.status not in OPEN or campaign.enrolled_at is None:
        return Member.objects.none()
    members = cohort(c.get("roles") or (), None, c.get("affiliations") or ())
    had_account = Account.objects.filter(service_id=campaign.service_id).values("member_id")
    skipped = CampaignSkip.objects.filter(campaign=campaign, member__isnull=False)
    return members.exclude(pk__in=had_account).exclude(pk__in=skipped.values("member_id"))


def invite_latecomers() -> int:
    """The workers' part: invite each open campaign's latecomers; returns how many."""
    invited = 0
    # Skip reasons are stored once, in English, as the first wave's are.
    with translation.override("en"):
        for campaign in Campaign.objects.filter(status__in=OPEN).select_related("service"):
            for member in list(latecomers(campaign)[:BATCH]):
                invited += _invite(campaign, member)
    return invited


def _invite(campaign: Campaign, member: Member) -> int:
    try:
        apply_for_service(
            member,
            campaign.service,
            cause=Cause.STAFF,
            reason=Why(Reason.CAMPAIGN, campaign=campaign.pk),
            campaign=campaign,
        )
    except NotEligible as exc:
        _skip(campaign, member, "not_eligible", str(exc.reason))
        return 0
    except AccountAlreadyLive:  # applied themselves between the query and now
        return 0
    except WaitingForSeat:
        # Queued for a seat with the campaign (S16), as the first wave's members are.
        return 1
    Campaign.objects.filter(pk=campaign.pk).update(planned=F("planned") + 1)
    return 1


def _skip(campaign: Campaign, member: Member, code: str, reason: str) -> None:
    CampaignSkip.objects.create(
        campaign=campaign, member=member, common_id=member.common_id, code=code, reason=reason
    )
    Campaign.objects.filter(pk=campaign.pk).update(skipped=F("skipped") + 1)
