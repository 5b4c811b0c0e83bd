"""The end of a service's licence (S16): tell the members 30 days before, then apply
the policy the staff chose on the licence terms page.

Run daily-ish by the workers' ``licence-end`` schedule (hourly, so a date rule is
never a day late). Each step runs once per end date: ``Service.licence_notice_sent_for``
and ``Service.licence_end_applied_for`` hold the "valid until" it was done for, set by
a compare-and-set UPDATE in the same transaction as the work, so two workers never
both do it and a crash leaves it undone rather than half-marked. Renewing is moving
"valid until": the markers no longer match the new date, so the old end is simply
never reached, and the new one is announced 30 days before it in turn.

"Valid until" is the last day of the licence: the policy applies from the day after.

The ``licence_ending`` mail promises to write again, and each way out keeps it, announced
(``announce.tell``; the portal's outbox queues the mail) in the same transaction: the policy applied says
``licence_ended_suspended`` / ``licence_ended_removed`` to each account it touches;
the ``keep`` policy at the end, or a renewal (the date moved later, or removed, after
members were told and before the end was applied), says ``licence_renewed`` to those
who were told. A renewal is noticed by the sweep (``notify_renewed``), so it does not
matter which page or script moved the date.

A renewal after the ``suspend`` policy was applied (the date moved later than the end
applied, or removed, and the licence is valid today) restores what the policy did
(``restore_renewed``): each account still suspended *by that end* — its latest
suspension event is the policy's, cause engine, with the end's reason, so an account
the staff suspended for another reason stays suspended — is re-provisioned (the job
reactivates the same vendor user, data kept) and hears ``licence_renewed``. Once: the
compare-and-set clears ``licence_end_applied_for`` in the same transaction.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass

from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.db.models.fields.json import KT
from django.utils import timezone

from campusconf.accounts.lifecycle import IllegalTransition
from campusconf.accounts.models import Account, AccountEvent
from campusconf.accounts.reasons import Reason, Why
from campusconf.accounts.states import Cause, DesiredState, State
from campusconf.provisioning.verbs import announce
from campusconf.provisioning.verbs.actions import (
    deprovision_account,
    reprovision_account,
    suspend_account,
)
from campusconf.provisioning.verbs.seats import WaitingForSeat
from campusconf.services.models import LicenceEndPolicy, Service

log = logging.getLogger("campusconf.provisioning")

NOTICE_BEFORE = datetime.timedelta(days=30)
# Who is told: members who hold, or are about to hold, a working account.
TOLD_STATES = (State.INVITED, State.CONVERSION_PENDING, State.ACTIVE)
# States the engine may suspend from (the lifecycle's table); others are left alone.
SUSPENDABLE = (State.INVITED, State.ACTIVE, State.UNLICENSED)


@dataclass(frozen=True)
class SweepResult:
    notified: int = 0
    suspended: int = 0
    deprovisioned: int = 0
    restored: int = 0


# The reasons of a renewal's restore (read by the portal's notice).
RESTORED = (Reason.LICENCE_RENEWED, Reason.LICENCE_RENEWED_NO_END)


def end_reason(ended: datetime.date | None, policy: str) -> Why:
    """The reason of the policy's events: how a renewal finds what the policy did."""
    return Why(Reason.LICENCE_ENDED, date=ended, policy=policy)


def _mark(service: Service, field: str) -> bool:
    """Compare-and-set the marker to the current end date; False if done already."""
    assert service.valid_until is not None
    done = Service.objects.filter(pk=service.pk, valid_until=service.valid_until).exclude(
        **{field: service.valid_until}
    )
    return bool(done.update(**{field: service.valid_until}))


def notify_ending(service: Service) -> int:
    """Queue one ``licence_ending`` notice per member with a live account (once per end)."""
    key = f"licence-end:{service.valid_until}"
    count = 0
    with transaction.atomic():
        if not _mark(service, "licence_notice_sent_for"):
            return 0
        for account in Account.objects.filter(service=service, state__in=TOLD_STATES).iterator():
            if announce.tell("licence_ending", account, key=key):
                count += 1
    log.info("licence end %s of %s: %d members told", service.valid_until, service.slug, count)
    return count


