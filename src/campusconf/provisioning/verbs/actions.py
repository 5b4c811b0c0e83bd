"""The verbs every caller uses: portal, back office, JSON API, SCIM and the CLI.

Each action changes the account through ``lifecycle.transition`` (or
``open_account``), queues the job that carries the change out and writes the audit
entry naming its actor and reason (``audit_trail``), in ONE transaction: all commit or
none does. An illegal move raises ``IllegalTransition`` and changes nothing.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable

from django.db import transaction
from django.utils.translation import gettext as _

from campusconf.accounts.lifecycle import (
    AccountAlreadyLive,
    IllegalTransition,
    open_account,
    transition,
)
from campusconf.accounts.models import Account, AccountEvent, Application
from campusconf.accounts.reasons import Because, Reason
from campusconf.accounts.states import (
    RESENDABLE_STATES,
    RETRYABLE_STATES,
    Cause,
    DesiredState,
    State,
    allowed_causes,
)
from campusconf.core import clock
from campusconf.members.models import Member
from campusconf.provisioning.models import Campaign, Job, Lane
from campusconf.provisioning.queueing.job_queue import enqueue
from campusconf.provisioning.verbs import audit_trail, seats
from campusconf.provisioning.verbs.audit_trail import Who, user_of, waiting
from campusconf.provisioning.verbs.seats import WaitingForSeat
from campusconf.services.eligibility import check_eligibility
from campusconf.services.models import Service

__all__ = [
    "PRECONDITIONS",
    "AccountAlreadyLive",
    "IllegalTransition",
    "NotEligible",
    "WaitingForSeat",
    "apply_for_service",
    "deprovision_account",
    "permitted",
    "reconcile_account",
    "released_allowed",
    "released_elsewhere",
    "reprovision_account",
    "resend_allowed",
    "resend_invitation",
    "retry_account",
    "suspend_account",
]

# A member may ask for a resend once per 10 minutes and a few times a day.
RESEND_MIN_INTERVAL = datetime.timedelta(minutes=10)
RESEND_PER_DAY = 3
# "I have released it" (held_elsewhere): each press tries the create once more.
RELEASED_MIN_INTERVAL = datetime.timedelta(minutes=5)
RELEASED_PER_DAY = 5

User = Who  # a user, an audit Actor, or None: the engine itself


class NotEligible(Exception):
    """The member may not hold an account at this service; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def lane_for(cause: str, campaign: Campaign | None = None) -> int:
    if campaign is not None:
        return Lane.BULK
    return {Cause.MEMBER: Lane.MEMBER, Cause.STAFF: Lane.STAFF}.get(Cause(cause), Lane.ENGINE)


def apply_for_service(
    member: Member,
    service: Service,
    *,
    cause: Cause = Cause.MEMBER,
    actor: User = None,
    reason: Because = "",
    campaign: Campaign | None = None,
) -> Account:
    """Apply for ``service`` on the member's behalf (S1, S2).

    Checks eligibility (raises NotEligible), records an Application, opens or reopens
    the account in state requested and queues the provisioning job, in one
    transaction. Raises AccountAlreadyLive when the member already holds a live one,
    and WaitingForSeat (with the member's ``place``) when the service's seats are all
    taken: the member is then queued, first come first served, and admitted by the
    engine when a seat frees (``provisioning.verbs.seats``).
    """
    verdict = check_eligibility(member, service)
    if not verdict.eligible:
        raise NotEligible(verdict.reason)
    account: Account | None = None
    with transaction.atomic():
        # The seat cap (S16): decided under the service row's lock, in this transaction.
        place = seats.claim_seat(member, service, campaign=campaign)
        if place is None:
            account = open_account(
                member, service, cause=cause, actor=user_of(actor), reason=reason
            )
            Application.objects.create(
                member=member,
                service=service,
                account=account,
                outcome=Application.Outcome.ACCEPTED,
                decided_at=clock.now(),
            )
            enqueue(account, Job.Kind.SYNC, lane=lane_for(cause, campaign), campaign=campaign)
        if actor is not None:
            audit_trail.write(
                actor,
                "apply",
                account or member,
                reason,
                before="",
                after=account.state if account is not None else "",
                member=member.common_id,
                service=service.slug,
                **waiting(place),
            )
    if place is not None or account is None:
        # Raised after the commit, so the member's place in the queue is kept (and
        # the account is always opened when no place was given).
        raise WaitingForSeat(service, place or 0)
    return account


