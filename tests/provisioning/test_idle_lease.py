"""The first create after an idle spell: its lease is renewed before the call, and a
create not sent for a doubtful lease goes back to the queue at once (the demo trial
saw it dropped and run only when its lease expired, two minutes later)."""

import logging
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from campusconf.accounts.states import State
from campusconf.provisioning import worker
from campusconf.provisioning.fast_batch import pipeline
from campusconf.provisioning.models import Job
from campusconf.provisioning.verbs import actions


class OneByOne(ThreadPoolExecutor):
    """Each call ends before ``submit`` returns: the call checks its lease before the
    main thread's own end-of-step renewal could hide a stale one (as a vendor's quick
    answer does in production)."""

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[no-untyped-def]
        future = super().submit(fn, *args, **kwargs)
        future.exception()
        return future


def _run(pipe: pipeline.Pipeline) -> None:
    deadline = time.perf_counter() + 30
    pipe.step()
    while pipe.busy and time.perf_counter() < deadline:
        pipe.step(claim=False)
    assert not pipe.busy


@pytest.mark.django_db(transaction=True)
def test_the_first_create_after_a_minute_idle_is_sent(
    make_member, zoom_service, vendor, monkeypatch
):
    with OneByOne(2) as pool:
        pipe = pipeline.Pipeline("w", pool, 5, worker.run_one)
        assert pipe.step() is False  # idle: nothing to claim, nothing renewed
        real = time.monotonic
        monkeypatch.setattr(time, "monotonic", lambda: real() + 90)  # 90 s of idle
        account = actions.apply_for_service(make_member(), zoom_service)
        _run(pipe)
    account.refresh_from_db()
    assert account.state == State.INVITED
    assert [u["email"] for u in vendor.zoom_users()] == [account.member.mail_address.lower()]
    assert Job.objects.get(account=account).status == Job.Status.DONE


@pytest.mark.django_db(transaction=True)
def test_a_create_not_sent_for_a_doubtful_lease_is_logged_and_handed_back(
    make_member, zoom_service, vendor, monkeypatch, caplog
):
    account = actions.apply_for_service(make_member(), zoom_service)

    def stalled(self: pipeline.Lease, job_id: int) -> None:
        raise pipeline.LeaseDoubtful(f"job {job_id}")  # the worker stalled before the call

    with OneByOne(2) as pool, monkeypatch.context() as m:
        m.setattr(pipeline.Lease, "check", stalled)
        pipe = pipeline.Pipeline("w", pool, 5, worker.run_one)
        with caplog.at_level(logging.WARNING, logger="campusconf.provisioning"):
            _run(pipe)
    assert vendor.zoom_users() == []
    job = Job.objects.get(account=account)
    # Back in the queue now, not left running until its lease expires.
    assert (job.status, job.worker, job.lease_until) == (Job.Status.QUEUED, "", None)
    assert "lease doubtful" in job.last_error
    assert f"job={job.pk} account={account.pk} create not sent" in caplog.text
    # The next attempt looks the user up first, then creates it: one user.
    Job.objects.filter(pk=job.pk).update(run_after=job.created_at)
    assert worker.drain(max_seconds=30) == 1
    account.refresh_from_db()
    assert account.state == State.INVITED
    assert len(vendor.zoom_users()) == 1
