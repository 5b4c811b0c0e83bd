"""Running a claimed batch of jobs: the creates side by side, settled together.

A worker claims several jobs in one transaction (``queue.claim_batch``). Most of a
campaign's jobs are a single create (``jobs.creates``): those run concurrently on a
small thread pool, with their rate-limit slots reserved in one bucket update, and the
answers are settled in one transaction — the vendor ids, the transitions and their
events, and the jobs. Every other job runs as before, one after another
(``runner.run_one``). Threads touch no database: they only sleep until their slot,
check the batch's lease and call the vendor.

Exactly once still holds: a settle that fails leaves the jobs running; their lease
expires and the next attempt (``attempts > 1``) looks the user up before creating.
The leases of the whole batch are renewed together while the calls are out, and a
call whose lease may have lapsed is not sent.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, connections, transaction
from django.utils import timezone

from campusconf.accounts import lifecycle
from campusconf.accounts.models import Account, AccountEvent
from campusconf.accounts.states import Cause, State, allowed_causes
from campusconf.connectors import outcomes as o
from campusconf.connectors.base import Connector, UserSpec
from campusconf.provisioning import jobs, queue, ratelimit, vendors
from campusconf.provisioning.conf import engine
from campusconf.provisioning.models import Job
from campusconf.provisioning.ratelimit import ServicePaused

log = logging.getLogger("campusconf.provisioning")

GATHER_SECONDS = 0.005


class LeaseDoubtful(Exception):
    """The batch's lease was not renewed in time: do not call the vendor."""


@dataclass
class Lease:
    """The leases of one batch, renewed together from the worker's main thread."""

    worker: str
    held: set[int]
    renewed: float = field(default_factory=time.monotonic)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def renew(self) -> None:
        with self.lock:
            asked = set(self.held)
        held = queue.renew_many(sorted(asked), self.worker)
        with self.lock:
            lost = asked - held
            self.held -= lost
            self.renewed = time.monotonic()
        if lost:
            log.warning("jobs %s: lease lost; another worker has them", sorted(lost))

    def drop(self, job_id: int) -> None:
        with self.lock:
            self.held.discard(job_id)

    def due(self) -> bool:
        return time.monotonic() - self.renewed > engine("LEASE_SECONDS") / 4

    def beat_for(self, job_id: int) -> Callable[[], None]:
        """The heartbeat of a job run in the main thread: renew when due, stop if lost."""

        def beat() -> None:
            if self.due():
                self.renew()
            if job_id not in self.held:
                raise LeaseDoubtful(f"job {job_id}")

        return beat

    def check(self, job_id: int) -> None:
        """Called in a thread right before its call: the lease must be fresh and ours."""
        with self.lock:
            fresh = time.monotonic() - self.renewed < engine("LEASE_SECONDS") / 2
            if not fresh or job_id not in self.held:
                raise LeaseDoubtful(f"job {job_id}")


def load_accounts(job_list: list[Job]) -> dict[int, Account]:
    ids = [j.account_id for j in job_list if j.account_id is not None]
    if not ids:
        return {}
    accounts = (
        Account.objects.select_related("member", "service")
        .prefetch_related("member__addresses")
        .filter(pk__in=ids)
    )
    return {a.pk: a for a in accounts}


