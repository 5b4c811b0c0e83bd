"""Periodic work without an external cron.

Each app registers its periodic work (``register``, from its ``AppConfig.ready``); the
engine's own are registered in ``ProvisioningConfig``, and every enabled service gets a
``reconcile:<slug>`` one. Each piece of periodic work is a ``Schedule`` row. A worker runs it after moving
``next_run_at`` forward with a compare-and-set UPDATE; only one worker's UPDATE
matches, so one worker runs it, whichever gets there first.
"""

from __future__ import annotations

import datetime
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from campusconf.accounts.lifecycle import IllegalTransition, transition
from campusconf.accounts.models import Account
from campusconf.accounts.reasons import Reason
from campusconf.accounts.states import Cause, State
from campusconf.core import clock
from campusconf.provisioning.conf import engine_setting
from campusconf.provisioning.engine import reconcile, service_access, vendors
from campusconf.provisioning.models import Schedule
from campusconf.services.models import Service

log = logging.getLogger("campusconf.provisioning")
QUIET_BELOW_SECONDS = 5 * 60
RECONCILE = "reconcile:"


@dataclass(frozen=True)
class Periodic:
    every: Callable[[], int]  # seconds; asked at each ``ensure``, so a setting change reaches it
    work: Callable[[], object]


_periodic: dict[str, Periodic] = {}


def register(name: str, every: int | Callable[[], int], work: Callable[[], object]) -> None:
    """Periodic work of an app, registered from its ``AppConfig.ready``: the engine runs
    it and knows nothing of it (the portal's notices, the directory's leavers …)."""
    _periodic[name] = Periodic(every if callable(every) else (lambda: every), work)


def ensure() -> None:
    now = clock.now()
    wanted = {name: periodic.every() for name, periodic in _periodic.items()}
    for slug in Service.objects.filter(enabled=True).values_list("slug", flat=True):
        wanted[f"{RECONCILE}{slug}"] = 60 * int(engine_setting("RECONCILE_MINUTES"))
    for name, interval in wanted.items():
        schedule, created = Schedule.objects.get_or_create(
            name=name, defaults={"interval_seconds": interval, "next_run_at": now}
        )
        if not created and schedule.interval_seconds != interval:
            # A changed interval (a new release, RECONCILE_MINUTES) reaches existing rows.
            Schedule.objects.filter(pk=schedule.pk).update(interval_seconds=interval)


_ensured = [0.0]


def run_due() -> bool:
    """Run at most one due schedule; True if this worker ran one."""
    if time.monotonic() - _ensured[0] > 60:
        ensure()  # services added since get their reconcile schedule
        _ensured[0] = time.monotonic()
    now = clock.now()
    due = Schedule.objects.filter(next_run_at__lte=now).order_by("next_run_at").first()
    if due is None:
        return False
    later = now + datetime.timedelta(seconds=due.interval_seconds)
    won = Schedule.objects.filter(pk=due.pk, next_run_at=due.next_run_at).update(
        next_run_at=later, last_run_at=now
    )
    if not won:
        return False
    # Schedules that come round every few seconds (campaigns every 5 s) would bury the
    # useful lines of a worker's log; they say what they did themselves when they do.
    level = logging.DEBUG if due.interval_seconds < QUIET_BELOW_SECONDS else logging.INFO
    log.log(level, "schedule %s running", due.name)
    run(due.name)
    return True


def run(name: str) -> None:
    if name.startswith(RECONCILE):
        _reconcile(name.removeprefix(RECONCILE))
        return
    periodic = _periodic.get(name)
    if periodic is None:
        # A row left by a release that had this work, or an app no longer installed.
        log.warning("schedule %s: no work is registered under this name", name)
        return
    periodic.work()


def _reconcile(slug: str) -> None:
    service = Service.objects.filter(slug=slug, enabled=True).first()
    if service is None or service_access.paused(service.pk):
        return  # a paused service's vendor is asked nothing until it works again
    try:
        reconcile.run_pass(service)
    except vendors.ServiceConfigError as exc:
        service_access.report_configuration(service.pk, str(exc), "reconcile")


def expire_invitations(now: datetime.datetime | None = None) -> int:
    """Invited accounts past their validity → invitation_expired (S4), from our own rows."""
    now = now or clock.now()
    count = 0
    for account in Account.objects.filter(
        state__in=[State.INVITED, State.CONVERSION_PENDING], invitation_expires_at__lt=now
    ).iterator():
        try:
            transition(
                account,
                State.INVITATION_EXPIRED,
                cause=Cause.ENGINE,
                reason=Reason.INVITATION_EXPIRED,
            )
            count += 1
        except IllegalTransition:
            continue
    return count
