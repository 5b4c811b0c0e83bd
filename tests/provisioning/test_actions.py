"""Actions change the account and queue its job in one transaction, or change nothing."""

import datetime
import itertools

import pytest
from django.db import transaction
from django.utils import timezone

from campusconf.accounts.lifecycle import AccountAlreadyLive, IllegalTransition, transition
from campusconf.accounts.models import Account, Application
from campusconf.accounts.states import Cause, DesiredState, State
from campusconf.provisioning.models import Job, Lane, RateBucket
from campusconf.provisioning.queueing import job_queue
from campusconf.provisioning.verbs import actions

pytestmark = pytest.mark.django_db


@pytest.fixture
def service(make_service):
    return make_service()


def live_jobs(account):
    return list(Job.objects.filter(account=account, status__in=job_queue.LIVE))


def test_apply_opens_the_account_records_the_application_and_queues_one_job(make_member, service):
    member = make_member()
    account = actions.apply_for_service(member, service)
    assert account.state == State.REQUESTED
    assert Application.objects.filter(account=account).count() == 1
    [job] = live_jobs(account)
    assert job.kind == Job.Kind.SYNC
    assert job.lane == Lane.MEMBER


def test_applying_twice_while_live_raises_and_queues_nothing_more(make_member, service):
    member = make_member()
    account = actions.apply_for_service(member, service)
    with pytest.raises(AccountAlreadyLive):
        actions.apply_for_service(member, service)
    assert len(live_jobs(account)) == 1
    assert Application.objects.count() == 1


def test_an_ineligible_member_is_refused_with_the_reason(make_member, make_service):
    service = make_service(eligible_roles="student")
    with pytest.raises(actions.NotEligible) as refused:
        actions.apply_for_service(make_member(faculty=True), service)
    assert "student" in refused.value.reason
    assert not Account.objects.exists()
    assert not Job.objects.exists()


def test_a_failure_after_the_job_is_queued_rolls_both_back(make_member, service):
    member = make_member()
    with pytest.raises(RuntimeError), transaction.atomic():
        actions.apply_for_service(member, service)
        raise RuntimeError("crash before commit")
    assert not Account.objects.exists()
    assert not Job.objects.exists()


def test_an_illegal_move_raises_and_changes_nothing(make_member, service):
    account = actions.apply_for_service(make_member(), service)
    with pytest.raises(IllegalTransition):
        actions.retry_account(account, cause=Cause.STAFF)
    with pytest.raises(IllegalTransition):
        actions.resend_invitation(account, cause=Cause.MEMBER)
    account.refresh_from_db()
    assert account.state == State.REQUESTED
    assert len(Job.objects.all()) == 1


def invited(account):
    Job.objects.filter(account=account).update(status=Job.Status.DONE)
    now = timezone.now()
    transition(
        account,
        State.INVITED,
        cause=Cause.ENGINE,
        vendor_user_id="u1",
        invitation_sent_at=now,
        invitation_expires_at=now + datetime.timedelta(days=15),
    )
    return account


def test_resend_moves_back_to_requested_with_a_reinvite_job(make_member, service):
    account = invited(actions.apply_for_service(make_member(), service))
    actions.resend_invitation(account, cause=Cause.MEMBER)
    assert account.state == State.REQUESTED
    [job] = live_jobs(account)
    assert job.kind == Job.Kind.REINVITE


def test_resend_allowed_once_per_ten_minutes(make_member, service):
    account = invited(actions.apply_for_service(make_member(), service))
    ok, _ = actions.resend_allowed(account, timezone.now())
    assert ok
    actions.resend_invitation(account, cause=Cause.MEMBER)
    invited(account)
    ok, why = actions.resend_allowed(account, timezone.now())
    assert not ok and "10 minutes" in why
    ok, _ = actions.resend_allowed(account, timezone.now() + datetime.timedelta(minutes=11))
    assert ok


def test_a_second_request_joins_the_live_job(make_member, service):
    account = actions.apply_for_service(make_member(), service, cause=Cause.STAFF)
    actions.reconcile_account(account, cause=Cause.MEMBER)
    [job] = live_jobs(account)
    assert job.kind == Job.Kind.SYNC  # a look is weaker than the provisioning it joins
    assert job.lane == Lane.MEMBER


def test_work_asked_for_while_a_job_runs_runs_again_after(make_member, service):
    account = actions.apply_for_service(make_member(), service)
    job = job_queue.claim("w1")
    assert job is not None
    actions.deprovision_account(account, cause=Cause.STAFF)
    job_queue.finish(job, "w1")
    [again] = live_jobs(account)
    assert again.pk == job.pk and again.status == Job.Status.QUEUED
    account.refresh_from_db()
    assert account.desired_state == DesiredState.ABSENT


def test_claim_serves_members_before_bulk_work(make_member, service):
    from campusconf.provisioning.models import Campaign

    campaign = Campaign.objects.create(service=service)
    bulk = actions.apply_for_service(make_member(), service, cause=Cause.STAFF, campaign=campaign)
    own = actions.apply_for_service(make_member(), service, cause=Cause.MEMBER)
    first = job_queue.claim("w")
    assert first is not None and first.account_id == own.pk
    second = job_queue.claim("w")
    assert second is not None and second.account_id == bulk.pk