class Pipeline:
    """A worker's jobs in flight: claimed in batches, creates on the pool, settled as
    they come back.

    The worker claims more when half of ``capacity`` is free, so the pool never runs
    dry while the main thread settles, and one slow call (a time-out) holds up only
    itself. All leases in flight are renewed together.
    """

    def __init__(
        self,
        worker: str,
        pool: ThreadPoolExecutor,
        capacity: int,
        run_one: Callable[[Job, str, Lease], None],
    ) -> None:
        self.worker, self.pool, self.capacity, self.run_one = worker, pool, capacity, run_one
        self.lease = Lease(worker, set())
        self.inflight: dict[Future[o.Outcome], tuple[Job, Account]] = {}
        self.done = 0

    def step(self, claim: bool = True) -> bool:
        """Claim (when there is room), start, settle what came back; False when idle."""
        claimed: list[Job] = []
        if claim and len(self.inflight) <= self.capacity // 2:
            claimed = queue.claim_batch(self.worker, self.capacity - len(self.inflight))
            if claimed:
                self._start(claimed)
        if not self.inflight:
            return bool(claimed)
        timeout = 0.0 if claimed else engine("LEASE_SECONDS") / 8
        finished, rest = wait(list(self.inflight), timeout=timeout, return_when=FIRST_COMPLETED)
        if finished and rest:
            # Answers come in bursts: a few milliseconds more settles them together.
            finished |= wait(rest, timeout=GATHER_SECONDS)[0]
        if finished:
            self._settle([(f, *self.inflight.pop(f)) for f in finished])
        if self.lease.due():
            self.lease.renew()
        return True

    def drain(self) -> None:
        """Stop claiming; settle everything in flight (SIGTERM, end of a run)."""
        while self.inflight:
            self.step(claim=False)

    def _start(self, claimed: list[Job]) -> None:
        with self.lease.lock:
            self.lease.held |= {j.pk for j in claimed}
        accounts = load_accounts(claimed)
        fast = [
            j
            for j in claimed
            if j.kind != Job.Kind.RECONCILE
            and j.account_id in accounts
            and jobs.creates(accounts[j.account_id], j)
        ]
        if fast:
            # After an idle spell the lease is stale, and each pool thread checks it is
            # fresh before its call: renew first, or the first creates would not be sent.
            if self.lease.due():
                self.lease.renew()
            try:
                self._submit(fast, accounts)
            except Exception as exc:
                log.exception("starting %d creates failed", len(fast))
                for job in fast:
                    self._finish(job, jobs.Retry(f"{type(exc).__name__}: {exc}"))
        for job in claimed:
            if job in fast:
                continue
            if self.lease.due():
                self.lease.renew()
            if job.pk in self.lease.held:
                self.run_one(job, self.worker, self.lease)
                self.done += 1
            self.lease.drop(job.pk)

    def _submit(self, fast: list[Job], accounts: dict[int, Account]) -> None:
        by_job = {j.pk: accounts[j.account_id] for j in fast if j.account_id}
        slots = _slots(fast, by_job)
        for job in fast:
            account = by_job[job.pk]
            slot = slots.get(job.pk)
            if isinstance(slot, jobs.Retry):
                self._finish(job, slot)  # the service is paused (daily create cap)
                continue
            conn = vendors.connector_for(account.service)  # cached; built in this thread
            future = self.pool.submit(_call, conn, jobs.spec_of(account), slot, self.lease, job.pk)
            self.inflight[future] = (job, account)

    def _settle(self, finished: list[tuple[Future[o.Outcome], Job, Account]]) -> None:
        created: list[tuple[Job, Account, o.Created]] = []
        rest: list[tuple[Job, Account, o.Outcome | BaseException]] = []
        for future, job, account in finished:
            error = future.exception()
            if isinstance(error, LeaseDoubtful):
                # Not sent. Hand it back now (if still ours) rather than leave it running
                # until its lease expires; the attempt counts, so the next one looks the
                # user up before creating.
                log.warning("job=%s account=%s create not sent: %s", job.pk, account.pk, error)
                self._finish(job, jobs.Retry(f"create not sent, lease doubtful: {error}"))
                continue
            out: o.Outcome | BaseException = error if error is not None else future.result()
            if not isinstance(out, BaseException):
                jobs.count_call(account.service_id, out)
            if isinstance(out, o.Created) and out.user.vendor_id:
                created.append((job, account, out))
            else:
                rest.append((job, account, out))
        if created:
            try:
                settle_created(created, self.worker)
                self.done += len(created)
                for job, _, _ in created:
                    self.lease.drop(job.pk)
            except Exception:
                # One row refused (a receiver, a constraint): settle them one by one.
                log.exception("batch settle failed; settling its %d jobs one by one", len(created))
                rest.extend(created)
        for job, account, out in rest:
            vendors.set_heartbeat(self.lease.beat_for(job.pk))
            try:
                step = _after(job, account, out, self.lease)
            finally:
                vendors.set_heartbeat(None)
            self._finish(job, step)

    def _finish(self, job: Job, step: jobs.Step) -> None:
        from campusconf.provisioning.runner import settle

        settle(job, self.worker, step)
        self.done += 1
        self.lease.drop(job.pk)


def _slots(
    fast: list[Job], by_job: dict[int, Account]
) -> dict[int, tuple[str, float] | jobs.Retry]:
    """Each job's reserved rate-limit slot (category, monotonic deadline), one bucket
    update per service; or, past the daily create cap, a retry after the reset."""
    if not engine("RATE_LIMITS"):
        return {}
    slots: dict[int, tuple[str, float] | jobs.Retry] = {}
    groups: dict[int, list[Job]] = {}
    for job in fast:
        groups.setdefault(by_job[job.pk].service_id, []).append(job)
    for group in groups.values():
        service = by_job[group[0].pk].service
        cat = ratelimit.category(service.vendor, "create")
        if cat is None:
            continue
        try:
            waits = ratelimit.reserve_many(service, cat, len(group), creates=len(group))
        except ServicePaused as paused:
            waits, cut = [], _paused(paused)
        else:
            wall = timezone.now()
            reset = ServicePaused(ratelimit.next_reset(wall), "daily create cap reached")
            cut = _paused(reset)
        start = time.monotonic()
        for job, seconds in zip(group, waits, strict=False):
            slots[job.pk] = (cat, start + seconds)
        for job in group[len(waits) :]:
            slots[job.pk] = cut  # back to the queue, claimed after the reset
    return slots


def _paused(paused: ServicePaused) -> jobs.Retry:
    seconds = (paused.until - timezone.now()).total_seconds()
    return jobs.Retry(str(paused), max(1.0, seconds), count=False)