def notify_renewed(service: Service) -> int:
    """The end members were told of was lifted before it came: tell them (once).

    Clearing ``licence_notice_sent_for`` (compare-and-set, with the notices) marks it
    done; the new end, if any, is then announced 30 days before it as usual.
    """
    ended = service.licence_notice_sent_for
    if ended is None:
        return 0
    with transaction.atomic():
        cleared = Service.objects.filter(pk=service.pk, licence_notice_sent_for=ended).update(
            licence_notice_sent_for=None
        )
        if not cleared:
            return 0
        count = announce.tell_renewed(service, ended)
    log.info("licence end %s of %s lifted: %d members told", ended, service.slug, count)
    return count


def _renewed(service: Service) -> bool:
    """Members were told of an end that has not been applied, and it moved later or away."""
    told = service.licence_notice_sent_for
    return (
        told is not None
        and service.licence_end_applied_for != told
        and (service.valid_until is None or service.valid_until > told)
    )


def apply_end(service: Service) -> SweepResult:
    """The licence has ended: suspend or deprovision every live account, or nothing
    (``keep``: the licence is renewed, and those told of the end hear so)."""
    reason = end_reason(service.valid_until, service.licence_end_policy)
    key = f"licence-end:{service.valid_until}"
    suspended = deprovisioned = 0
    with transaction.atomic():
        if not _mark(service, "licence_end_applied_for"):
            return SweepResult()
        if service.licence_end_policy == LicenceEndPolicy.SUSPEND:
            for account in Account.objects.filter(service=service, state__in=SUSPENDABLE):
                try:
                    with transaction.atomic():
                        suspend_account(account, cause=Cause.ENGINE, reason=reason)
                        announce.tell("licence_ended_suspended", account, key=key)
                    suspended += 1
                except IllegalTransition as why:  # moved on meanwhile; logged, not fatal
                    log.warning("licence end: account %s not suspended: %s", account.pk, why)
        elif service.licence_end_policy == LicenceEndPolicy.DEPROVISION:
            live = Account.objects.filter(service=service, desired_state=DesiredState.PRESENT)
            for account in live.exclude(state=State.REMOVED):
                deprovision_account(account, cause=Cause.ENGINE, reason=reason)
                announce.tell("licence_ended_removed", account, key=key)
                deprovisioned += 1
        elif service.licence_notice_sent_for == service.valid_until:
            assert service.valid_until is not None
            announce.tell_renewed(service, service.valid_until)
    log.info(
        "licence end %s of %s applied (%s): %d suspended, %d deprovisioned",
        service.valid_until,
        service.slug,
        service.licence_end_policy,
        suspended,
        deprovisioned,
    )
    return SweepResult(suspended=suspended, deprovisioned=deprovisioned)


def _renewed_after_end(service: Service, today: datetime.date) -> bool:
    """An end was applied, then the date moved later (or away) and the licence is valid
    today. (A new date that has passed as well is an end of its own, not a renewal.)"""
    applied = service.licence_end_applied_for
    until = service.valid_until
    return applied is not None and (until is None or (until > applied and until >= today))


