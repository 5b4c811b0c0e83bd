"""Accounts waiting on their member, read often while the wait is young or the member
has the portal open, rarely later (issue #22: an activation reaches the member's page
within a minute where the vendor sends webhooks, five where it does not).

A ``Watch`` row exists while an account waits (invited, conversion pending, unlicensed);
the lifecycle's signals write and delete it in the transaction of the state change. The
workers' ``watch`` schedule takes the due rows, most overdue first, within
``WATCH_READ_SHARE`` of the vendor's read rate a minute, and moves each row's next check
by the back-off: an observe job (one single-user read) each, or, where the vendor reads
many users by id in one call (Webex), reads of up to 85 that send only the changed ones
on to an observe job (``watch_batch``). The reconcile pass, which lists every user every
``RECONCILE_MINUTES``, still catches everything else: a wait whose back-off reaches that
interval is left to it unless the member is looking at the portal.
"""

from __future__ import annotations

import datetime
import logging
import math
from collections.abc import Iterable
from typing import Any

from django.db import transaction

from campusconf.accounts.models import Account, AccountEvent
from campusconf.accounts.states import State
from campusconf.core import clock
from campusconf.provisioning.conf import engine_setting
from campusconf.provisioning.engine import watch_batch
from campusconf.provisioning.models import Job, Lane, Watch
from campusconf.provisioning.queueing import rate_limits
from campusconf.provisioning.queueing.job_queue import enqueue
from campusconf.services.models import Service

log = logging.getLogger("campusconf.provisioning")

WATCHED = frozenset({State.INVITED, State.CONVERSION_PENDING, State.UNLICENSED})
# Far enough to mean "not by the back-off": the reconcile pass covers it, or a look pulls it in.
LEFT_TO_RECONCILE = datetime.timedelta(days=365)


def has_webhooks(service: Service) -> bool:
    """Whether the vendor tells us of activations (Zoom, when its secret is configured)."""
    return bool((service.connector_settings or {}).get("webhook_secret_env"))


