"""Retry and re-provision respect the seat cap like an application; every caller says so
clearly; an admission from the queue sends one mail; one seat-counting rule."""

import json

import pytest

from campusconf.accounts.lifecycle import IllegalTransition, transition
from campusconf.accounts.models import Account
from campusconf.accounts.states import Cause, State
from campusconf.audit.models import AuditEntry
from campusconf.backoffice import queries
from campusconf.backoffice.tokens import issue_token
from campusconf.portal.models import Notice
from campusconf.provisioning.models import Job, SeatWait
from campusconf.provisioning.verbs import actions, seats
from campusconf.provisioning.verbs.seat_admission import admit_waiting
from campusconf.provisioning.verbs.seats import WaitingForSeat, place_in_queue

pytestmark = pytest.mark.django_db


def jobs(account):
    return Job.objects.filter(account=account).count()


@pytest.fixture
def full(make_member, make_service, make_account):
    """One seat: a failed account (holds none) and the member who took the seat since."""
    service = make_service(seats=1)
    failed = make_account(make_member(), service, State.FAILED)
    holder = actions.apply_for_service(make_member(), service)
    return service, failed, holder


def test_a_retry_waits_when_the_failed_account_lost_its_seat(full):
    service, failed, holder = full
    before = jobs(failed)
    with pytest.raises(WaitingForSeat) as wait:
        actions.retry_account(failed, cause=Cause.STAFF, reason="vendor back")
    assert wait.value.place == 1
    failed.refresh_from_db()
    assert failed.state == State.FAILED and jobs(failed) == before  # nothing went ahead
    assert place_in_queue(failed.member, service) == 1
    assert seats.seats_used(service) == 1  # the cap held
    # Asking again keeps the same place.
    with pytest.raises(WaitingForSeat):
        actions.retry_account(failed, cause=Cause.STAFF)
    assert SeatWait.objects.filter(member=failed.member).count() == 1

    # The seat frees: the queue's admission carries the retry out, with one mail.
    actions.deprovision_account(holder, cause=Cause.STAFF, reason="left")
    transition(holder, State.REMOVED, cause=Cause.ENGINE)
    assert [a.pk for a in admit_waiting(service)] == [failed.pk]
    failed.refresh_from_db()
    assert failed.state == State.REQUESTED and jobs(failed) == before + 1
    assert SeatWait.objects.get(member=failed.member).outcome == SeatWait.Outcome.ADMITTED
    kinds = sorted(Notice.objects.filter(account=failed).values_list("kind", flat=True))
    # "application received" is from the account's first opening; the admission adds one.
    assert kinds == ["application_received", "seat_available"]


def test_a_retry_with_a_free_seat_goes_at_once(make_member, make_service, make_account):
    service = make_service(seats=2)
    failed = make_account(make_member(), service, State.FAILED)
    actions.apply_for_service(make_member(), service)
    actions.retry_account(failed, cause=Cause.STAFF)
    assert Account.objects.get(pk=failed.pk).state == State.REQUESTED
    assert not SeatWait.objects.exists()


def test_a_suspended_account_keeps_its_seat_and_comes_back_without_waiting(
    make_member, make_service, make_account
):
    service = make_service(seats=1)
    account = make_account(make_member(), service, State.ACTIVE)
    actions.suspend_account(account, cause=Cause.STAFF, reason="on leave")
    assert seats.seats_used(service) == 1  # suspended holds the seat
    newcomer = make_member()
    with pytest.raises(WaitingForSeat):
        actions.apply_for_service(newcomer, service)
    # Even with someone waiting, the suspended member's own seat is theirs.
    actions.reprovision_account(account, cause=Cause.STAFF, reason="back")
    assert Account.objects.get(pk=account.pk).state == State.REQUESTED
    assert place_in_queue(newcomer, service) == 1


