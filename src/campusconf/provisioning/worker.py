"""The worker loop: claim, run, settle; periodic work; a clean stop on SIGTERM."""

from __future__ import annotations

import datetime
import logging
import os
import signal
import socket
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from django.db import close_old_connections, transaction
from django.db.models import F

from campusconf.accounts.lifecycle import IllegalTransition
from campusconf.core import clock
from campusconf.provisioning.conf import engine_setting
from campusconf.provisioning.engine import account_job, reconcile, schedules, steps, vendors
from campusconf.provisioning.fast_batch import pipeline
from campusconf.provisioning.models import Job, VendorCallCount
from campusconf.provisioning.queueing import job_queue
from campusconf.provisioning.queueing.rate_limits import ServicePaused
from campusconf.services.models import Service

log = logging.getLogger("campusconf.provisioning")


class LeaseLost(Exception):
    """Another worker took the job over (ours stopped renewing in time)."""


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def run_one(job: Job, worker: str, lease: pipeline.Lease | None = None) -> None:
    """Carry out a claimed job and settle it: finish, retry later, or give up.

    Within a batch the lease is the batch's (renewed for all its jobs at once)."""
    last_renew = [time.monotonic()]

    def heartbeat() -> None:
        # Renew well before the lease ends; a lost lease stops this run at once.
        if lease is not None:
            if lease.due():
                lease.renew()
            if job.pk not in lease.held:
                raise LeaseLost(f"job {job.pk}")
        elif time.monotonic() - last_renew[0] > engine_setting("LEASE_SECONDS") / 4:
            if not job_queue.renew(job, worker):
                raise LeaseLost(f"job {job.pk}")
            last_renew[0] = time.monotonic()

    vendors.set_heartbeat(heartbeat)
    try:
        step = _step(job)
    except LeaseLost:
        log.warning("job=%s lease lost; another worker has it", job.pk)
        return
    finally:
        vendors.set_heartbeat(None)
    steps.settle(job, worker, step)


def _step(job: Job) -> steps.Step:
    try:
        if job.kind == Job.Kind.RECONCILE:
            reconcile.run_pass(job.service)
            return steps.Done("reconciled")
        if job.account_id is None:
            return steps.Done("account deleted")
        account = account_job.load_account(job.account_id)
        if account is None:
            return steps.Done("account deleted")
        return account_job.converge(account, job)
    except ServicePaused as paused:
        wait = (paused.until - clock.now()).total_seconds()
        return steps.Retry(str(paused), max(1.0, wait), count=False)
    except IllegalTransition as exc:
        # Someone changed the account meanwhile; their change queued its own work.
        return steps.Done(f"superseded: {exc}")
    except LeaseLost:
        raise
    except vendors.ServiceConfigError as exc:
        log.warning("job=%s account=%s: %s", job.pk, job.account_id, exc)
        return steps.crash_step(job.service_id, exc, job.kind)
    except Exception as exc:
        log.exception("job=%s account=%s crashed", job.pk, job.account_id)
        return steps.crash_step(job.service_id, exc)


def flush_counts() -> None:
    pending = dict(vendors.calls)
    vendors.calls.clear()
    # A service removed since its calls were counted has nowhere to keep them: its count
    # row would break the foreign key and, with it, every other service's count.
    known = set(
        Service.objects.filter(pk__in={sid for sid, _ in pending}).values_list("pk", flat=True)
    )
    for (service_id, outcome), n in pending.items():
        if service_id not in known:
            log.info("%d vendor call(s) of removed service %s not counted", n, service_id)
            continue
        with transaction.atomic():
            row, _ = VendorCallCount.objects.get_or_create(service_id=service_id, outcome=outcome)
            VendorCallCount.objects.filter(pk=row.pk).update(count=F("count") + n)


class Worker:
    def __init__(self, *, once: bool = False, idle_exit: bool = False) -> None:
        self.id = worker_id()
        self.stopping = False
        self.once = once
        self.idle_exit = idle_exit

    def stop(self, *_: object) -> None:
        self.stopping = True

    def run(self, on_idle: Callable[[], None] | None = None) -> int:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        log.info("worker %s started", self.id)
        housekeeping = checked = 0.0
        size = 1 if self.once else max(1, int(engine_setting("BATCH_SIZE")))
        pool = ThreadPoolExecutor(max(1, int(engine_setting("CONCURRENCY"))), "vendor-call")
        pipe = pipeline.Pipeline(self.id, pool, size, run_one)
        try:
            while not self.stopping:
                if time.monotonic() - checked >= 1:
                    # Once a second, not every step: each call has the next query
                    # preceded by a health check (SELECT 1), a round trip per batch.
                    close_old_connections()
                    checked = time.monotonic()
                if time.monotonic() - housekeeping > 5:
                    job_queue.recover_expired()
                    flush_counts()
                    housekeeping = time.monotonic()
                if self.once and pipe.done:
                    break
                if pipe.step(claim=not (self.once and pipe.busy)):
                    continue
                if schedules.run_due():
                    continue
                if self.idle_exit:
                    break
                if on_idle:
                    on_idle()
                time.sleep(engine_setting("POLL_SECONDS"))
        finally:
            # SIGTERM: the calls in flight end (bounded by the connectors' time-outs)
            # and are settled; nothing new is claimed.
            pipe.drain()
            pipe.close()
            pool.shutdown()
            flush_counts()
            vendors.close_all()
            log.info("worker %s stopped after %d jobs", self.id, pipe.done)
        return pipe.done


def drain(max_seconds: float = 60.0) -> int:
    """Run jobs in this process until none is runnable (tests, ``provision --wait``)."""
    worker = worker_id()
    deadline = time.monotonic() + max_seconds
    size = max(1, int(engine_setting("BATCH_SIZE")))
    with ThreadPoolExecutor(max(1, int(engine_setting("CONCURRENCY"))), "vendor-call") as pool:
        pipe = pipeline.Pipeline(worker, pool, size, run_one)
        try:
            while time.monotonic() < deadline:
                if pipe.step():
                    continue
                soonest = Job.objects.filter(status=Job.Status.QUEUED).order_by("run_after").first()
                if soonest is None:
                    break
                wait = (soonest.run_after - clock.now()).total_seconds()
                time.sleep(min(0.5, max(0.05, wait)))
        finally:
            pipe.drain()
            pipe.close()
    return pipe.done


def lag_seconds(now: datetime.datetime | None = None) -> float:
    now = now or clock.now()
    oldest = (
        Job.objects.filter(status=Job.Status.QUEUED, run_after__lte=now)
        .order_by("run_after")
        .values_list("run_after", flat=True)
        .first()
    )
    return (now - oldest).total_seconds() if oldest else 0.0
