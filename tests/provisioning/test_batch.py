"""Batches: claimed together, creates side by side, settled in one transaction, and the
daily create cap counted ahead of the vendor."""

import datetime
import itertools

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from campusconf.accounts.models import AccountEvent
from campusconf.accounts.states import State
from campusconf.provisioning import worker
from campusconf.provisioning.models import Job, Lane, RateBucket
from campusconf.provisioning.queueing import job_queue, rate_limits
from campusconf.provisioning.verbs import actions


@pytest.fixture
def offline(make_service):
    return make_service(slug="zoom", vendor="zoom", connector_settings={"plan": "pro"})


@pytest.mark.django_db
def test_a_batch_claim_takes_the_most_urgent_jobs_once_each(make_member, offline):
    accounts = [actions.apply_for_service(make_member(), offline) for _ in range(5)]
    Job.objects.filter(account=accounts[4]).update(lane=Lane.BULK)
    first = job_queue.claim_batch("w1", 3)
    second = job_queue.claim_batch("w2", 3)
    assert [j.account_id for j in first] == [a.pk for a in accounts[:3]]
    assert [j.account_id for j in second] == [accounts[3].pk, accounts[4].pk]
    assert job_queue.claim_batch("w3", 3) == []
    for job in first:
        job.refresh_from_db()
        assert (job.status, job.worker, job.attempts) == (Job.Status.RUNNING, "w1", 1)
    assert job_queue.renew_many([j.pk for j in first + second], "w1") == {j.pk for j in first}


@pytest.mark.django_db
def test_reserving_many_slots_gives_what_single_reservations_give(make_service):
    one = make_service(slug="a", vendor="zoom", connector_settings={"plan": "business"})
    many = make_service(slug="b", vendor="zoom", connector_settings={"plan": "business"})
    t = 2_000_000.0
    singles = [rate_limits.reserve(one, "light", now=t) for _ in range(50)]
    batched = rate_limits.reserve_many(many, "light", 50, now=t)
    assert batched == pytest.approx(singles)
    assert all(b >= a for a, b in itertools.pairwise(batched))


@pytest.mark.django_db
def test_the_daily_create_cap_is_counted_ahead_and_pauses_before_the_vendor_does(
    make_service,
):
    service = make_service(
        slug="zoom", vendor="zoom", connector_settings={"plan": "pro", "daily_create_cap": 5}
    )
    noon = datetime.datetime(2026, 11, 22, 12, tzinfo=datetime.UTC).timestamp()
    assert len(rate_limits.reserve_many(service, "light", 3, now=noon, creates=3)) == 3
    # Only two creates are left today: the list is cut, and the service pauses.
    assert len(rate_limits.reserve_many(service, "light", 3, now=noon + 1, creates=3)) == 2
    bucket = RateBucket.objects.get(service=service, category="light")
    assert bucket.paused_until == datetime.datetime(2026, 11, 23, tzinfo=datetime.UTC)
    assert "daily create cap of 5" in bucket.pause_reason
    with pytest.raises(rate_limits.ServicePaused):
        rate_limits.reserve(service, "light", now=noon + 2, create=True)
    # After the reset the count starts again.
    tomorrow = datetime.datetime(2026, 11, 23, 0, 0, 5, tzinfo=datetime.UTC).timestamp()
    assert len(rate_limits.reserve_many(service, "light", 4, now=tomorrow, creates=4)) == 4
    bucket.refresh_from_db()
    assert (bucket.day, bucket.day_count) == (datetime.date(2026, 11, 23), 4)


@pytest.mark.django_db(transaction=True)
def test_a_batch_of_creates_runs_side_by_side_and_settles_in_few_statements(
    make_member, zoom_service, vendor, settings
):
    # A settle takes the answers that came back together, so how many settles a batch
    # needs depends on how the answers spread; the budget is per settle and per claim.
    settings.CAMPUSCONF_ENGINE = {**settings.CAMPUSCONF_ENGINE, "BATCH_SIZE": 20, "CONCURRENCY": 8}
    members = [make_member() for _ in range(20)]
    accounts = [actions.apply_for_service(m, zoom_service) for m in members]
    with CaptureQueriesContext(connection) as queries:
        assert worker.drain(max_seconds=60) == 20
    assert not Job.objects.exclude(status=Job.Status.DONE).exists()
    for account in accounts:
        account.refresh_from_db()
        assert account.state == State.INVITED
        assert account.vendor_user_id and account.vendor_address
        [event] = AccountEvent.objects.filter(account=account, to_state=State.INVITED)
        assert event.from_state == State.REQUESTED
    emails = sorted(u["email"] for u in vendor.zoom_users())
    assert emails == sorted(m.mail_address.lower() for m in members)
    # Every statement, the mail notices' included, is per settle or per claim, none per
    # job: before batches a job took about 15 of the engine's and 3 of the notice
    # receiver's. A settle is at most 8 (the jobs, the accounts locked, their move,
    # the events, the notices, the watch rows of the accounts now waiting on their
    # member, the notices' schedule brought forward after the commit, and on PostgreSQL
    # its commit setting); a claim and its load 4; the drain looks for the next due job once after each empty step. Their
    # transactions' BEGIN and COMMIT are not counted.
    sql = [
        q["sql"].strip() for q in queries if q["sql"] not in ("BEGIN", "BEGIN IMMEDIATE", "COMMIT")
    ]
    # Fetching the service's vendor token is once per worker and token lifetime, not per
    # job (a fresh worker fetches it here: read, lease, store); it is counted apart.
    token = [q for q in sql if "provisioning_vendortoken" in q]
    assert len(token) <= 8, "\n".join(token)
    sql = [q for q in sql if "provisioning_vendortoken" not in q]
    claims = [q for q in sql if q.startswith("UPDATE") and "RETURNING" in q and "attempts" in q]
    settles = [q for q in sql if q.startswith("INSERT INTO") and "accountevent" in q]
    probes = [q for q in sql if "ORDER BY" in q and "LIMIT 1" in q]
    assert len(sql) <= 8 * len(settles) + 4 * len(claims) + len(probes), "\n".join(sql)
    assert len(settles) < 20  # answers that came back together were settled together
    # The notices of a settle are one INSERT, with no savepoint.
    assert not [q for q in sql if "SAVEPOINT" in q]
    notices = [q for q in sql if q.startswith("INSERT INTO") and "portal_" in q]
    assert len(notices) == len(settles)


