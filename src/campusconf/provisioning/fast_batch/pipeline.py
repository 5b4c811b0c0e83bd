"""Running a claimed batch of jobs: the creates side by side, settled together.

A worker claims several jobs in one transaction (``job_queue.claim_batch``). Most of a
campaign's jobs are a single create (``account_job.will_create``): their rate-limit slots are
reserved in one bucket update, and each goes out at its slot from the worker's main
thread over a multiplexer (``connectors.transport.mux``: many requests in flight, no
thread per call); a connector whose create is more than one request runs it on a
small thread pool instead. The answers are settled a burst at a time in one
transaction (``create_rows.settle_created``: the vendor ids, the transitions, their
events and notices, and the jobs). Every other job runs as before, one after another
(``worker.run_one``). Pool threads touch no database: they only sleep until their
slot, check the lease and call the vendor.

Exactly once still holds: a batch settle that fails is rolled back whole and its
jobs are settled one by one; a worker that dies leaves its jobs running, their lease
expires and the next attempt (``attempts > 1``) looks the user up before creating.
The leases of all jobs in flight are renewed together (``lease.Lease``), and a call
whose lease may have lapsed is not sent.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import cast

from django.db import connections

from campusconf.accounts import lifecycle
from campusconf.connectors import outcomes as o
from campusconf.connectors.base import Connector, Exchange, SingleRequestCreate, UserSpec
from campusconf.connectors.transport.http_client import Response, TransportError
from campusconf.core import clock
from campusconf.provisioning.conf import engine_setting
from campusconf.provisioning.engine import account_job, steps, vendors
from campusconf.provisioning.fast_batch.batch_lease import Lease, LeaseDoubtful
from campusconf.provisioning.fast_batch.call_thread import Answer, Sender
from campusconf.provisioning.fast_batch.create_rows import Create, load_creates, settle_created
from campusconf.provisioning.models import Job
from campusconf.provisioning.queueing import job_queue, rate_limits
from campusconf.provisioning.queueing.rate_limits import ServicePaused

__all__ = ["Lease", "LeaseDoubtful", "Pipeline"]

log = logging.getLogger("campusconf.provisioning")

# How long a burst of answers is gathered to settle in one transaction. Each settle
# costs some six statements whatever its size; at 5 ms one of 4,000 jobs cost 0.45
# statements, at 20 ms 0.39, and a member's own application waits 20 ms longer at most.
GATHER_SECONDS = 0.02


class Pipeline:
    """A worker's jobs in flight: claimed in batches, creates sent together, settled as
    they come back.

    A create whose connector can send it as one request (``SingleRequestCreate``)
    goes to the sender thread (``sender.Sender``), which sends it at its rate-limit
    slot over the multiplexer; any other runs ``create_user`` on the pool. Both hand
    their answers back through the sender's queue, so this thread waits in one place.
    It claims more when half of ``capacity`` is out, so the connections never run dry
    while it settles, and one slow call (a time-out) holds up only itself. All leases
    in flight are renewed together.
    """

    def __init__(
        self,
        worker: str,
        pool: ThreadPoolExecutor,
        capacity: int,
        run_one: Callable[[Job, str, Lease], None],
        *,
        connections: int | None = None,
    ) -> None:
        self.worker, self.pool, self.capacity, self.run_one = worker, pool, capacity, run_one
        self.lease = Lease(worker, set())
        # Vendor calls in flight: connections per vendor origin.
        self.sender = Sender(connections or int(engine_setting("CONCURRENCY")), self.lease)
        self.out: dict[int, Create] = {}  # creates handed over, by job id, until answered
        self.exchanges: dict[int, Exchange] = {}  # those on the sender, to read their answer
        self.pooled: dict[int, Future[o.Outcome]] = {}  # those on the pool
        self.done = 0

    @property
    def busy(self) -> int:
        """Creates started and not yet settled."""
        return len(self.out)

    def step(self, claim: bool = True) -> bool:
        """Claim (when there is room), start, settle what came back; False when idle."""
        claimed: list[Job] = []
        if claim and self.busy <= self.capacity // 2:
            claimed = job_queue.claim_batch(self.worker, self.capacity - self.busy)
            if claimed:
                self._start(claimed)
        if not self.busy:
            return bool(claimed)
        ended = self._collect(0.0 if claimed else engine_setting("LEASE_SECONDS") / 8)
        if ended:
            self._settle(ended)
        if self.lease.due():
            self.lease.renew()
        return True

    def drain(self) -> None:
        """Stop claiming; settle everything in flight (SIGTERM, end of a run)."""
        while self.busy:
            self.step(claim=False)

    def close(self) -> None:
        self.sender.close()

    def _start(self, claimed: list[Job]) -> None:
        with self.lease.lock:
            self.lease.held |= {j.id for j in claimed}
        fast = load_creates(claimed)
        if fast:
            # After an idle spell the lease is stale, and each create checks it is
            # fresh before it goes out: renew first, or the first would not be sent.
            if self.lease.due():
                self.lease.renew()
            try:
                self._submit(list(fast.values()))
            except Exception as exc:
                if not isinstance(exc, vendors.ServiceConfigError):  # that one says it all
                    log.exception("starting %d creates failed", len(fast))
                for create in fast.values():
                    if create.job.id not in self.out:
                        self._finish(create.job, steps.crash_step(create.service.id, exc, "create"))
        for job in claimed:
            if job.id in fast:
                continue
            if self.lease.due():
                self.lease.renew()
            if job.pk in self.lease.held:
                self.run_one(job, self.worker, self.lease)
                self.done += 1
            self.lease.drop(job.pk)

    def _submit(self, fast: list[Create]) -> None:
        slots = _slots(fast)
        conns: dict[int, Connector] = {}  # cached per process; looked up once a batch
        singles: set[int] = set()
        prepared: dict[int, o.Outcome | None] = {}  # per service: what prepare_create said
        wire: list[tuple[Create, Exchange, float]] = []
        for create in fast:
            slot = slots.get(create.job.id)
            if isinstance(slot, steps.Retry):
                self._finish(create.job, slot)  # the service is paused (daily create cap)
                continue
            conn = conns.get(create.service.id)
            if conn is None:
                conn = conns[create.service.id] = vendors.connector_for(create.service)
                if isinstance(conn, SingleRequestCreate):
                    singles.add(create.service.id)
            # The protocol's own isinstance check costs more than the request: ask once.
            exchange = None
            if create.service.id in singles:
                single = cast(SingleRequestCreate, conn)
                exchange = single.create_exchange(create.spec)
                if exchange is None and create.service.id not in prepared:
                    # The service's token (and Webex's licence) got here, once a batch: the
                    # pool's threads then never go to the database for it.
                    prepared[create.service.id] = single.prepare_create()
                    if prepared[create.service.id] is None:
                        exchange = single.create_exchange(create.spec)
                failed = prepared.get(create.service.id)
                if exchange is None and failed is not None:
                    # No token (a refused credential pauses the service): nothing was sent,
                    # and the batch's other creates are not sent to meet the same refusal.
                    self._finish(
                        create.job, steps.failure_step(create.service.id, failed, "create")
                    )
                    continue
            if exchange is None:
                self._on_pool(conn, create, slot)
            else:
                wire.append((create, exchange, slot[1] if slot else 0.0))
        for create, exchange, _ in wire:
            self.out[create.job.id] = create
            self.exchanges[create.job.id] = exchange
        if wire:
            self.sender.send((at, create.job.id, exchange) for create, exchange, at in wire)

    def _on_pool(self, conn: Connector, create: Create, slot: tuple[str, float] | None) -> None:
        job_id = create.job.id
        future = self.pool.submit(_call, conn, create.spec, slot, self.lease, job_id)
        self.out[job_id] = create
        self.pooled[job_id] = future
        future.add_done_callback(lambda _: self.sender.deliver(job_id))

    def _collect(self, timeout: float) -> list[tuple[Create, o.Outcome | BaseException]]:
        """The answers that came back, waiting up to ``timeout`` for the first; a burst
        is gathered a few milliseconds longer, so that it settles in one transaction."""
        ended: list[tuple[Create, o.Outcome | BaseException]] = []
        answered = self.sender.answers(timeout)
        if answered:
            until = time.monotonic() + GATHER_SECONDS
            while True:
                for job_id, answer in answered:
                    self._read(job_id, answer, ended)
                # Back for more once half the room is free: the next claim comes first.
                left = until - time.monotonic()
                if left <= 0 or self.busy - len(ended) <= self.capacity // 2:
                    break
                answered = self.sender.answers(left)
        return ended

    def _read(
        self,
        job_id: int,
        answer: Answer | None,
        ended: list[tuple[Create, o.Outcome | BaseException]],
    ) -> None:
        create = self.out.pop(job_id, None)
        if create is None:
            return
        future = self.pooled.pop(job_id, None)
        if future is not None:
            error = future.exception()
            ended.append((create, error if error is not None else future.result()))
            return
        exchange = self.exchanges.pop(job_id)
        if isinstance(answer, BaseException) and not isinstance(answer, TransportError):
            ended.append((create, answer))  # never sent: a doubtful lease, a sender failure
            return
        try:
            out = exchange.read(cast(Response | TransportError, answer))
        except Exception as exc:  # a connector bug: the job retries, the worker lives
            ended.append((create, exc))
            return
        if out is None:
            self._again(create, ended)
        else:
            ended.append((create, out))

    def _again(self, create: Create, ended: list[tuple[Create, o.Outcome | BaseException]]) -> None:
        """A 401 on the multiplexer: nothing was done at the vendor (another process
        renewed the service's token, or it expired there). The token is taken again here
        — from the service's row, renewed only if that one is the refused one — and the
        create goes out once more, at a slot of its own (its daily-cap count stands)."""
        conn = vendors.connector_for(create.service)
        single = cast(SingleRequestCreate, conn)
        failed = single.prepare_create()
        if failed is not None:
            ended.append((create, failed))
            return
        exchange = single.create_exchange(create.spec)
        if exchange is None:
            self._on_pool(conn, create, None)
            return
        at = 0.0
        cat = rate_limits.category(create.service.vendor, "create")
        if engine_setting("RATE_LIMITS") and cat is not None:
            try:
                at = time.monotonic() + rate_limits.reserve_many(create.service, cat, 1)[0]
            except ServicePaused as paused:
                ended.append((create, o.RateLimited(retry_at=paused.until, reason=str(paused))))
                return
        self.out[create.job.id] = create
        self.exchanges[create.job.id] = exchange
        self.sender.send([(at, create.job.id, exchange)])

    def _settle(self, finished: list[tuple[Create, o.Outcome | BaseException]]) -> None:
        created: list[tuple[Create, o.Created]] = []
        rest: list[tuple[Create, o.Outcome | BaseException]] = []
        for create, out in finished:
            if isinstance(out, LeaseDoubtful):
                # Not sent. Hand it back now (if still ours) rather than leave it running
                # until its lease expires; the attempt counts, so the next one looks the
                # user up before creating.
                log.warning(
                    "job=%s account=%s create not sent: %s",
                    create.job.id,
                    create.account_id,
                    out,
                )
                self._finish(create.job, steps.Retry(f"create not sent, lease doubtful: {out}"))
                continue
            if not isinstance(out, BaseException):
                steps.count_call(create.service.id, out)
            if isinstance(out, o.Created) and out.user.vendor_id:
                created.append((create, out))
            else:
                rest.append((create, out))
        if created:
            try:
                settle_created(created, self.worker)
                self.done += len(created)
                for create, _ in created:
                    self.lease.drop(create.job.id)
            except Exception:
                # One row refused (a receiver, a constraint): settle them one by one.
                log.exception("batch settle failed; settling its %d jobs one by one", len(created))
                rest.extend(created)
        for create, out in rest:
            vendors.set_heartbeat(self.lease.beat_for(create.job.id))
            try:
                step = _after(create, out, self.lease)
            finally:
                vendors.set_heartbeat(None)
            self._finish(create.job, step)

    def _finish(self, job: Job, step: steps.Step) -> None:
        steps.settle(job, self.worker, step)
        self.done += 1
        self.lease.drop(job.pk)


def _slots(fast: list[Create]) -> dict[int, tuple[str, float] | steps.Retry]:
    """Each job's reserved rate-limit slot (category, monotonic deadline), one bucket
    update per service; or, past the daily create cap, a retry after the reset."""
    if not engine_setting("RATE_LIMITS"):
        return {}
    slots: dict[int, tuple[str, float] | steps.Retry] = {}
    groups: dict[int, list[Create]] = {}
    for create in fast:
        groups.setdefault(create.service.id, []).append(create)
    for group in groups.values():
        service = group[0].service
        cat = rate_limits.category(service.vendor, "create")
        if cat is None:
            continue
        try:
            waits = rate_limits.reserve_many(service, cat, len(group), creates=len(group))
        except ServicePaused as paused:
            waits, cut = [], _paused(paused)
        else:
            wall = clock.now()
            reset = ServicePaused(rate_limits.next_reset(wall), "daily create cap reached")
            cut = _paused(reset)
        start = time.monotonic()
        for create, seconds in zip(group, waits, strict=False):
            slots[create.job.id] = (cat, start + seconds)
        for create in group[len(waits) :]:
            slots[create.job.id] = cut  # back to the queue, claimed after the reset
    return slots


def _paused(paused: ServicePaused) -> steps.Retry:
    seconds = (paused.until - clock.now()).total_seconds()
    return steps.Retry(str(paused), max(1.0, seconds), count=False)


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


def _after(create: Create, out: o.Outcome | BaseException, lease: Lease) -> steps.Step:
    """A create that did not simply succeed: the usual handling, in the main thread,
    with the account read in full (this path is the rare one)."""
    job = create.job
    if isinstance(out, BaseException):
        log.error("job=%s account=%s crashed: %r", job.pk, create.account_id, out)
        return steps.Retry(f"{type(out).__name__}: {out}")
    if lease.due():
        lease.renew()
    if job.pk not in lease.held:
        return steps.Done("lease lost")
    try:
        account = account_job.load_account(create.account_id)
        if account is None:
            return steps.Done("account deleted")
        conn = vendors.connector_for(account.service)
        return account_job.after_create(conn, account, job, out)
    except lifecycle.IllegalTransition as exc:
        return steps.Done(f"superseded: {exc}")
    except LeaseDoubtful:
        return steps.Done("lease lost")
    except Exception as exc:
        log.exception("job=%s account=%s crashed", job.pk, create.account_id)
        return steps.Retry(f"{type(exc).__name__}: {exc}")
