"""Reconcile one service: read every vendor user, compare with our intent, converge.

The pass holds the service's accounts in memory as plain rows (one query), streams
the vendor's users a page at a time, and writes only what changed: an unchanged
account is never touched; the pass's own bookkeeping is one ReconcilePass row.
An interrupted listing concludes nothing about the users it did not reach.
"""

from __future__ import annotations

import datetime
import logging
import math
import queue
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any

from django.db import connections, transaction
from django.db.models import Exists, Q
from django.utils import timezone

from campusconf.accounts.lifecycle import IllegalTransition
from campusconf.accounts.models import Account
from campusconf.accounts.states import DesiredState, State
from campusconf.connectors.base import Connector, RestoresAddress, VendorUser
from campusconf.connectors.outcomes import ListingFailed, NotAuthorised
from campusconf.core import clock
from campusconf.members.models import Member
from campusconf.provisioning.conf import engine_setting
from campusconf.provisioning.engine import account_job, observe, service_access, vendors
from campusconf.provisioning.engine.reconcile_snapshot import Snapshot
from campusconf.provisioning.models import Job, Lane, ReconcilePass, UnmatchedVendorUser
from campusconf.provisioning.queueing.job_queue import LIVE, enqueue
from campusconf.services.models import Service

log = logging.getLogger("campusconf.provisioning")

QUIET = (State.REQUESTED, State.SUSPENDED, State.REMOVED)


def guard_threshold(live_accounts: int) -> int:
    """The most a pass may deprovision without a person's approval."""
    share = math.ceil(float(engine_setting("GUARD_SHARE")) * live_accounts)
    return max(1, min(share, int(engine_setting("GUARD_MAX"))))


def run_pass(service: Service, *, approve: bool = False) -> ReconcilePass:
    """One reconcile pass over ``service``; returns its record."""
    now = clock.now()
    record = ReconcilePass(service=service, started_at=now)
    conn = vendors.connector_for(service)
    # The listing starts first: the vendor pages while we read our own rows.
    listing = _listed(conn)
    snap = Snapshot(service, now)
    seen: set[int] = set()
    verdicts: list[tuple[int, observe.Verdict]] = []
    unmatched: list[VendorUser] = []
    judge = observe.judge_facts
    restorable = isinstance(conn, RestoresAddress)
    try:
        for user in listing:
            record.seen += 1
            pk = snap.match(user)
            if pk is None:
                unmatched.append(user)
                continue
            seen.add(pk)
            verdict = judge(snap.accounts[pk], user, snap.addresses(pk), now, restorable=restorable)
            if not verdict.empty:
                verdicts.append((pk, verdict))
    except ListingFailed as exc:
        if isinstance(exc.outcome, NotAuthorised):  # the service's problem: it pauses
            service_access.report(service.pk, exc.outcome, "list")
        record.status, record.message = ReconcilePass.Status.FAILED, str(exc)[:2000]
        record.finished_at = clock.now()
        record.save()
        log.warning("reconcile %s: listing interrupted, nothing concluded: %s", service.slug, exc)
        return record

    for pk, facts in snap.accounts.items():
        if pk in seen or facts.state in QUIET or pk in snap.fresh:
            continue  # a just-created user may not be listed yet (eventual consistency)
        verdict = judge(facts, None, snap.addresses(pk), now)
        if not verdict.empty:
            verdicts.append((pk, verdict))

    gone = leavers(service, snap, now)
    live = sum(1 for a in snap.accounts.values() if a.state != State.REMOVED)
    limit = guard_threshold(live)
    if len(gone) > limit and not approve:
        record.status = ReconcilePass.Status.HELD
        record.message = (
            f"{len(gone)} accounts would be deprovisioned, more than the guard's {limit}; "
            f"approve with: campusconf reconcile {service.slug} --approve"
        )
        record.changes = {"would_deprovision": len(gone)}
        record.finished_at = clock.now()
        record.save()
        log.warning("reconcile %s held: %s", service.slug, record.message)
        return record

    changes: dict[str, Any] = defaultdict(int)
    accounts = snap.instances([pk for pk, _ in verdicts] + gone)
    for pk, verdict in verdicts:
        if pk not in accounts:
            continue  # deleted meanwhile: nothing to converge
        try:
            account_job.apply_verdict(accounts[pk], verdict)
        except IllegalTransition:
            continue  # the account moved meanwhile; the next pass sees it again
        changes[f"to_{verdict.target}" if verdict.target else "observed"] += 1
    for pk in gone:
        if pk not in accounts:
            continue
        with transaction.atomic():
            Account.objects.filter(pk=pk).update(desired_state=DesiredState.ABSENT)
            enqueue(accounts[pk], lane=Lane.ENGINE)
        changes["deprovision"] += 1
    changes["reissued"] = reissue(service)
    changes["unmatched_new"] = _report_unmatched(service, unmatched, now)
    record.status = ReconcilePass.Status.APPROVED if approve and gone else ReconcilePass.Status.DONE
    record.changes = {k: v for k, v in changes.items() if v}
    record.finished_at = clock.now()
    record.save()
    log.info("reconcile %s: %d users seen, %s", service.slug, record.seen, record.changes)
    return record


