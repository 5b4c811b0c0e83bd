"""The seat cap (S16) and the first-come-first-served queue behind it.

``apply_for_service`` calls ``claim_seat`` inside its own transaction, so every apply
path (portal, CLI, campaigns, API, a freed seat's admission) respects ``Service.seats``.
``claim_seat`` locks the service row (``SELECT … FOR NO KEY UPDATE`` on PostgreSQL; on
SQLite every writer already runs one at a time, ``transaction_mode=IMMEDIATE``), then
counts: two applications for the last seat are decided one after the other, never
both on the same count (no check-then-act race). ``NO KEY``: the row lock must not
wait for the key-share locks that inserting an account, job or application takes on
the service row, or every apply would queue behind unrelated writes.

Who waits is a ``SeatWait`` row. Letting the queue in goes through the actions, which
call ``claim_seat``, so it is a module of its own above them: ``seat_admission``.
"""

from __future__ import annotations

import logging

from django.db.models import Q, QuerySet

from campusconf.accounts.models import Account
from campusconf.accounts.states import LIVE_STATES, State
from campusconf.core import clock
from campusconf.members.models import Member
from campusconf.provisioning.models import Campaign, SeatWait
from campusconf.services.models import Service

log = logging.getLogger("campusconf.provisioning")

# The one seat-counting rule (the back office's dashboard imports it): a seat is held by
# every live account except a failed one, which holds no working vendor user. Suspended
# accounts hold theirs: on Webex a deactivated user keeps its licence, and on Zoom
# (where deactivating drops the licence) the user is still ours and comes back with
# ``reprovision_account``, which must not find its seat given away to the queue.
SEAT_STATES = frozenset(LIVE_STATES - {State.FAILED})


class WaitingForSeat(Exception):
    """Every seat is taken (or others wait before): the member is queued at ``place``.

    Not a refusal: the application is recorded and is carried out when a seat frees.
    """

    def __init__(self, service: Service, place: int) -> None:
        super().__init__(f"all {service.seats} seats of {service.slug} are taken; place {place}")
        self.service = service
        self.place = place


def seats_used(service: Service) -> int:
    return Account.objects.filter(service=service, state__in=SEAT_STATES).count()


def waiting(service: Service) -> QuerySet[SeatWait]:
    return SeatWait.objects.filter(service=service, outcome=SeatWait.Outcome.WAITING)


def _ahead_of(wait: SeatWait) -> QuerySet[SeatWait]:
    return waiting(wait.service).filter(
        Q(created_at__lt=wait.created_at) | Q(created_at=wait.created_at, pk__lt=wait.pk)
    )


def place_in_queue(member: Member, service: Service) -> int | None:
    """1 is next in line; None when the member is not waiting."""
    wait = waiting(service).filter(member=member).first()
    return None if wait is None else _ahead_of(wait).count() + 1


def claim_seat(member: Member, service: Service, *, campaign: Campaign | None = None) -> int | None:
    """Inside the caller's transaction: None if the member may have a seat now, else
    their place in the queue (the SeatWait row is written, or kept, in that transaction).

    A member already holding a live account gets None, so ``open_account`` raises
    ``AccountAlreadyLive`` as it would without a cap.
    """
    return _claim(member, service, campaign=campaign, holds=Q(state__in=LIVE_STATES))


def claim_seat_for(account: Account) -> int | None:
    """The same locked check for an account that exists already (retry, re-provision).

    An account in a seat-holding state (``SEAT_STATES``: suspended, say) keeps its seat
    and needs no new one; a failed or removed one needs a free seat like any applicant,
    and otherwise waits in the same queue (admitted, ``seat_admission.admit_waiting`` carries out the
    retry or re-provision). The state is read again under the service's lock.
    """
    return _claim(account.member, account.service, holds=Q(pk=account.pk, state__in=SEAT_STATES))


def _claim(
    member: Member, service: Service, *, holds: Q, campaign: Campaign | None = None
) -> int | None:
    """``holds``: the member's accounts that, if any exists, need no new seat."""
    locked = Service.objects.select_for_update(no_key=True).only("pk", "seats").get(pk=service.pk)
    if locked.seats is None:
        # No cap (any more): whoever still waits goes in with this application.
        waiting(service).filter(member=member).update(
            outcome=SeatWait.Outcome.ADMITTED, decided_at=clock.now()
        )
        return None
    if Account.objects.filter(holds, member=member, service=service).exists():
        return None
    own = waiting(service).filter(member=member).first()
    ahead = _ahead_of(own).exists() if own else waiting(service).exists()
    if not ahead and seats_used(service) < locked.seats:
        if own is not None:
            SeatWait.objects.filter(pk=own.pk).update(
                outcome=SeatWait.Outcome.ADMITTED, decided_at=clock.now()
            )
        return None
    if own is None:
        own = SeatWait.objects.create(member=member, service=service, campaign=campaign)
    return _ahead_of(own).count() + 1


def waiting_in_campaign(campaign: Campaign) -> int:
    """How many of a campaign's members wait for a seat (its progress shows them)."""
    return SeatWait.objects.filter(campaign=campaign, outcome=SeatWait.Outcome.WAITING).count()


def leave_queue(member: Member, service: Service) -> bool:
    """The member no longer wants to wait; True if they were waiting."""
    left = (
        waiting(service)
        .filter(member=member)
        .update(
            outcome=SeatWait.Outcome.DROPPED,
            note="left the queue",
            decided_at=clock.now(),
        )
    )
    return bool(left)
