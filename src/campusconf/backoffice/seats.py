"""The seat cap (S16) and the first-come-first-served queue behind it.

``apply_within_seats`` is the apply path that respects ``Service.seats``: it locks the
service row, so two applications for the last seat are decided one after the other
(no check-then-act race), and either applies through the engine's
``apply_for_service`` in the same transaction or puts the member in the queue.
``admit_waiting`` lets the queue in, oldest first, when seats free up (more seats in
the licence terms, or accounts removed).

It lives beside the back office only because the engine's module is not ours to
edit; the portal and the engine should call these instead of ``apply_for_service``
when a service has a seat limit.
"""

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from campusconf.accounts.lifecycle import AccountAlreadyLive
from campusconf.accounts.models import Account
from campusconf.accounts.states import LIVE_STATES, Cause
from campusconf.backoffice.models import SeatWait
from campusconf.backoffice.queries import SEAT_STATES
from campusconf.members.models import Member
from campusconf.provisioning.actions import NotEligible, apply_for_service
from campusconf.services.eligibility import check_eligibility
from campusconf.services.models import Service


@dataclass(frozen=True)
class SeatDecision:
    account: Account | None  # applied: the account being provisioned
    place: int | None  # waiting: 1 is next in line


def _used(service: Service) -> int:
    return Account.objects.filter(service=service, state__in=SEAT_STATES).count()


def _waiting(service: Service) -> QuerySet[SeatWait]:
    return SeatWait.objects.filter(service=service, outcome=SeatWait.Outcome.WAITING)


def place_in_queue(member: Member, service: Service) -> int | None:
    wait = _waiting(service).filter(member=member).first()
    if wait is None:
        return None
    earlier = _waiting(service).filter(created_at__lt=wait.created_at).count()
    same_time = _waiting(service).filter(created_at=wait.created_at, pk__lt=wait.pk).count()
    return earlier + same_time + 1


def apply_within_seats(
    member: Member,
    service: Service,
    *,
    cause: Cause = Cause.MEMBER,
    actor: AbstractBaseUser | None = None,
    reason: str = "",
) -> SeatDecision:
    """Apply now if a seat is free and nobody is waiting before; otherwise queue.

    Raises NotEligible and AccountAlreadyLive like ``apply_for_service``.
    """
    with transaction.atomic():
        # The lock every application for this service queues behind.
        locked = Service.objects.select_for_update().get(pk=service.pk)
        if locked.seats is not None:
            verdict = check_eligibility(member, locked)
            if not verdict.eligible:
                raise NotEligible(verdict.reason)
            live = Account.objects.filter(
                member=member, service=locked, state__in=list(LIVE_STATES)
            ).first()
            if live is not None:
                raise AccountAlreadyLive(live)
            others = _waiting(locked).exclude(member=member).exists()
            if others or _used(locked) >= locked.seats:
                SeatWait.objects.get_or_create(
                    member=member, service=locked, outcome=SeatWait.Outcome.WAITING
                )
                return SeatDecision(None, place_in_queue(member, locked))
            _waiting(locked).filter(member=member).update(
                outcome=SeatWait.Outcome.ADMITTED, decided_at=timezone.now()
            )
        account = apply_for_service(member, locked, cause=cause, actor=actor, reason=reason)
        return SeatDecision(account, None)


def admit_waiting(service: Service) -> list[Account]:
    """Let waiting members in, oldest first, while seats are free."""
    admitted: list[Account] = []
    with transaction.atomic():
        locked = Service.objects.select_for_update().get(pk=service.pk)
        free = None if locked.seats is None else locked.seats - _used(locked)
        for wait in _waiting(locked).select_related("member").order_by("created_at", "id"):
            if free is not None and free <= 0:
                break
            outcome, note = SeatWait.Outcome.ADMITTED, ""
            try:
                with transaction.atomic():
                    admitted.append(
                        apply_for_service(
                            wait.member,
                            locked,
                            cause=Cause.MEMBER,
                            reason=f"seat freed; waiting since {wait.created_at:%Y-%m-%d %H:%M}",
                        )
                    )
                if free is not None:
                    free -= 1
            except (NotEligible, AccountAlreadyLive) as why:
                outcome, note = SeatWait.Outcome.DROPPED, str(why)[:200]
            SeatWait.objects.filter(pk=wait.pk).update(
                outcome=outcome, note=note, decided_at=timezone.now()
            )
    return admitted
