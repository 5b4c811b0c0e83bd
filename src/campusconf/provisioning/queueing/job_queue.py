"""The durable job queue: enqueue inside the caller's transaction, claim, finish, retry.

Claiming is one UPDATE that returns the rows it leased. PostgreSQL skips rows another
worker has locked (``FOR UPDATE SKIP LOCKED``); SQLite runs IMMEDIATE transactions, so
claimers queue for the write lock and are serial anyway.
"""

from __future__ import annotations

import datetime
import functools
import logging
import random

from django.db import IntegrityError, connection, transaction
from django.db.models import F

from campusconf.accounts.models import Account
from campusconf.core import clock, sql
from campusconf.provisioning.conf import engine_setting
from campusconf.provisioning.models import Campaign, Job, Lane, RateBucket, ServiceProblem

log = logging.getLogger("campusconf.provisioning")

LIVE = [Job.Status.QUEUED, Job.Status.RUNNING]
# When requests join one live job, the stronger kind wins.
RANK = {Job.Kind.OBSERVE: 0, Job.Kind.SYNC: 1, Job.Kind.REINVITE: 2, Job.Kind.RECONCILE: 0}


def _stronger(a: str, b: str) -> str:
    return a if RANK.get(Job.Kind(a), 0) >= RANK.get(Job.Kind(b), 0) else b


def enqueue(
    account: Account,
    kind: str = Job.Kind.SYNC,
    *,
    lane: int = Lane.ENGINE,
    campaign: Campaign | None = None,
    delay: float = 0.0,
) -> Job:
    """Queue work for ``account``; call it inside the transaction that changes the account.

    At most one live job per account (a partial unique index): a second request joins
    the live job — a queued one takes the more urgent lane and runs now; a running one
    is marked to run ``again`` when it ends, so the newest intent is never lost.
    """
    when = clock.now() + datetime.timedelta(seconds=delay)
    with transaction.atomic():
        live = Job.objects.select_for_update().filter(account=account, status__in=LIVE).first()
        if live is None:
            try:
                with transaction.atomic():
                    return Job.objects.create(
                        kind=kind,
                        account=account,
                        service_id=account.service_id,
                        campaign=campaign,
                        lane=lane,
                        run_after=when,
                    )
            except IntegrityError:
                # Another transaction queued one meanwhile (PostgreSQL): join it.
                live = Job.objects.select_for_update().get(account=account, status__in=LIVE)
        if live.status == Job.Status.QUEUED:
            live.kind = _stronger(live.kind, kind)
            live.lane = min(live.lane, lane)
            live.run_after = min(live.run_after, when)
            live.save(update_fields=["kind", "lane", "run_after"])
        else:
            live.again = True
            live.next_kind = _stronger(live.next_kind or Job.Kind.OBSERVE, kind)
            live.save(update_fields=["again", "next_kind"])
        return live


def enqueue_service(service_id: int, kind: str = Job.Kind.RECONCILE) -> Job:
    return Job.objects.create(
        kind=kind, service_id=service_id, lane=Lane.STAFF, run_after=clock.now()
    )


def claim(worker: str) -> Job | None:
    """The most urgent runnable job, now leased to ``worker``; None when there is none."""
    batch = claim_batch(worker, 1)
    return batch[0] if batch else None


def claim_batch(worker: str, limit: int) -> list[Job]:
    """Up to ``limit`` runnable jobs, most urgent first, leased to ``worker`` together.

    One statement for the whole batch (``_CLAIM``): an UPDATE of the chosen rows that
    returns them; PostgreSQL skips the rows other claimers hold. The jobs are of
    distinct accounts (one live job per account), so running them side by side never
    puts two hands on an account.
    """
    now = clock.now()
    lease = now + datetime.timedelta(seconds=engine_setting("LEASE_SECONDS"))
    params = [str(Job.Status.RUNNING), worker, sql.stamp(lease)]
    params += [str(Job.Status.QUEUED), sql.stamp(now), str(Campaign.Status.PAUSED)]
    params += [sql.stamp(now), limit]
    read = sql.reader(Job, _CLAIMED_FIELDS)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_claim_statement(connection.vendor), params)
        rows = cursor.fetchall()
    # Instances, as the runner expects, built from the values the UPDATE wrote.
    alias = connection.alias
    jobs = [Job.from_db(alias, _CLAIMED_FIELDS, read(row)) for row in rows]
    jobs.sort(key=lambda j: (j.lane, j.run_after, j.pk))  # RETURNING keeps no order
    return jobs