@pytest.mark.django_db(transaction=True)
def test_a_create_whose_lease_was_lost_is_not_sent(make_member, zoom_service, vendor):
    from campusconf.provisioning.fast_batch import pipeline

    account = actions.apply_for_service(make_member(), zoom_service)
    [job] = job_queue.claim_batch("w", 5)
    lease = pipeline.Lease("w", {job.pk})
    lease.renewed -= 3600  # the worker stalled past its lease
    conn = worker.vendors.connector_for(zoom_service)
    spec = worker.account_job.spec_of(account)
    with pytest.raises(pipeline.LeaseDoubtful):
        pipeline._call(conn, spec, None, lease, job.pk)
    assert vendor.zoom_users() == []


def claim_creates(accounts, worker="w"):
    """Claim the accounts' jobs and load them as the pipeline does."""
    from campusconf.provisioning.fast_batch import create_rows

    claimed = job_queue.claim_batch(worker, len(accounts) + 5)
    loaded = create_rows.load_creates(claimed)
    assert len(loaded) == len(accounts)
    return list(loaded.values())


def answers(loaded):
    from campusconf.connectors import outcomes as o
    from campusconf.connectors.base import UserState, VendorUser

    return [
        (c, o.Created(user=VendorUser(f"v{c.account_id}", c.spec.email, state=UserState.PENDING)))
        for c in loaded
    ]


@pytest.mark.django_db
def test_a_batch_settle_queues_a_notice_for_every_transition_in_one_insert(make_member, offline):
    from campusconf.portal.models import Notice
    from campusconf.provisioning.fast_batch import create_rows

    accounts = [actions.apply_for_service(make_member(), offline) for _ in range(6)]
    loaded = claim_creates(accounts)
    with CaptureQueriesContext(connection) as queries:
        create_rows.settle_created(answers(loaded), "w")
    for account in accounts:
        [event] = AccountEvent.objects.filter(account=account, to_state=State.INVITED)
        notice = Notice.objects.get(account=account, kind="invitation_sent")
        assert notice.key == str(event.pk) and notice.status == Notice.Status.PENDING
        account.refresh_from_db()
        assert account.state == State.INVITED and account.vendor_user_id == f"v{account.pk}"
    assert not Job.objects.exclude(status=Job.Status.DONE).exists()
    notice_writes = [
        q for q in queries if q["sql"].startswith("INSERT INTO") and "portal_" in q["sql"]
    ]
    assert len(notice_writes) == 1
    # No savepoint per notice: only the settle's own block, nested in the test's transaction.
    savepoints = [q for q in queries if q["sql"].startswith("SAVEPOINT")]
    assert len(savepoints) == 1


@pytest.mark.django_db
def test_a_batch_settle_that_rolls_back_leaves_no_notice_event_or_move(make_member, offline):
    from campusconf.portal.models import Notice
    from campusconf.provisioning.fast_batch import create_rows

    accounts = [actions.apply_for_service(make_member(), offline) for _ in range(4)]
    loaded = claim_creates(accounts)
    before = set(Notice.objects.values_list("pk", flat=True))
    with pytest.raises(RuntimeError), transaction.atomic():
        create_rows.settle_created(answers(loaded), "w")
        raise RuntimeError("the batch's transaction fails after the settle")
    assert set(Notice.objects.values_list("pk", flat=True)) == before
    assert not AccountEvent.objects.filter(to_state=State.INVITED).exists()
    assert set(Job.objects.values_list("status", flat=True)) == {Job.Status.RUNNING}
    for account in accounts:
        account.refresh_from_db()
        assert account.state == State.REQUESTED and not account.vendor_user_id


@pytest.mark.django_db
def test_a_receiver_that_fails_undoes_the_whole_batch_settle(make_member, offline):
    from campusconf.accounts.lifecycle import accounts_transitioned
    from campusconf.portal.models import Notice
    from campusconf.provisioning.fast_batch import create_rows

    accounts = [actions.apply_for_service(make_member(), offline) for _ in range(3)]
    loaded = claim_creates(accounts)

    def refuse(sender, events, **kwargs):
        raise RuntimeError("a receiver refused")

    accounts_transitioned.connect(refuse, dispatch_uid="test-refuse")
    try:
        with pytest.raises(RuntimeError):
            create_rows.settle_created(answers(loaded), "w")
    finally:
        accounts_transitioned.disconnect(dispatch_uid="test-refuse")
    assert not Notice.objects.filter(kind="invitation_sent").exists()
    assert not AccountEvent.objects.filter(to_state=State.INVITED).exists()
    for account in accounts:
        account.refresh_from_db()
        assert account.state == State.REQUESTED and not account.vendor_user_id