# What each staff-facing action needs of the account, read from the lifecycle table
# (``accounts.states``): the actions below refuse on these very checks, and the back
# office offers an action only where its check passes, so the two cannot drift apart.


def _can_resend(account: Account, cause: Cause) -> bool:
    return account.state in RESENDABLE_STATES and cause in allowed_causes(
        State(account.state), State.REQUESTED
    )


def _can_retry(account: Account, cause: Cause) -> bool:
    return account.state in RETRYABLE_STATES and cause in allowed_causes(
        State(account.state), State.REQUESTED
    )


def _can_suspend(account: Account, cause: Cause) -> bool:
    return cause in allowed_causes(State(account.state), State.SUSPENDED)


def _can_deprovision(account: Account, cause: Cause) -> bool:
    return account.state != State.REMOVED


def _can_reprovision(account: Account, cause: Cause) -> bool:
    return cause in allowed_causes(State(account.state), State.REQUESTED)


def _can_reconcile(account: Account, cause: Cause) -> bool:
    return True  # reading the vendor changes nothing by itself, whatever the state


PRECONDITIONS: dict[str, Callable[[Account, Cause], bool]] = {
    "resend_invitation": _can_resend,
    "retry_account": _can_retry,
    "suspend_account": _can_suspend,
    "deprovision_account": _can_deprovision,
    "reprovision_account": _can_reprovision,
    "reconcile_account": _can_reconcile,
}


def permitted(action: str, account: Account, cause: Cause) -> bool:
    """Whether ``action`` (a name in PRECONDITIONS) would accept the account as it is."""
    check = PRECONDITIONS.get(action)
    return check is not None and check(account, cause)


def resend_allowed(account: Account, now: datetime.datetime) -> tuple[bool, str]:
    """Whether a member may ask for a resend now (the portal enforces it), and why not."""
    if account.state not in RESENDABLE_STATES:
        return False, _("There is no invitation to send again for this account.")
    recent = AccountEvent.objects.filter(
        account=account,
        from_state__in=list(RESENDABLE_STATES),
        to_state=State.REQUESTED,
        cause=Cause.MEMBER,
        created_at__gte=now - datetime.timedelta(days=1),
    ).values_list("created_at", flat=True)
    times = sorted(recent)
    if times and now - times[-1] < RESEND_MIN_INTERVAL:
        return False, _("An invitation was sent again a few minutes ago; please wait 10 minutes.")
    if len(times) >= RESEND_PER_DAY:
        return False, _("The invitation was sent again too often today; please ask the help desk.")
    return True, ""


def released_allowed(account: Account, now: datetime.datetime) -> tuple[bool, str]:
    """Whether a member may say now that the account elsewhere is released (the portal
    enforces it): each time the vendor is asked again, so not every minute."""
    if account.state != State.HELD_ELSEWHERE:
        return False, _("There is nothing to check again for this account.")
    recent = sorted(
        AccountEvent.objects.filter(
            account=account,
            from_state=State.HELD_ELSEWHERE,
            to_state=State.REQUESTED,
            cause=Cause.MEMBER,
            created_at__gte=now - datetime.timedelta(days=1),
        ).values_list("created_at", flat=True)
    )
    if recent and now - recent[-1] < RELEASED_MIN_INTERVAL:
        return False, _("We asked the vendor a few minutes ago; please wait 5 minutes.")
    if len(recent) >= RELEASED_PER_DAY:
        return False, _("We asked the vendor too often today; please ask the help desk.")
    return True, ""


def _move(
    account: Account,
    target: State,
    *,
    cause: Cause,
    actor: User,
    reason: Because,
    verb: str,
    kind: str = Job.Kind.SYNC,
    **changes: object,
) -> Account:
    before = account.state
    with transaction.atomic():
        transition(account, target, cause=cause, actor=user_of(actor), reason=reason, **changes)
        enqueue(account, kind, lane=lane_for(cause))
        audit_trail.write_for_account(actor, verb, account, reason, before=before)
    return account


def resend_invitation(
    account: Account, *, cause: Cause, actor: User = None, reason: Because = ""
) -> Account:
    """Send a fresh invitation (S4, S13): back to requested, plus a re-invite job.

    Zoom has no resend: the job removes the pending user and creates it again; Webex
    likewise per its connector's capabilities.
    """
    if not _can_resend(account, cause):
        raise IllegalTransition(account.state, State.REQUESTED, cause)
    return _move(
        account,
        State.REQUESTED,
        cause=cause,
        actor=actor,
        reason=reason or Reason.RESEND,
        verb="resend",
        kind=Job.Kind.REINVITE,
    )


