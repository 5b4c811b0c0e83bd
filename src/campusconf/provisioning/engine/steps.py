"""What one attempt at a job comes to, and what then becomes of the job.

A step is ``Done``, ``Retry`` (later, with or without using up an attempt) or ``Fail``;
a failed vendor call or a crash is turned into one here (the service pauses when the
vendor refuses its credential), and ``settle`` carries it out on the job: finished,
queued again with back-off, or given up with the account failed. The one-by-one
runner and the batch path settle through it alike.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from campusconf.accounts.lifecycle import IllegalTransition, transition
from campusconf.accounts.models import Account
from campusconf.accounts.reasons import Reason, Why, error_fields
from campusconf.accounts.states import Cause, State
from campusconf.connectors import outcomes as o
from campusconf.core import clock
from campusconf.provisioning.conf import engine_setting
from campusconf.provisioning.engine import service_access, vendors
from campusconf.provisioning.models import Job
from campusconf.provisioning.queueing import job_queue, rate_limits
from campusconf.services.models import Service

log = logging.getLogger("campusconf.provisioning")


@dataclass
class Done:
    note: str = ""


@dataclass
class Retry:
    reason: str
    wait: float | None = None
    count: bool = True  # rate limits do not use up attempts


@dataclass
class Fail:
    reason: str
    code: str = ""


Step = Done | Retry | Fail


def failure_step(service_id: int, out: o.Outcome, op: str) -> Step:
    """What a failed vendor call means for the job."""
    tracking = f" [tracking {out.tracking_id}]" if out.tracking_id else ""
    if isinstance(out, o.NotAuthorised):
        # The service's problem, not the member's: the service pauses, the job waits for
        # the credential to work again without using up an attempt (service_access.py).
        until = service_access.report(service_id, out, op)
        wait = max(1.0, (until - clock.now()).total_seconds())
        reason = f"{service_access.PAUSED} ({out.problem}): {out.reason}{tracking}"
        return Retry(reason, wait, count=False)
    if isinstance(out, o.RateLimited):
        service = Service.objects.get(pk=service_id)
        if out.scope == o.RateScope.DAILY:
            # The daily create cap: nothing is tried again before the vendor's reset,
            # which Zoom puts at 00:00 UTC when its answer names no time (Z-e).
            now = clock.now()
            until = out.retry_at or rate_limits.next_reset(now)
            rate_limits.pause_creates(service, until, out.reason or "daily create cap")
            wait = max(1.0, (until - now).total_seconds())
            return Retry(f"daily create cap: paused until {until:%Y-%m-%d %H:%M %Z}", wait, False)
        rate_limits.vendor_said_wait(service, op, out.wait_seconds())
        return Retry(f"rate limited{tracking}", out.wait_seconds(), count=False)
    if isinstance(out, o.Rejected):
        return Fail(f"{out.reason}{tracking}", out.vendor_code or str(out.http_status or ""))
    reason = getattr(out, "reason", "") or type(out).__name__
    return Retry(f"{type(out).__name__}: {reason}{tracking}")


def crash_step(service_id: int, exc: BaseException, op: str = "") -> Step:
    """A job that raised: a missing setting pauses the service; anything else retries."""
    if isinstance(exc, vendors.ServiceConfigError):
        until = service_access.report_configuration(service_id, str(exc), op)
        wait = max(1.0, (until - clock.now()).total_seconds())
        return Retry(f"{service_access.PAUSED}: {exc}", wait, count=False)
    return Retry(f"{type(exc).__name__}: {exc}")


def count_call(service_id: int, out: o.Outcome) -> None:
    vendors.calls[(service_id, type(out).__name__)] += 1


def give_up_account(
    account_id: int, detail: str, code: str = "", *, exhausted: bool = False
) -> None:
    """The vendor refused, or (``exhausted``) the retries ran out: failed, with the
    vendor's words (``detail``) and code."""
    reason = Why(Reason.RETRIES_EXHAUSTED if exhausted else Reason.VENDOR_REFUSED, detail=detail)
    account = Account.objects.filter(pk=account_id).first()
    if account is None:
        return
    now = clock.now()
    errors: dict[str, Any] = {
        "last_error_code": code[:64],
        **error_fields(reason),
        "last_error_at": now,
    }
    try:
        transition(account, State.FAILED, cause=Cause.ENGINE, reason=reason, **errors)
    except IllegalTransition:
        Account.objects.filter(pk=account_id).update(**errors)


def settle(job: Job, worker: str, step: Step) -> None:
    where = f"job={job.pk} account={job.account_id} attempt={job.attempts}"
    if isinstance(step, Done):
        log.info("%s done: %s", where, step.note)
        job_queue.finish(job, worker)
    elif isinstance(step, Fail):
        log.warning("%s failed: %s", where, step.reason)
        if job.account_id:
            give_up_account(job.account_id, step.reason, step.code)
        job_queue.give_up(job, worker, step.reason)
    elif step.count and job.attempts >= engine_setting("MAX_ATTEMPTS"):
        log.warning("%s gave up after %d attempts: %s", where, job.attempts, step.reason)
        if job.account_id:
            give_up_account(job.account_id, step.reason, "retries", exhausted=True)
        job_queue.give_up(job, worker, step.reason)
    else:
        delay = job_queue.backoff(job.attempts if step.count else 1, step.wait)
        log.info("%s retry in %.1fs: %s", where, delay, step.reason)
        job_queue.retry(job, worker, step.reason, delay=delay, count_attempt=step.count)
