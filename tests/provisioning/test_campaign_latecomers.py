"""A campaign invites the members its audience gains after its first wave (S10)."""

import datetime

import pytest

from campusconf.accounts.models import Account
from campusconf.accounts.states import State
from campusconf.provisioning.models import Campaign, CampaignSkip, Job
from campusconf.provisioning.verbs import campaign_enrolment
from campusconf.provisioning.verbs.campaign_latecomers import invite_latecomers, latecomers

pytestmark = pytest.mark.django_db

CUTOFF = datetime.date(2026, 3, 24)
BEFORE, AFTER = datetime.date(2025, 4, 1), datetime.date(2026, 4, 10)


def _enrolled(service, **cohort):
    campaign = campaign_enrolment.create_campaign(
        service, campaign_enrolment.cohort_json(**cohort), actor=None, reason=""
    )
    campaign_enrolment.enroll_due()
    campaign.refresh_from_db()
    return campaign


def _campaign_accounts(campaign):
    return set(
        Account.objects.filter(jobs__campaign=campaign).values_list("member__common_id", flat=True)
    )


def test_a_student_created_after_the_cut_off_is_invited_once_the_first_wave_is_in(
    make_member, make_service
):
    service = make_service()
    first = make_member(student=True, created_on=BEFORE)
    late = make_member(student=True, created_on=AFTER)
    make_member(faculty=True, created_on=AFTER)  # not in the campaign's roles
    campaign = _enrolled(service, roles=["student"], created_before=CUTOFF)
    assert campaign.status == Campaign.Status.RUNNING
    assert _campaign_accounts(campaign) == {first.common_id}

    assert invite_latecomers() == 1

    assert _campaign_accounts(campaign) == {first.common_id, late.common_id}
    account = Account.objects.get(member=late, service=service)
    assert account.state == State.REQUESTED
    assert Job.objects.get(account=account).campaign_id == campaign.pk
    campaign.refresh_from_db()
    assert campaign.planned == 2
    # Nothing left: a second pass invites nobody again.
    assert invite_latecomers() == 0


def test_a_member_who_appears_after_a_campaign_finished_is_invited(make_member, make_service):
    service = make_service()
    campaign = _enrolled(service, roles=["student"])
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.DONE)
    newcomer = make_member(student=True, created_on=AFTER)  # a roster or SCIM add

    assert invite_latecomers() == 1
    assert _campaign_accounts(campaign) == {newcomer.common_id}


@pytest.mark.parametrize(
    "status", [Campaign.Status.PAUSED, Campaign.Status.CANCELLED, Campaign.Status.SCHEDULED]
)
def test_a_campaign_not_running_invites_no_latecomer(make_member, make_service, status):
    service = make_service()
    campaign = _enrolled(service, roles=["student"], created_before=CUTOFF)
    Campaign.objects.filter(pk=campaign.pk).update(status=status)
    make_member(student=True, created_on=AFTER)

    assert invite_latecomers() == 0
    assert not Account.objects.exists()


def test_a_campaign_by_list_of_ids_gains_nobody(make_member, make_service):
    service = make_service()
    listed = make_member(student=True, created_on=BEFORE)
    campaign = _enrolled(service, roles=["student"], common_ids=[listed.common_id])
    make_member(student=True, created_on=AFTER)

    assert invite_latecomers() == 0
    assert _campaign_accounts(campaign) == {listed.common_id}


def test_a_member_who_ever_had_an_account_is_not_reinvited(make_member, make_service):
    service = make_service()
    campaign = _enrolled(service, roles=["student"], created_before=CUTOFF)
    late = make_member(student=True, created_on=AFTER)
    Account.objects.create(member=late, service=service, state=State.REMOVED)

    assert list(latecomers(campaign)) == []
    assert invite_latecomers() == 0


def test_an_ineligible_latecomer_is_left_out_once_with_the_reason(make_member, make_service):
    service = make_service(eligible_roles="faculty staff")
    campaign = _enrolled(service, roles=["student"], created_before=CUTOFF)
    late = make_member(student=True, created_on=AFTER)

    assert invite_latecomers() == 0
    skip = CampaignSkip.objects.get(campaign=campaign, member=late)
    assert skip.code == "not_eligible"
    assert skip.reason
    campaign.refresh_from_db()
    assert campaign.skipped == 1
    # Recorded once: the next pass does not consider them again.
    assert invite_latecomers() == 0
    assert CampaignSkip.objects.filter(member=late).count() == 1