def test_a_lease_that_expires_gives_the_job_to_another_worker(make_member, service):
    actions.apply_for_service(make_member(), service)
    job = job_queue.claim("dead")
    assert job is not None and job_queue.claim("other") is None
    Job.objects.filter(pk=job.pk).update(lease_until=timezone.now() - datetime.timedelta(seconds=1))
    assert job_queue.recover_expired() == 1
    again = job_queue.claim("other")
    assert again is not None and again.pk == job.pk and again.attempts == 2
    job_queue.finish(job, "dead")  # the dead worker's late answer changes nothing
    again.refresh_from_db()
    assert again.status == Job.Status.RUNNING


def test_backoff_grows_and_honours_retry_after():
    assert job_queue.backoff(1) <= job_queue.backoff(6) * 2
    assert job_queue.backoff(1, retry_after=30) >= 30


def test_the_shared_bucket_spaces_calls_at_the_vendor_rate(make_service):
    from campusconf.provisioning.queueing import rate_limits

    service = make_service(slug="zoom", vendor="zoom", connector_settings={"plan": "business"})
    t = 1_000_000.0
    waits = [rate_limits.reserve(service, "light", now=t) for _ in range(161)]
    rate = 80 * rate_limits.HEADROOM
    # Two seconds' worth of calls at one instant: the last waits two seconds.
    assert waits[-1] == pytest.approx(160 / rate, rel=0.05)
    assert all(b >= a for a, b in itertools.pairwise(waits))


def test_after_a_quiet_spell_no_second_gets_more_than_the_paced_rate(make_service):
    from campusconf.provisioning.queueing import rate_limits

    service = make_service(slug="zoom", vendor="zoom", connector_settings={"plan": "business"})
    t = 1_000_000.0
    rate_limits.reserve(service, "light", now=t)
    # An hour idle, then a campaign's batch: the first call goes at once, and every
    # second from it holds the paced rate and one, leaving 3 % of the vendor's 80 for
    # calls that leave late.
    waits = rate_limits.reserve_many(service, "light", 400, now=t + 3600)
    assert waits[0] == 0.0
    for start in (0.0, 0.5, 1.0, 2.0):
        in_window = sum(1 for w in waits if start <= w < start + 1.0)
        assert in_window <= 80 * rate_limits.HEADROOM + 1 < 80


def test_a_burst_of_429s_pushes_the_bucket_back_once_not_once_per_answer(make_service):
    from campusconf.provisioning.queueing import rate_limits

    service = make_service(slug="zoom", vendor="zoom", connector_settings={"plan": "business"})
    t = 1_000_000.0
    rate_limits.reserve_many(service, "light", 10, now=t)  # the calls in flight
    # All ten come back 429 together, each asking for one second.
    for i in range(10):
        rate_limits.vendor_said_wait(service, "create", 1.0, now=t + 0.01 * i)
    [wait] = rate_limits.reserve_many(service, "light", 1, now=t + 0.1)
    # The next call goes about a second after the answers, not ten seconds.
    assert 0.9 <= wait <= 1.1
    assert RateBucket.objects.get(service=service, category="light").rate_limited == 10


def test_a_429_does_not_pull_slots_already_given_beyond_its_wait_forward(make_service):
    from campusconf.provisioning.queueing import rate_limits

    service = make_service(slug="zoom", vendor="zoom", connector_settings={"plan": "business"})
    t = 1_000_000.0
    waits = rate_limits.reserve_many(service, "light", 400, now=t)  # five seconds' worth
    rate_limits.vendor_said_wait(service, "create", 1.0, now=t)
    [wait] = rate_limits.reserve_many(service, "light", 1, now=t)
    assert wait == pytest.approx(waits[-1] + 1 / (80 * rate_limits.HEADROOM), rel=0.01)


def test_a_daily_cap_pauses_the_service_and_status_says_so(make_member, make_service):
    from campusconf.provisioning.ops.metrics import engine_state
    from campusconf.provisioning.queueing import rate_limits

    service = make_service(slug="zoom", vendor="zoom", connector_settings={"plan": "pro"})
    actions.apply_for_service(make_member(), service)
    until = timezone.now() + datetime.timedelta(hours=3)
    rate_limits.pause_creates(service, until, "daily create cap")
    assert job_queue.claim("w") is None  # the service's jobs wait for the reset
    assert "PAUSED" in " ".join(engine_state().services["zoom"]["buckets"])
    with pytest.raises(rate_limits.ServicePaused):
        rate_limits.reserve(service, "light")


def test_a_job_whose_account_row_is_gone_just_ends(make_member, service):
    from campusconf.provisioning import worker

    account = actions.apply_for_service(make_member(), service)
    job = job_queue.claim("w")
    Job.objects.filter(pk=job.pk).update(account=None)
    job.refresh_from_db()
    worker.run_one(job, "w")
    job.refresh_from_db()
    assert job.status == Job.Status.DONE
    assert account.pk
