"""A batch's creates go out from the worker's main thread over the multiplexer; the
thread pool is only for creates that need more than one request (a SCIM connector). A
401 (nothing was done) has the main thread take the service's token again and the
create go out again over the multiplexer."""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from campusconf.accounts.states import State
from campusconf.provisioning import worker
from campusconf.provisioning.engine import vendors
from campusconf.provisioning.fast_batch import pipeline
from campusconf.provisioning.models import Job
from campusconf.provisioning.verbs import actions


class CountingPool(ThreadPoolExecutor):
    def __init__(self) -> None:
        super().__init__(4)
        self.submitted = 0

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.submitted += 1
        return super().submit(fn, *args, **kwargs)


def run(pipe: pipeline.Pipeline) -> None:
    deadline = time.monotonic() + 30
    while (pipe.step() or pipe.busy) and time.monotonic() < deadline:
        pass
    pipe.drain()
    assert not pipe.busy


def invite(make_member, service, count):
    return [actions.apply_for_service(make_member(), service) for _ in range(count)]


def assert_invited_once(accounts, users):
    emails = sorted(u["email"] for u in users)
    assert emails == sorted(a.member.mail_address.lower() for a in accounts)
    for account in accounts:
        account.refresh_from_db()
        assert account.state == State.INVITED and account.vendor_user_id
    assert set(Job.objects.values_list("status", flat=True)) == {Job.Status.DONE}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("vendor_name", ["zoom", "webex"])
def test_creates_go_out_over_the_multiplexer_once_the_token_is_known(
    make_member, zoom_service, webex_service, vendor, vendor_name
):
    service = zoom_service if vendor_name == "zoom" else webex_service
    users = vendor.zoom_users if vendor_name == "zoom" else vendor.webex_people
    with CountingPool() as pool:
        pipe = pipeline.Pipeline("w", pool, 20, worker.run_one)
        first = invite(make_member, service, 1)
        run(pipe)
        # The service's token (Zoom: fetched; Webex: the environment's, stored) and
        # Webex's licence are got on the main thread: even the first create is one request.
        warm_up = 0
        assert pool.submitted == warm_up
        rest = invite(make_member, service, 12)
        run(pipe)
        pipe.close()
    assert pool.submitted == warm_up  # the twelve went over the multiplexer
    assert_invited_once(first + rest, users())


@pytest.mark.django_db(transaction=True)
def test_a_token_the_vendor_no_longer_takes_is_renewed_once_and_the_creates_sent_again(
    make_member, zoom_service, vendor
):
    with CountingPool() as pool:
        pipe = pipeline.Pipeline("w", pool, 20, worker.run_one)
        first = invite(make_member, zoom_service, 1)
        run(pipe)
        # Two hours on at Zoom: the cached token has expired there, not here.
        vendor.admin("POST", "clock", json={"advance_seconds": 7200})
        rest = invite(make_member, zoom_service, 6)
        run(pipe)
        pipe.close()
    time.sleep(1)  # each sandbox process flushes its counts every 0.5 s
    requests = vendor.admin("GET", "counters")["requests"]
    # Each of the six met a 401 on the multiplexer and went out over it again, after one
    # token renewal (on the main thread); each vendor user exists once.
    assert sum(n for key, n in requests.items() if key.endswith(" 401")) >= 6
    assert requests.get("zoom POST oauth.token 200") == 2
    assert pool.submitted == 0
    assert_invited_once(first + rest, vendor.zoom_users())


@pytest.mark.django_db(transaction=True)
def test_a_create_not_sent_for_a_doubtful_lease_goes_back_to_the_queue(
    make_member, zoom_service, vendor, monkeypatch
):
    with CountingPool() as pool:
        pipe = pipeline.Pipeline("w", pool, 20, worker.run_one)
        invite(make_member, zoom_service, 1)
        run(pipe)  # the token is known: the next create goes to the multiplexer
        [account] = invite(make_member, zoom_service, 1)

        def stalled(self: pipeline.Lease, job_id: int) -> None:
            raise pipeline.LeaseDoubtful(f"job {job_id}")

        monkeypatch.setattr(pipeline.Lease, "check", stalled)
        pipe.step()
        pipe.drain()
        pipe.close()
    assert pool.submitted == 0  # the doubtful one went nowhere
    assert len(vendor.zoom_users()) == 1
    job = Job.objects.get(account=account)
    assert (job.status, job.worker) == (Job.Status.QUEUED, "")
    assert "lease doubtful" in job.last_error


@pytest.mark.django_db(transaction=True)
def test_lost_answers_on_the_multiplexer_are_looked_up_not_created_twice(
    make_member, zoom_service, vendor
):
    with CountingPool() as pool:
        pipe = pipeline.Pipeline("w", pool, 40, worker.run_one)
        first = invite(make_member, zoom_service, 1)
        run(pipe)
        # Every answer lost after the vendor acted: each create's outcome is unknown.
        vendor.faults(lost_response_rate=1.0)
        rest = invite(make_member, zoom_service, 8)
        pipe.step()
        deadline = time.monotonic() + 10
        while pipe.busy and time.monotonic() < deadline:
            pipe.step(claim=False)
        vendor.faults()
        pipe.close()
    vendors.close_all()
    worker.drain(max_seconds=30)  # the retries look each user up first
    assert_invited_once(first + rest, vendor.zoom_users())


@pytest.mark.django_db(transaction=True)
def test_only_the_settle_commits_without_waiting_for_the_disk(make_member, zoom_service, vendor):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def setting() -> object:
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            return cursor.fetchone()

    invite(make_member, zoom_service, 5)
    before = setting() if connection.vendor == "postgresql" else None
    with CaptureQueriesContext(connection) as queries:
        assert worker.drain(max_seconds=30) == 5
    relaxed = [q["sql"] for q in queries if "synchronous_commit" in q["sql"]]
    if connection.vendor != "postgresql":
        assert relaxed == []  # SQLite's WAL with synchronous=NORMAL already commits so
        return
    assert relaxed and set(relaxed) == {"SET LOCAL synchronous_commit TO OFF"}
    # Local to each settle's transaction: the connection's own setting is untouched.
    assert before != ("off",) and setting() == before