def test_a_removed_account_needs_a_free_seat_to_come_back(make_member, make_service):
    service = make_service(seats=1)
    gone = actions.apply_for_service(make_member(), service)
    transition(gone, State.REMOVED, cause=Cause.STAFF, reason="left")
    holder = actions.apply_for_service(make_member(), service)
    with pytest.raises(WaitingForSeat) as wait:
        actions.reprovision_account(gone, cause=Cause.STAFF, reason="came back")
    assert wait.value.place == 1
    assert Account.objects.get(pk=gone.pk).state == State.REMOVED
    # Admitted: the removed account is reopened, and the member gets one mail.
    transition(holder, State.REMOVED, cause=Cause.STAFF, reason="left")
    assert [a.pk for a in admit_waiting(service)] == [gone.pk]
    assert Account.objects.get(pk=gone.pk).state == State.REQUESTED
    # One "application received" from the first application; the admission adds only
    # "seat_available".
    kinds = sorted(Notice.objects.filter(account=gone).values_list("kind", flat=True))
    assert kinds == ["application_received", "seat_available"]


def test_an_illegal_reprovision_is_refused_before_anyone_is_queued(make_member, make_service):
    service = make_service(seats=1)
    account = actions.apply_for_service(make_member(), service)  # requested
    with pytest.raises(IllegalTransition):
        actions.reprovision_account(account, cause=Cause.MEMBER)
    assert not SeatWait.objects.exists()


def test_an_admission_from_the_queue_sends_one_mail_not_two(make_member, make_service):
    service = make_service(seats=1)
    holder = actions.apply_for_service(make_member(), service)
    waiter = make_member()
    with pytest.raises(WaitingForSeat):
        actions.apply_for_service(waiter, service)
    transition(holder, State.REMOVED, cause=Cause.STAFF, reason="left")
    [account] = admit_waiting(service)
    kinds = list(Notice.objects.filter(account=account).values_list("kind", flat=True))
    assert kinds == ["seat_available"]
    # An ordinary application still gets its "application received".
    other = make_service("zoom", "zoom", seats=None)
    plain = actions.apply_for_service(waiter, other)
    assert list(Notice.objects.filter(account=plain).values_list("kind", flat=True)) == [
        "application_received"
    ]


def test_the_desk_says_the_member_waits_and_audits_the_place(staff_client, full):
    service, failed, _holder = full
    response = staff_client.post(
        f"/staff/accounts/{failed.pk}/retry/",
        {"reason": "vendor outage over"},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )
    page = response.content.decode()
    assert "now waits at place 1 in the seat queue" in page
    assert "Nothing was changed" not in page
    entry = AuditEntry.objects.get(action="account.retry")
    assert entry.details["waiting_for_seat"] == 1
    assert entry.reason == "vendor outage over"
    assert place_in_queue(failed.member, service) == 1  # the queue row committed


def test_the_desk_says_it_in_japanese_too(staff_client, full):
    _service, failed, _holder = full
    response = staff_client.post(
        f"/staff/accounts/{failed.pk}/retry/",
        {"reason": "再試行"},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="ja",
    )
    page = response.content.decode()
    assert "順番待ち" in page and "1" in page
    assert "now waits" not in page


def test_the_api_answers_202_with_the_place(client, staff_user, full):
    service, failed, _holder = full
    token = issue_token(staff_user, "tests", reason="test suite")[1]
    response = client.post(
        f"/staff/api/v1/accounts/{failed.pk}/retry",
        json.dumps({"reason": "vendor outage over"}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 202
    body = response.json()
    assert body["waiting_for_seat"] == 1
    assert body["account"]["state"] == "failed"
    assert "place 1" in body["detail"]
    assert place_in_queue(failed.member, service) == 1


def test_one_seat_counting_rule():
    assert queries.seats_used is seats.seats_used
    assert State.SUSPENDED in seats.SEAT_STATES
    assert State.FAILED not in seats.SEAT_STATES
    assert State.REMOVED not in seats.SEAT_STATES
