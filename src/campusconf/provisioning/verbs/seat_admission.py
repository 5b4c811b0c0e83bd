"""Letting the seat queue in (S16): when seats are free, the members waiting longest
get the account, through the actions (which take the seat with ``seats.claim_seat``).

Run right after the licence terms give more seats, and from the workers' ``seats``
schedule every minute, which also covers accounts removed by a job or a reconcile
pass. The schedule is the durable part: whatever frees a seat, the queue moves within
a minute, even if the process that freed it died.
"""

from __future__ import annotations

import logging

from django.db import transaction

from campusconf.accounts.lifecycle import AccountAlreadyLive, IllegalTransition
from campusconf.accounts.models import Account
from campusconf.accounts.reasons import Reason, Why
from campusconf.accounts.states import Cause, State
from campusconf.core import clock
from campusconf.provisioning.models import SeatWait
from campusconf.provisioning.verbs import announce, seats
from campusconf.provisioning.verbs.actions import (
    NotEligible,
    WaitingForSeat,
    apply_for_service,
    retry_account,
)
from campusconf.services.eligibility import check_eligibility
from campusconf.services.models import Service

log = logging.getLogger("campusconf.provisioning")


def admit_waiting(service: Service) -> list[Account]:
    """Let waiting members in, oldest first, while seats are free.

    Each admission is the engine's own action, in a savepoint: ``apply_for_service``
    (which takes the seat through ``claim_seat`` and queues the job; a removed account
    is reopened), or ``retry_account`` for a failed account whose retry was queued. A
    member who can no longer have the account is dropped from the queue with the
    reason, the rest go on. The member is told by one mail, ``seat_available``: the
    lifecycle's "application received" notice is withheld, as it would say less.
    """
    admitted: list[Account] = []
    with transaction.atomic():
        locked = Service.objects.select_for_update(no_key=True).get(pk=service.pk)
        free = None if locked.seats is None else locked.seats - seats.seats_used(locked)
        for wait in (
            seats.waiting(locked).select_related("member", "campaign").order_by("created_at", "id")
        ):
            if free is not None and free <= 0:
                break
            reason = Why(Reason.SEAT_FREED, since=f"{wait.created_at:%Y-%m-%d %H:%M}")
            failed = Account.objects.filter(
                member=wait.member, service=locked, state=State.FAILED
            ).first()
            try:
                with transaction.atomic(), announce.withheld("application_received"):
                    if failed is not None:
                        verdict = check_eligibility(wait.member, locked)
                        if not verdict.eligible:
                            raise NotEligible(verdict.reason)
                        account = retry_account(failed, cause=Cause.ENGINE, reason=reason)
                    else:
                        account = apply_for_service(
                            wait.member,
                            locked,
                            cause=Cause.STAFF if wait.campaign_id else Cause.MEMBER,
                            reason=reason,
                            campaign=wait.campaign,
                        )
                    announce.tell("seat_available", account, key=str(wait.pk))
            except WaitingForSeat:
                break  # the count said free, the claim says full: stop, the sweep retries
            except (NotEligible, AccountAlreadyLive, IllegalTransition) as why:
                SeatWait.objects.filter(pk=wait.pk).update(
                    outcome=SeatWait.Outcome.DROPPED,
                    note=str(why)[:200],
                    decided_at=clock.now(),
                )
                log.info("seat queue: %s dropped from %s: %s", wait.member_id, locked.slug, why)
                continue
            admitted.append(account)
            if free is not None:
                free -= 1
    if admitted:
        log.info("seat queue: %d admitted to %s", len(admitted), service.slug)
    return admitted


def admit_everywhere() -> int:
    """The schedule's sweep: every capped service with someone waiting."""
    count = 0
    ids = (
        SeatWait.objects.filter(outcome=SeatWait.Outcome.WAITING)
        .values_list("service_id", flat=True)
        .distinct()
    )
    for service in Service.objects.filter(pk__in=list(ids)):
        count += len(admit_waiting(service))
    return count
