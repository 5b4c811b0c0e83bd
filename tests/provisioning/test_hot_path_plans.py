"""The engine's hot statements read the rows they work on, not whole tables: a
30,000-student campaign queues 30,000 jobs, and once every claim of 64 sorted all of
them on PostgreSQL, and every settle scanned every account."""

import datetime
import json

import pytest
from django.db import connection, transaction
from django.utils import timezone

from campusconf.accounts.models import Account
from campusconf.members.models import Member
from campusconf.provisioning.models import Campaign, Job, Lane
from campusconf.provisioning.queueing import job_queue

QUEUED = 3000


@pytest.fixture
def long_queue(make_service):
    service = make_service(slug="zoom", vendor="zoom", connector_settings={"plan": "business"})
    members = Member.objects.bulk_create(
        Member(
            common_id=f"{7000000000 + i:010d}",
            family_name_latin="Queue",
            given_name_latin=f"M{i}",
            roles="student",
            university_account_created_on=datetime.date(2020, 4, 1),
        )
        for i in range(QUEUED)
    )
    accounts = Account.objects.bulk_create(
        Account(member=m, service=service, state="requested") for m in members
    )
    campaign = Campaign.objects.create(service=service, cohort={"roles": ["student"]})
    start = timezone.now() - datetime.timedelta(hours=1)
    Job.objects.bulk_create(
        Job(
            kind=Job.Kind.SYNC,
            account=a,
            service=service,
            campaign=campaign,
            lane=Lane.BULK,
            run_after=start + datetime.timedelta(seconds=i / 10),
        )
        for i, a in enumerate(accounts)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return accounts


def _plan(limit: int) -> str:
    now = timezone.now()
    params = [str(Job.Status.RUNNING), "w", now, str(Job.Status.QUEUED), now]
    params += [str(Campaign.Status.PAUSED), now, limit]
    statement = job_queue._claim_statement(connection.vendor)
    if connection.vendor == "sqlite":
        params = [connection.ops.adapt_datetimefield_value(p) if p is now else p for p in params]
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN QUERY PLAN " + statement, params)
            return "\n".join(str(row[-1]) for row in cursor.fetchall())
    with transaction.atomic(), connection.cursor() as cursor:
        # ANALYZE runs the UPDATE: undone at once, so the claim below starts afresh.
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, params)
        transaction.set_rollback(True)
        return json.dumps(cursor.fetchone()[0])


def _most_rows_read(plan: dict) -> int:
    """The most rows any scan in the plan produced."""
    most, stack = 0, [plan]
    while stack:
        node = stack.pop()
        if "Scan" in node["Node Type"] and "Relation Name" in node:
            most = max(most, node["Actual Rows"])
        stack.extend(node.get("Plans", []))
    return most


@pytest.mark.django_db
def test_a_claim_reads_about_the_batch_it_takes_not_the_whole_queue(long_queue):
    plan = _plan(64)
    if connection.vendor == "sqlite":
        # The claimable index (lane, run_after, then the row id SQLite adds) gives the
        # order: no sort of the queue.
        assert "USING INDEX job_claimable" in plan
        assert "TEMP B-TREE" not in plan
    else:
        read = _most_rows_read(json.loads(plan)[0]["Plan"])
        assert 64 <= read <= 200, f"the claim read {read} of {QUEUED} queued jobs: {plan}"
    batch = job_queue.claim_batch("w", 64)
    assert [j.account_id for j in batch] == [a.pk for a in long_queue[:64]]


@pytest.mark.django_db
def test_a_paused_campaign_is_still_skipped(long_queue):
    Campaign.objects.update(status=Campaign.Status.PAUSED)
    assert job_queue.claim_batch("w", 64) == []
    Campaign.objects.update(status=Campaign.Status.RUNNING)
    assert len(job_queue.claim_batch("w", 64)) == 64


BIG = ("accounts_account", "provisioning_job", "members_member", "members_memberaddress")


@pytest.mark.django_db
def test_loading_and_settling_a_batch_reads_only_its_own_rows(long_queue):
    from django.test.utils import CaptureQueriesContext

    from campusconf.connectors import outcomes as o
    from campusconf.connectors.base import UserState, VendorUser
    from campusconf.provisioning.fast_batch import create_rows

    with CaptureQueriesContext(connection) as queries:
        loaded = create_rows.load_creates(job_queue.claim_batch("w", 128))  # the default batch
        answers = [
            (c, o.Created(user=VendorUser(f"v{c.account_id}", c.spec.email, UserState.PENDING)))
            for c in loaded.values()
        ]
        create_rows.settle_created(answers, "w")
    assert len(loaded) == 128
    statements = [
        q["sql"] for q in queries if q["sql"].lstrip().startswith(("SELECT", "UPDATE", "WITH"))
    ]
    assert len(statements) >= 6  # the claim, the load's two, the settle's three
    for statement in statements:
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                cursor.execute("EXPLAIN QUERY PLAN " + statement, [])
                scans = [r[-1] for r in cursor.fetchall() if str(r[-1]).startswith("SCAN")]
                assert not [s for s in scans if s.split()[1] in BIG], (statement, scans)
            else:
                cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + statement)
                read = _most_rows_read(cursor.fetchone()[0][0]["Plan"])
                assert read <= 200, f"{read} rows read by {statement[:300]}"
            transaction.set_rollback(True)
