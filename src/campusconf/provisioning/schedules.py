"""Periodic work without an external cron.

Each piece of periodic work is a ``Schedule`` row. A worker runs it after moving
``next_run_at`` forward with a compare-and-set UPDATE; only one worker's UPDATE
matches, so one worker runs it, whichever gets there first.
"""

from __future__ import annotations

import datetime
import logging
import time

from campusconf.accounts.lifecycle import IllegalTransition, transition
from campusconf.accounts.models import Account
from campusconf.accounts.states import Cause, State
from campusconf.core import clock
from campusconf.provisioning.conf import engine
from campusconf.provisioning.models import Schedule
from campusconf.services.models import Service

log = logging.getLogger("campusconf.provisioning")
QUIET_BELOW_SECONDS = 5 * 60


def ensure() -> None:
    now = clock.now()
    wanted = {
        "expire-invitations": 60 * int(engine("EXPIRY_CHECK_MINUTES")),
        # Members who left are told, then let go; hourly is ample for a date-based rule.
        "leavers": 60 * 60,
        # The seat queue moves within a minute of any seat freeing, whatever freed it.
        "seats": 60,
        # Licence end (S16): the 30-day notice and the policy; hourly for a date rule.
        "licence-end": 60 * 60,
        # Campaign enrolment and scheduled starts (S10): soon after the staff asked.
        "campaigns": 5,
        # Mail notices queued by the portal: sent within seconds (they followed the vendor's
        # own mail by a minute), retried while SMTP is down.
        "notices": 10,
        # Invitations that expire within 3 days get one reminder (portal.outbox).
        "notices-expiring": 24 * 60 * 60,
        # Vendor events the webhook view recorded: acted on within seconds of arriving.
        "webhooks": 2,
        # Services paused because the vendor refuses their credential: probed when due,
        # and the staff told (service_access).
        "service-access": 15,
    }
    for slug in Service.objects.filter(enabled=True).values_list("slug", flat=True):
        wanted[f"reconcile:{slug}"] = 60 * int(engine("RECONCILE_MINUTES"))
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
    if name == "expire-invitations":
        expire_invitations()
    elif name == "leavers":
        from campusconf.directory.leavers import process_leavers

        process_leavers()
    elif name == "notices":
        from campusconf.portal.outbox import send_due

        send_due()
    elif name == "notices-expiring":
        from campusconf.portal.outbox import queue_expiring

        queue_expiring()
    elif name == "webhooks":
        from campusconf.provisioning.webhook_events import process

        process()
    elif name == "campaigns":
        from campusconf.provisioning.campaigns import enroll_due

        enroll_due()
    elif name == "seats":
        from campusconf.provisioning.seats import admit_everywhere

        admit_everywhere()
    elif name == "licence-end":
        from campusconf.provisioning.licence_end import sweep

        sweep()
    elif name == "service-access":
        from campusconf.provisioning import service_access

        service_access.run()
    elif name.startswith("reconcile:"):
        from campusconf.provisioning import reconcile, service_access, vendors

        service = Service.objects.filter(slug=name.split(":", 1)[1], enabled=True).first()
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
                reason="invitation validity passed (S4)",
            )
            count += 1
        except IllegalTransition:
            continue
    return count