_JOB_FIELDS = tuple(f.attname for f in Job._meta.concrete_fields)
# What running a job reads of it. The rest (the last error, when it was queued and
# finished) stays deferred, loaded if ever read: each datetime the claim returns is
# parsed in Python, for every job of every batch.
_CLAIMED_FIELDS = tuple(
    name for name in _JOB_FIELDS if name not in ("last_error", "created_at", "finished_at")
)

# Runnable: queued and due, not of a paused campaign, not of a service whose vendor
# refuses its credential (an open ServiceProblem: service_access.py), and, for account
# work, not of a service paused until its reset (Zoom's daily create cap; a reconcile
# still runs).
# The paused campaigns and services are uncorrelated subqueries, each read once: with
# the correlated NOT EXISTS they were, PostgreSQL's planner guessed that almost no row
# passes and sorted every queued job (31 ms a claim at 20,000 queued; a 30,000-student
# campaign's every claim read them all). Now it walks ``job_claimable`` in order and
# stops after the batch (0.2 ms). On PostgreSQL the chosen ids are an array
# (``= ANY(ARRAY(…))``), found again by the primary key: as ``IN (…)`` the planner
# joined them to a scan of the whole table below some 10,000 jobs.
_CLAIM = """
UPDATE {job} SET {status} = %s, {worker} = %s, {lease_until} = %s, {attempts} = {attempts} + 1
WHERE {id} {chosen_among} (
    SELECT q.{id} FROM {job} q
    WHERE q.{status} = %s AND q.{run_after} <= %s
      AND (q.{campaign_of_job} IS NULL OR q.{campaign_of_job} NOT IN (
        SELECT c.{campaign_id} FROM {campaign} c WHERE c.{campaign_status} = %s))
      AND (q.{account} IS NULL OR q.{service} NOT IN (
        SELECT b.{bucket_service} FROM {bucket} b WHERE b.{paused_until} > %s))
      AND q.{service} NOT IN (
        SELECT p.{problem_service} FROM {problem} p WHERE p.{resolved_at} IS NULL)
    ORDER BY q.{lane}, q.{run_after}, q.{id}
    LIMIT %s{skip_locked}){chosen_end}
RETURNING {returning}
"""


@functools.cache
def _claim_statement(vendor: str) -> str:
    """``_CLAIM`` with the models' table and column names, once per database."""
    job = {name: sql.column(Job, name) for name in _JOB_FIELDS}
    skip = connection.features.has_select_for_update_skip_locked
    return _CLAIM.format(
        job=sql.table(Job),
        id=job["id"],
        status=job["status"],
        worker=job["worker"],
        lease_until=job["lease_until"],
        attempts=job["attempts"],
        run_after=job["run_after"],
        lane=job["lane"],
        account=job["account_id"],
        service=job["service_id"],
        campaign_of_job=job["campaign_id"],
        campaign=sql.table(Campaign),
        campaign_id=sql.column(Campaign, "id"),
        campaign_status=sql.column(Campaign, "status"),
        bucket=sql.table(RateBucket),
        bucket_service=sql.column(RateBucket, "service"),
        paused_until=sql.column(RateBucket, "paused_until"),
        problem=sql.table(ServiceProblem),
        problem_service=sql.column(ServiceProblem, "service"),
        resolved_at=sql.column(ServiceProblem, "resolved_at"),
        skip_locked=" FOR UPDATE SKIP LOCKED" if skip else "",
        chosen_among="= ANY(ARRAY" if vendor == "postgresql" else "IN",
        chosen_end=")" if vendor == "postgresql" else "",
        returning=", ".join(job[name] for name in _CLAIMED_FIELDS),
    )