def retry_account(
    account: Account, *, cause: Cause, actor: User = None, reason: Because = ""
) -> Account:
    """A failed or held-elsewhere account: requested again, plus a provisioning job.

    A failed account holds no seat, so the retry takes one under the seat cap's lock
    (``seats.claim_seat_for``), or raises WaitingForSeat with the member queued; the
    queue's admission carries the retry out.
    """
    if not _can_retry(account, cause):
        raise IllegalTransition(account.state, State.REQUESTED, cause)
    return _move_with_seat(
        account, cause=cause, actor=actor, reason=reason or Reason.RETRY, changes={}, verb="retry"
    )


def released_elsewhere(
    account: Account, *, cause: Cause = Cause.MEMBER, actor: User = None, reason: Because = ""
) -> Account:
    """The account that held the address elsewhere was let go (the member says so on
    the portal): requested again, and the job asks the vendor once more. Should the
    address still be held, the account comes back to held_elsewhere; nothing loops."""
    if account.state != State.HELD_ELSEWHERE:
        raise IllegalTransition(account.state, State.REQUESTED, cause)
    return retry_account(
        account, cause=cause, actor=actor, reason=reason or Reason.RELEASED_ELSEWHERE
    )


def _move_with_seat(
    account: Account,
    *,
    cause: Cause,
    actor: User,
    reason: Because,
    changes: dict[str, object],
    verb: str,
) -> Account:
    """Back to requested, if the account holds or gets a seat; else WaitingForSeat."""
    before = account.state
    with transaction.atomic():
        place = seats.claim_seat_for(account)
        if place is None:
            transition(
                account,
                State.REQUESTED,
                cause=cause,
                actor=user_of(actor),
                reason=reason,
                **changes,
            )
            enqueue(account, Job.Kind.SYNC, lane=lane_for(cause))
        audit_trail.write_for_account(actor, verb, account, reason, before=before, **waiting(place))
    if place is not None:
        # Raised after the commit, so the member's place in the queue is kept.
        raise WaitingForSeat(account.service, place)
    return account


def deprovision_account(
    account: Account, *, cause: Cause, actor: User = None, reason: Because = ""
) -> Account:
    """Want the account gone: desired absent, and a job that removes the vendor user.

    An account still requested with no vendor user is removed at once by its job.
    """
    with transaction.atomic():
        locked = Account.objects.select_for_update().get(pk=account.pk)
        if not _can_deprovision(locked, cause):
            raise IllegalTransition(locked.state, State.REMOVED, cause)
        # Only the intent changes here; the state moves when the job removed the user.
        Account.objects.filter(pk=account.pk).update(desired_state=DesiredState.ABSENT)
        enqueue(locked, lane=lane_for(cause))
        audit_trail.write_for_account(actor, "deprovision", locked, reason, before=locked.state)
    account.refresh_from_db()
    return account


def suspend_account(
    account: Account, *, cause: Cause, actor: User = None, reason: Because = ""
) -> Account:
    """Suspend: the job disables sign-in at the vendor, keeping the user."""
    if not _can_suspend(account, cause):
        raise IllegalTransition(account.state, State.SUSPENDED, cause)
    return _move(
        account,
        State.SUSPENDED,
        cause=cause,
        actor=actor,
        reason=reason or Reason.SUSPEND,
        verb="suspend",
    )


def reprovision_account(
    account: Account, *, cause: Cause, actor: User = None, reason: Because = ""
) -> Account:
    """Suspended or removed → requested again; the job restores the vendor user.

    A suspended account still holds its seat (``seats.SEAT_STATES``); a removed one
    gave it up, so it needs a free seat like an applicant and otherwise waits in the
    queue (WaitingForSeat). An illegal move is refused before anyone is queued.
    """
    if not _can_reprovision(account, cause):
        raise IllegalTransition(account.state, State.REQUESTED, cause)
    return _move_with_seat(
        account,
        cause=cause,
        actor=actor,
        reason=reason or Reason.REPROVISION,
        changes={"desired_state": DesiredState.PRESENT},
        verb="reprovision",
    )


def reconcile_account(
    account: Account, *, cause: Cause = Cause.STAFF, actor: User = None, reason: Because = ""
) -> Account:
    """Re-read this one account at the vendor now and apply what it shows."""
    with transaction.atomic():
        enqueue(account, Job.Kind.OBSERVE, lane=lane_for(cause))
        audit_trail.write_for_account(actor, "reconcile", account, reason, before=account.state)
    return account