def interval(age: float, webhooks: bool, ceiling: float | None = None) -> float | None:
    """Seconds to the next check of a wait ``age`` seconds old; None once the reconcile
    pass comes round as often (the back-off doubles every ``WATCH_DOUBLING_SECONDS``).
    ``ceiling``: where waits are read many at once, the back-off stops there (``ceiling``)."""
    first = float(
        engine_setting("WATCH_FIRST_SECONDS_WEBHOOKS" if webhooks else "WATCH_FIRST_SECONDS")
    )
    doublings = max(0, int(age // float(engine_setting("WATCH_DOUBLING_SECONDS"))))
    seconds = first * 2 ** min(doublings, 30)
    if ceiling is not None:
        seconds = min(seconds, max(first, ceiling))
    return None if seconds >= 60 * float(engine_setting("RECONCILE_MINUTES")) else seconds


def ceiling(waits: int, size: int, per_minute: int) -> float | None:
    """Where the back-off stops for a service whose reads check ``size`` waits each: twice
    the time its allowance (``per_minute`` reads) takes to check all ``waits`` once, so
    every wait is read that often on half the allowance, the other half left to young
    waits and members who look. None for reads of one (the back-off runs its course)."""
    if size <= 1:
        return None
    return 2 * 60 * math.ceil(waits / size) / per_minute


def next_check(
    since: datetime.datetime,
    now: datetime.datetime,
    webhooks: bool,
    ceiling: float | None = None,
) -> datetime.datetime:
    seconds = interval((now - since).total_seconds(), webhooks, ceiling)
    return now + (LEFT_TO_RECONCILE if seconds is None else datetime.timedelta(seconds=seconds))


def reads_per_minute(service: Service) -> int:
    """The reads a service's watch may make a minute (each of one wait, or of many):
    a share of its single-read rate."""
    cat = rate_limits.category(service.vendor, "get")
    rate = rate_limits.limits(service).get(cat or "", 0.0)
    return max(1, math.floor(float(engine_setting("WATCH_READ_SHARE")) * rate * 60))


# -- the lifecycle's side: rows follow the state, in the change's own transaction ----------


def follow(moves: Iterable[tuple[int, int, str]], now: datetime.datetime | None = None) -> None:
    """``moves``: (account id, service id, new state). A wait that begins gets a row (a new
    wait starts its back-off again); any other state drops it."""
    now = now or clock.now()
    begin: list[Watch] = []
    end: list[int] = []
    webhooks: dict[int, bool] = {}
    for account_id, service_id, state in moves:
        if state not in WATCHED:
            end.append(account_id)
            continue
        if service_id not in webhooks:
            service = Service.objects.filter(pk=service_id).only("connector_settings").first()
            webhooks[service_id] = service is not None and has_webhooks(service)
        begin.append(
            Watch(
                account_id=account_id,
                service_id=service_id,
                since=now,
                next_check_at=next_check(now, now, webhooks[service_id]),
                checked_at=None,
            )
        )
    if end:
        Watch.objects.filter(account_id__in=end).delete()
    if begin:
        Watch.objects.bulk_create(
            begin,
            update_conflicts=True,
            unique_fields=["account"],
            update_fields=["since", "next_check_at", "checked_at"],
        )


def on_transition(sender: Any, account: Account, event: AccountEvent, **_: Any) -> None:
    follow([(account.pk, account.service_id, event.to_state)])


def on_transitions(sender: Any, events: list[AccountEvent], **_: Any) -> None:
    ids = {e.account_id for e in events}
    services = dict(Account.objects.filter(pk__in=ids).values_list("pk", "service_id"))
    follow((e.account_id, services[e.account_id], e.to_state) for e in events)


# -- the member's side: a member with the portal open is checked soon ------------------------


def looked_at(account_ids: Iterable[int], now: datetime.datetime | None = None) -> int:
    """The member has the page of these accounts open: each waiting one is read within
    ``WATCH_LOOKING_SECONDS`` of its last check. Writes only when that brings a check
    forward, so a page that polls every few seconds costs a write per check, not per poll."""
    now = now or clock.now()
    look = datetime.timedelta(seconds=float(engine_setting("WATCH_LOOKING_SECONDS")))
    moved = 0
    for watch in Watch.objects.filter(account_id__in=list(account_ids)):
        due = max(now, (watch.checked_at or watch.since) + look)
        if watch.next_check_at > due:
            moved += Watch.objects.filter(pk=watch.pk, next_check_at=watch.next_check_at).update(
                next_check_at=due
            )
    return moved


# -- the workers' side ---------------------------------------------------------------------


def allowance_at(per_minute: int, now: datetime.datetime) -> int:
    """The checks a run at ``now`` may queue: the minute's allowance spread over the runs
    (every ``WATCH_SECONDS``, never closer: the schedule's compare-and-set), by the run's
    slot in time, so any minute of runs gets exactly ``per_minute`` without counting
    what was read (a row that ends takes its count with it)."""
    seconds = int(engine_setting("WATCH_SECONDS"))
    slot = int(now.timestamp() // seconds)
    return math.floor(per_minute * (slot + 1) * seconds / 60) - math.floor(
        per_minute * slot * seconds / 60
    )


def due_rows(service: Service, now: datetime.datetime, calls: int, size: int) -> list[Watch]:
    """The rows a run reads with at most ``calls`` reads of ``size`` waits each, most
    overdue first. A read of several (``size`` > 1) costs one call however many it
    carries, so it fills up with the waits due within ``WATCH_GATHER_SECONDS`` too: read
    a little early, they come due together afterwards, and the calls stay few."""
    rows = Watch.objects.filter(service=service).order_by("next_check_at")
    due = list(rows.filter(next_check_at__lte=now).values_list("pk", flat=True)[: calls * size])
    if not due or size == 1:
        return list(rows.filter(pk__in=due))
    gather = now + datetime.timedelta(seconds=float(engine_setting("WATCH_GATHER_SECONDS")))
    return list(rows.filter(next_check_at__lte=gather)[: math.ceil(len(due) / size) * size])


def claim(
    service: Service, rows: list[Watch], now: datetime.datetime, top: float | None = None
) -> list[int]:
    """Move each row's next check by the back-off (stopping at ``top``); the accounts whose
    move this run made (a compare-and-set: another worker's run, or a new wait, may have
    moved one)."""
    webhooks = has_webhooks(service)
    won: list[int] = []
    with transaction.atomic():
        for watch in rows:
            if Watch.objects.filter(pk=watch.pk, next_check_at=watch.next_check_at).update(
                checked_at=now, next_check_at=next_check(watch.since, now, webhooks, top)
            ):
                won.append(watch.account_id)
    return won


def run(now: datetime.datetime | None = None) -> int:
    """Check the due waits of each service within its read allowance: an observe job
    each, or reads of many at once where the vendor has them (``watch_batch``). The
    number of waits checked."""
    from campusconf.provisioning.engine import service_access

    now = now or clock.now()
    checked = 0
    for service in Service.objects.filter(enabled=True):
        if service_access.paused(service.pk):
            continue  # its vendor is asked nothing until the credential works again
        per_minute = reads_per_minute(service)
        calls = allowance_at(per_minute, now)
        rows = Watch.objects.filter(service=service)
        if calls <= 0 or not rows.filter(next_check_at__lte=now).exists():
            continue
        size = watch_batch.batch_size(service)
        top = ceiling(rows.count(), size, per_minute) if size > 1 else None
        accounts = claim(service, due_rows(service, now, calls, size), now, top)
        if not accounts:
            continue
        if size > 1:
            watch_batch.read(service, accounts)
        else:
            for account_id in accounts:
                enqueue(
                    Account(pk=account_id, service_id=service.pk),
                    Job.Kind.OBSERVE,
                    lane=Lane.ENGINE,
                )
        log.debug("watch %s: %d checked", service.slug, len(accounts))
        checked += len(accounts)
    return checked