def suspended_by_end(service: Service, ended: datetime.date) -> list[Account]:
    """Accounts still suspended because the ``suspend`` policy ended the licence (on
    ``ended``, or an end before it): their latest suspension event is the policy's,
    cause engine. One query."""
    latest = AccountEvent.objects.filter(account=OuterRef("pk"), to_state=State.SUSPENDED).order_by(
        "-created_at", "-id"
    )
    return list(
        Account.objects.filter(
            service=service, state=State.SUSPENDED, desired_state=DesiredState.PRESENT
        )
        .annotate(
            suspended_reason=Subquery(latest.values("reason_code")[:1]),
            suspended_policy=Subquery(
                latest.annotate(policy=KT("reason_params__policy")).values("policy")[:1]
            ),
            suspended_cause=Subquery(latest.values("cause")[:1]),
        )
        .filter(
            # Any end's: a later end applied while these were suspended already left
            # them its predecessor's event, and the licence is valid again either way.
            suspended_reason=Reason.LICENCE_ENDED,
            suspended_policy=LicenceEndPolicy.SUSPEND,
            suspended_cause=Cause.ENGINE,
        )
        .select_related("service", "member")
        .order_by("pk")
    )


def restore_renewed(service: Service) -> int:
    """Undo the ``suspend`` policy after a renewal: re-provision the accounts it
    suspended (the job reactivates the vendor user they had) and tell them, once."""
    ended = service.licence_end_applied_for
    if ended is None:
        return 0
    until = service.valid_until
    reason = (
        Why(Reason.LICENCE_RENEWED, until=until, ended=ended)
        if until is not None
        else Why(Reason.LICENCE_RENEWED_NO_END, ended=ended)
    )
    restored = 0
    with transaction.atomic():
        # Compare-and-set: the one worker that clears the marker does the work; the
        # members told of the end applied were answered by it, so that marker goes too.
        done = Service.objects.filter(pk=service.pk, licence_end_applied_for=ended)
        if not done.update(licence_end_applied_for=None):
            return 0
        Service.objects.filter(pk=service.pk, licence_notice_sent_for=ended).update(
            licence_notice_sent_for=None
        )
        for account in suspended_by_end(service, ended):
            try:
                with transaction.atomic():
                    reprovision_account(account, cause=Cause.ENGINE, reason=reason)
                    announce.tell("licence_renewed", account, key=f"licence-renewed:{ended}")
                restored += 1
            except IllegalTransition as why:  # moved on meanwhile; logged, not fatal
                log.warning("licence renewal: account %s not restored: %s", account.pk, why)
            except WaitingForSeat as why:
                # A suspended account holds its seat, so this should not happen; if it
                # does, the account waits in the seat queue and is restored from there.
                log.warning("licence renewal: account %s waits for a seat: %s", account.pk, why)
    log.info(
        "licence end %s of %s lifted by a renewal: %d suspended accounts restored",
        ended,
        service.slug,
        restored,
    )
    return restored


def restored_by_renewal(account: Account) -> bool:
    """Whether the account's latest move out of suspension was a renewal's restore."""
    last = (
        AccountEvent.objects.filter(account=account, from_state=State.SUSPENDED)
        .order_by("-created_at", "-id")
        .values_list("cause", "reason_code")
        .first()
    )
    return last is not None and last[0] == Cause.ENGINE and last[1] in RESTORED


def sweep(today: datetime.date | None = None) -> SweepResult:
    """The schedule's pass over every service with an end date; ``today`` for tests."""
    today = today or timezone.localdate()
    notified = suspended = deprovisioned = restored = 0
    # Before the end dates below: a renewal restores first, so the renewed service is
    # not mistaken for one whose end is still to apply.
    for service in Service.objects.filter(licence_end_applied_for__isnull=False):
        if _renewed_after_end(service, today):
            restored += restore_renewed(service)
    for service in Service.objects.filter(licence_notice_sent_for__isnull=False):
        if _renewed(service):
            notified += notify_renewed(service)
    for service in Service.objects.filter(valid_until__isnull=False):
        assert service.valid_until is not None
        if today > service.valid_until:
            if service.licence_end_applied_for != service.valid_until:
                done = apply_end(service)
                suspended += done.suspended
                deprovisioned += done.deprovisioned
        elif (
            today >= service.valid_until - NOTICE_BEFORE
            and service.licence_notice_sent_for != service.valid_until
        ):
            notified += notify_ending(service)
    return SweepResult(notified, suspended, deprovisioned, restored)