def recover_expired(now: datetime.datetime | None = None) -> int:
    """Give the jobs of dead workers (lease passed) back to the queue."""
    now = now or clock.now()
    count = Job.objects.filter(status=Job.Status.RUNNING, lease_until__lt=now).update(
        status=Job.Status.QUEUED, lease_until=None, worker="", run_after=now
    )
    if count:
        log.warning("recovered %d jobs whose worker stopped renewing its lease", count)
    return count


def renew(job: Job, worker: str) -> bool:
    """Extend the lease; False means it was lost (the job was given to another worker)."""
    return job.pk in renew_many([job.pk], worker)


def renew_many(ids: list[int], worker: str) -> set[int]:
    """Extend the leases of ``ids`` in one UPDATE; the ids this worker still holds."""
    if not ids:
        return set()
    until = clock.now() + datetime.timedelta(seconds=engine_setting("LEASE_SECONDS"))
    j = functools.partial(sql.column, Job)
    held: set[int] = set()
    with connection.cursor() as cursor:
        for start in range(0, len(ids), 500):  # SQLite's limit on parameters
            chunk, params = sql.in_list(j("id"), ids[start : start + 500])
            cursor.execute(
                f"UPDATE {sql.table(Job)} SET {j('lease_until')} = %s "  # noqa: S608 - the model's own table and columns
                f"WHERE {chunk} AND {j('worker')} = %s AND {j('status')} = %s RETURNING {j('id')}",
                [sql.stamp(until), *params, worker, str(Job.Status.RUNNING)],
            )
            held.update(pk for (pk,) in cursor.fetchall())
    return held


def _held(job: Job, worker: str) -> Job | None:
    return (
        Job.objects.select_for_update()
        .filter(pk=job.pk, worker=worker, status=Job.Status.RUNNING)
        .first()
    )


def finish(job: Job, worker: str) -> None:
    with transaction.atomic():
        held = _held(job, worker)
        if held is None:
            return
        held.lease_until, held.worker = None, ""
        if held.again:
            held.status, held.again, held.attempts = Job.Status.QUEUED, False, 0
            held.kind = held.next_kind or Job.Kind.SYNC
            held.next_kind, held.run_after = "", clock.now()
        else:
            held.status, held.finished_at = Job.Status.DONE, clock.now()
        held.save()


def retry(job: Job, worker: str, error: str, *, delay: float, count_attempt: bool = True) -> None:
    with transaction.atomic():
        held = _held(job, worker)
        if held is None:
            return
        held.status, held.lease_until, held.worker = Job.Status.QUEUED, None, ""
        held.run_after = clock.now() + datetime.timedelta(seconds=delay)
        held.last_error = error[:2000]
        if not count_attempt:
            held.attempts = max(0, held.attempts - 1)
        held.save()


def give_up(job: Job, worker: str, error: str) -> None:
    with transaction.atomic():
        held = _held(job, worker)
        if held is None:
            return
        held.status, held.lease_until, held.worker = Job.Status.FAILED, None, ""
        held.last_error, held.finished_at = error[:2000], clock.now()
        held.save()


def release(job: Job, worker: str) -> None:
    """Hand a job back untouched (a worker stopping on SIGTERM before it started)."""
    Job.objects.filter(pk=job.pk, worker=worker, status=Job.Status.RUNNING).update(
        status=Job.Status.QUEUED,
        lease_until=None,
        worker="",
        attempts=F("attempts") - 1,
    )


def backoff(attempts: int, retry_after: float | None = None) -> float:
    """Exponential back-off with jitter; never shorter than what the vendor asked."""
    base = float(engine_setting("BACKOFF_BASE_SECONDS"))
    ceiling = float(engine_setting("BACKOFF_MAX_SECONDS"))
    delay = min(ceiling, base * 2 ** max(0, attempts - 1)) * random.uniform(0.5, 1.0)
    if retry_after is not None:
        delay = max(delay, retry_after + random.uniform(0, 0.5))
    return float(delay)