_DONE = object()


def _listed(conn: Connector, ahead: int = 4) -> Iterator[VendorUser]:
    """``conn.iter_users()`` read by a thread up to ``ahead`` pages in front of us.

    Most of a pass is waiting for the vendor's pages; with the next pages already on
    their way, reading our rows, matching and judging happen meanwhile. The thread
    touches the database only through the pacer (a rate-limit slot per page); the
    caller's heartbeat (the job's lease) is beaten here, between pages. A
    ListingFailed in the thread is raised here.
    """
    beat = vendors.current_heartbeat()
    if transaction.get_connection().in_atomic_block:
        # The pacer's rows are read on the thread's own connection, which cannot see
        # what the caller's open transaction wrote (a new service, its bucket): read
        # in line then, and pay the vendor's latency.
        for n, user in enumerate(conn.iter_users(), start=1):
            if beat is not None and n % PAGE == 0:
                beat()
            yield user
        return
    pages: queue.Queue[Any] = queue.Queue(maxsize=ahead)
    stop = threading.Event()

    def produce() -> None:
        page: list[VendorUser] = []
        try:
            for user in conn.iter_users():
                page.append(user)
                if len(page) >= PAGE:
                    _put(pages, page, stop)
                    page = []
                if stop.is_set():
                    return
            _put(pages, page, stop)
            _put(pages, _DONE, stop)
        except BaseException as exc:  # handed to the consumer, who raises it
            _put(pages, exc, stop)
        finally:
            connections.close_all()

    thread = threading.Thread(target=produce, name="reconcile-listing", daemon=True)
    thread.start()
    try:
        while True:
            item = pages.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            if beat is not None:
                beat()
            yield from item
    finally:
        stop.set()
        thread.join(timeout=5)


PAGE = 300


def _put(pages: queue.Queue[Any], item: Any, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            pages.put(item, timeout=0.5)
            return
        except queue.Full:
            continue


# Whether a member who left was told so and their accounts' date has come (a condition on
# ``Member`` rows, for the day given): the directory tells leavers and keeps the dates, so
# it registers the rule (``DirectoryConfig.ready``); the engine cannot import it. With
# none registered, reconcile lets nobody go.
_told_and_due: list[Callable[[datetime.date], Exists]] = []


def let_go_when(rule: Callable[[datetime.date], Exists]) -> None:
    _told_and_due[:] = [rule]


def leavers(service: Service, snap: Snapshot, now: datetime.datetime) -> list[int]:
    """Accounts of members who left, past the grace period, and who were told so.

    The notice (the directory's, through ``let_go_when``) decides the date; a member who
    was never told keeps their accounts here, however long ago they left. Also what
    the back office's approval of a held pass counts.
    """
    if not _told_and_due:
        return []
    today = timezone.localdate(now)
    cutoff = today - datetime.timedelta(days=int(engine_setting("LEAVER_GRACE_DAYS")))
    left = set(
        Member.objects.filter(
            status=Member.Status.LEFT, left_on__lte=cutoff, accounts__service=service
        )
        .filter(_told_and_due[0](today))
        .values_list("pk", flat=True)
    )
    found = []
    for member_id in left:
        pk = snap.account_of_member.get(member_id)
        if pk is None:
            continue
        facts = snap.accounts[pk]
        if facts.desired_state == DesiredState.PRESENT and facts.state != State.REMOVED:
            found.append(pk)
    return sorted(found)


def reissue(service: Service) -> int:
    """Queue work for accounts whose intent and vendor state differ and have no live job."""
    drift = (
        Account.objects.filter(service=service)
        .filter(
            Q(state=State.REQUESTED)
            | (Q(desired_state=DesiredState.ABSENT) & ~Q(state=State.REMOVED))
            | (Q(state=State.SUSPENDED) & ~Q(observed_state=Account.Observed.INACTIVE))
        )
        .exclude(jobs__status__in=LIVE)
    )
    count = 0
    for account in drift.iterator():
        with transaction.atomic():
            enqueue(account, Job.Kind.SYNC, lane=Lane.ENGINE)
        count += 1
    return count


def _report_unmatched(service: Service, users: list[VendorUser], now: datetime.datetime) -> int:
    known = set(UnmatchedVendorUser.objects.filter(service=service).values_list("email", flat=True))
    new = [
        UnmatchedVendorUser(
            service=service,
            email=u.email.lower(),
            vendor_id=u.vendor_id or "",
            state=str(u.state),
            first_seen_at=now,
        )
        for u in users
        if u.email and u.email.lower() not in known
    ]
    UnmatchedVendorUser.objects.bulk_create(new, ignore_conflicts=True)
    return len(new)
