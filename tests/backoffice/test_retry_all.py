""" "Retry all failed" for a service's failed queue and a campaign's failures: one
confirmation with a reason, each account through the engine's retry (seat cap kept),
audited per account and once for the whole, and a count of what happened."""

import pytest

from campusconf.accounts.lifecycle import transition
from campusconf.accounts.models import Account
from campusconf.accounts.reasons import Reason, Why, error_fields
from campusconf.accounts.states import Cause, State
from campusconf.audit.models import AuditEntry
from campusconf.backoffice import campaigns
from campusconf.backoffice.campaigns import Cohort
from campusconf.backoffice.remedies import retry_all
from campusconf.provisioning.models import Job
from campusconf.provisioning.verbs import actions
from campusconf.provisioning.verbs import campaign_enrolment as engine
from campusconf.provisioning.verbs.seats import place_in_queue

pytestmark = pytest.mark.django_db


@pytest.fixture
def three_failed(make_member, make_service, make_account):
    """Two seats and three failed accounts (a failed account holds no seat)."""
    service = make_service(seats=2)
    failed = [
        make_account(
            make_member(),
            service,
            State.FAILED,
            **error_fields(Why(Reason.VENDOR_REFUSED, detail="HTTP 503")),
        )
        for _ in range(3)
    ]
    active = make_account(make_member(), service, State.ACTIVE)
    return service, failed, active


def test_the_failed_queue_offers_retry_all_with_one_confirmation(staff_client, three_failed):
    service, failed, _active = three_failed
    page = staff_client.get(f"/staff/services/{service.slug}/").content.decode()
    url = f"/staff/services/{service.slug}/failed/retry/"
    assert f'href="{url}"' in page
    confirm = staff_client.get(url).content.decode()
    assert "3 accounts are failed." in confirm and 'name="reason"' in confirm
    assert staff_client.post(url, {"reason": ""}).status_code == 200  # the form again
    assert not AuditEntry.objects.exists()
    assert {a.state for a in Account.objects.filter(pk__in=[a.pk for a in failed])} == {
        State.FAILED
    }


def test_retry_all_respects_the_seat_cap_and_says_what_happened(
    staff_client, staff_user, three_failed
):
    service, failed, _active = three_failed
    before = Job.objects.count()
    response = staff_client.post(
        f"/staff/services/{service.slug}/failed/retry/",
        {"reason": "vendor outage over, INC-42"},
        follow=True,
    )
    page = response.content.decode()
    # One seat was free besides the active account's: the oldest failure gets it.
    assert (
        "Retry all failed: 1 retried, 2 queued for a seat (all seats are taken), "
        "0 refused (no longer failed)." in page
    )
    states = {a.pk: a.state for a in Account.objects.filter(pk__in=[a.pk for a in failed])}
    assert states == {
        failed[0].pk: State.REQUESTED,
        failed[1].pk: State.FAILED,
        failed[2].pk: State.FAILED,
    }
    assert Job.objects.count() == before + 1
    assert [place_in_queue(a.member, service) for a in failed[1:]] == [1, 2]
    # Audited once for the whole, with the count, and once per account.
    whole = AuditEntry.objects.get(action="service.retry_all_failed")
    assert whole.reason == "vendor outage over, INC-42"
    assert whole.details["count"] == 3
    assert whole.details["retried"] == [failed[0].pk]
    assert whole.details["queued_for_seat"] == [failed[1].pk, failed[2].pk]
    per_account = AuditEntry.objects.filter(action="account.retry")
    assert per_account.count() == 3
    assert {e.details["origin"] for e in per_account} == {"retry_all"}
    assert sorted(e.details.get("waiting_for_seat", 0) for e in per_account) == [0, 1, 2]


def test_an_account_retried_meanwhile_is_refused_and_the_rest_go_on(
    staff_user, make_member, make_service, make_account
):
    service = make_service()
    stale = make_account(make_member(), service, State.FAILED)
    other = make_account(make_member(), service, State.FAILED)
    listed = list(Account.objects.filter(pk__in=[stale.pk, other.pk]).order_by("pk"))
    # Someone else retried it after the list was read.
    actions.retry_account(Account.objects.get(pk=stale.pk), cause=Cause.STAFF, reason="desk")
    outcome = retry_all(
        listed,
        actor=staff_user,
        reason="all of them",
        scope=service,
        action="service.retry_all_failed",
        total=2,
    )
    assert (outcome.retried, outcome.queued, outcome.refused) == ([other.pk], [], [stale.pk])
    assert Job.objects.filter(account=stale).count() == 1  # the desk's retry only
    entry = AuditEntry.objects.get(action="service.retry_all_failed")
    assert entry.details["refused"] == [stale.pk]


def test_a_campaigns_failures_are_retried_together(
    staff_client, staff_user, make_member, make_service
):
    service = make_service()
    members = [make_member(student=True) for _ in range(3)]
    campaign = campaigns.start(
        service,
        Cohort([], None, [], [m.common_id for m in members]),
        actor=staff_user,
        reason="term start",
    )
    engine.enroll_due()
    accounts = list(Account.objects.filter(jobs__campaign=campaign).order_by("pk"))
    for account in accounts[:2]:
        Job.objects.filter(account=account).update(status=Job.Status.FAILED)
        transition(
            account,
            State.FAILED,
            cause=Cause.ENGINE,
            **error_fields(Why(Reason.VENDOR_REFUSED, detail="HTTP 500")),
        )
    page = staff_client.get(f"/staff/campaigns/{campaign.pk}/").content.decode()
    url = f"/staff/campaigns/{campaign.pk}/failures/retry/"
    assert f'href="{url}"' in page
    assert "2 accounts are failed." in staff_client.get(url).content.decode()
    page = staff_client.post(url, {"reason": "Zoom was down"}, follow=True).content.decode()
    assert "Retry all failed: 2 retried, 0 queued for a seat" in page
    assert campaigns.progress(campaign).failed == 0
    entry = AuditEntry.objects.get(action="campaign.retry_all_failed")
    assert str(entry.target_id) == str(campaign.pk)
    assert entry.details["count"] == 2
    # Japanese too.
    staff_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "ja"
    assert "失敗しているアカウントはありません。" in staff_client.get(url).content.decode()