def _call(
    conn: Connector, spec: UserSpec, slot: tuple[str, float] | None, lease: Lease, job_id: int
) -> o.Outcome:
    """In a pool thread: wait for the slot, check the lease, create. No database."""
    vendors.set_slot(*(slot if slot else (None, 0.0)))
    vendors.set_heartbeat(lambda: lease.check(job_id))
    try:
        return conn.create_user(spec)
    finally:
        vendors.set_heartbeat(None)
        vendors.set_slot(None, 0.0)
        # Only a fallback pacer (no slot left, e.g. a retried 401) opens a connection here.
        connections.close_all()


def _after(job: Job, account: Account, out: o.Outcome | BaseException, lease: Lease) -> jobs.Step:
    """A create that did not simply succeed: the usual handling, in the main thread."""
    if isinstance(out, BaseException):
        log.error("job=%s account=%s crashed: %r", job.pk, account.pk, out)
        return jobs.Retry(f"{type(out).__name__}: {out}")
    if lease.due():
        lease.renew()
    if job.pk not in lease.held:
        return jobs.Done("lease lost")
    try:
        conn = vendors.connector_for(account.service)
        return jobs.after_create(conn, account, job, out)
    except lifecycle.IllegalTransition as exc:
        return jobs.Done(f"superseded: {exc}")
    except LeaseDoubtful:
        return jobs.Done("lease lost")
    except Exception as exc:
        log.exception("job=%s account=%s crashed", job.pk, account.pk)
        return jobs.Retry(f"{type(exc).__name__}: {exc}")


def settle_created(created: list[tuple[Job, Account, o.Created]], worker: str) -> None:
    """Record every vendor id, move each account on and finish each job: one transaction.

    The same checks as ``lifecycle.transition``, made on rows locked and re-read here;
    an account someone moved meanwhile keeps its state (their change queued its own
    work) but still gets the vendor id, and its job ends.
    """
    now = timezone.now()
    signal = getattr(lifecycle, "account_transitioned", None)
    with transaction.atomic():
        held = dict(
            Job.objects.select_for_update()
            .filter(pk__in=[j.pk for j, _, _ in created], worker=worker, status=Job.Status.RUNNING)
            .values_list("pk", "again")
        )
        locked = {
            a.pk: a
            for a in Account.objects.select_for_update().filter(
                pk__in=[a.pk for _, a, _ in created]
            )
        }
        ids: list[tuple[str, str, int]] = []
        events: list[AccountEvent] = []
        # Accounts moved alike share one UPDATE (normally the whole batch: invited).
        moves: dict[tuple[State, tuple[tuple[str, Any], ...]], list[int]] = {}
        for job, account, out in created:
            row = locked.get(account.pk)
            if row is None:
                continue
            ids.append((out.user.vendor_id or "", out.user.email, row.pk))
            row.service = account.service  # loaded with the batch: no query per row
            row.vendor_user_id, row.vendor_address = out.user.vendor_id or "", out.user.email
            target, changes = jobs.arrival(row, out.user, now)
            if job.pk not in held or Cause.ENGINE not in allowed_causes(State(row.state), target):
                continue
            events.append(
                AccountEvent(
                    account=row,
                    from_state=row.state,
                    to_state=target,
                    cause=Cause.ENGINE,
                    reason=jobs.CREATED_REASON,
                )
            )
            row.state = target
            for name, value in changes.items():
                setattr(row, name, value)
            moves.setdefault((target, tuple(sorted(changes.items()))), []).append(row.pk)
        _record_vendor_ids(ids, now)
        for (state, same), pks in moves.items():
            Account.objects.filter(pk__in=pks).update(state=state, updated_at=now, **dict(same))
        if events:
            AccountEvent.objects.bulk_create(events)
            if signal is not None:
                for event in events:
                    signal.send(sender=Account, account=event.account, event=event)
        plain = [pk for pk, again in held.items() if not again]
        Job.objects.filter(pk__in=plain).update(
            status=Job.Status.DONE, finished_at=now, lease_until=None, worker=""
        )
    for job, account, out in created:
        log.info(
            "created vendor user account=%s job=%s vendor_id=%s tracking=%s",
            account.pk,
            job.pk,
            out.user.vendor_id,
            out.tracking_id,
        )
        if held.get(job.pk):
            queue.finish(job, worker)  # asked for again meanwhile: queued once more


def _record_vendor_ids(rows: list[tuple[str, str, int]], now: Any) -> None:
    """(vendor id, vendor address, account id) for every row, in one round trip.

    The ORM's ``bulk_update`` builds a CASE per field and row, which cost more CPU
    than everything else in a batch; one parametrised statement run for each row does
    the same writes.
    """
    if not rows:
        return
    table = connection.ops.quote_name(Account._meta.db_table)
    stamp = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET vendor_user_id = %s, vendor_address = %s, updated_at = %s "  # noqa: S608 - the model's own table name
            "WHERE id = %s",
            [(vendor_id, address, stamp, pk) for vendor_id, address, pk in rows],
        )
