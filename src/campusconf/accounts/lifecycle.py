"""Performing Account transitions: checked, locked, and recorded in one transaction.

Callers that must also enqueue work (the engine's jobs) call these inside their own
``transaction.atomic()`` block, so the state change and the job commit together.
"""

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.dispatch import Signal

from campusconf.accounts.models import Account, AccountEvent
from campusconf.accounts.reasons import Because, stored
from campusconf.accounts.states import LIVE_STATES, Cause, DesiredState, State, allowed_causes
from campusconf.members.models import Member
from campusconf.services.models import Service

# Fields a transition may set together with the state (vendor facts, timestamps, errors).
MUTABLE_FIELDS = frozenset(
    {
        "desired_state",
        "observed_state",
        "vendor_user_id",
        "vendor_address",
        "observed_login_type",
        "observed_licensed",
        "invitation_sent_at",
        "invitation_expires_at",
        "activated_at",
        "last_reconciled_at",
        "last_error_code",
        "last_error_reason",
        "last_error_params",
        "last_error_at",
    }
)


# Sent inside the transaction that changes an account's state, after its AccountEvent is
# written, with ``account`` (the locked, updated row) and ``event``. A receiver's writes
# commit or roll back with the change itself, so side effects such as mail notices
# (campusconf.portal.outbox) are queued exactly when the state changes, and the
# lifecycle needs to know nothing about them. A receiver that raises undoes the change.
account_transitioned = Signal()

# The same for many accounts at once: the engine's batch settle moves a batch of
# accounts with a few statements and sends this once, with ``events`` (the batch's
# AccountEvents, written, with their ids where the database returns them). Same
# contract as above: sent inside the transaction, after the accounts are updated, so a
# receiver's writes commit or roll back with the moves. An event carries its
# ``account_id``; a receiver that needs more of the account reads the rows itself, in
# one query for the batch. A receiver of state changes connects to both signals.
accounts_transitioned = Signal()


class IllegalTransition(Exception):
    """A transition the lifecycle does not allow; the message names both states."""

    def __init__(self, source: str, target: str, cause: str) -> None:
        # Plain strings: the message reads "'invited'", not "State.INVITED".
        self.source, self.target, self.cause = str(source), str(target), str(cause)
        allowed = sorted(map(str, allowed_causes(State(source), State(target)))) if source else []
        detail = f" (allowed causes: {', '.join(allowed)})" if allowed else ""
        super().__init__(
            f"an account cannot go from {self.source or 'nothing'!r} to {self.target!r} "
            f"by cause {self.cause!r}{detail}"
        )


class AccountAlreadyLive(Exception):
    def __init__(self, account: Account) -> None:
        self.account = account
        super().__init__(
            f"member {account.member.common_id} already has a live account at "
            f"{account.service.slug} (state {account.state!r})"
        )


def _actor_id(actor: AbstractBaseUser | None) -> Any:
    return actor.pk if actor is not None else None


def _reason_fields(reason: Because) -> dict[str, Any]:
    code, params = stored(reason)
    return {"reason_code": code, "reason_params": params}


def transition(
    account: Account,
    target: State,
    *,
    cause: Cause,
    actor: AbstractBaseUser | None = None,
    reason: Because = "",
    **changes: Any,
) -> AccountEvent:
    """Move ``account`` to ``target``, or raise IllegalTransition and change nothing.

    The row is re-read under a lock, so a caller holding a stale copy cannot undo a
    concurrent change: the check is made against the state in the database. ``reason``
    is a code (``Reason``, or ``Why`` with parameters), or a person's own words.
    """
    unknown = set(changes) - MUTABLE_FIELDS
    if unknown:
        raise TypeError(f"transition() cannot set {', '.join(sorted(unknown))}")
    with transaction.atomic():
        locked = Account.objects.select_for_update().get(pk=account.pk)
        source = State(locked.state)
        if cause not in allowed_causes(source, target):
            raise IllegalTransition(source, target, cause)
        locked.state = target
        for field, value in changes.items():
            setattr(locked, field, value)
        locked.save(update_fields=["state", "updated_at", *changes])
        event = AccountEvent.objects.create(
            account=locked,
            from_state=source,
            to_state=target,
            cause=cause,
            actor_id=_actor_id(actor),
            **_reason_fields(reason),
        )
        account_transitioned.send(sender=Account, account=locked, event=event)
    account.refresh_from_db()
    return event


def open_account(
    member: Member,
    service: Service,
    *,
    cause: Cause,
    actor: AbstractBaseUser | None = None,
    reason: Because = "",
) -> Account:
    """Create the member's account at ``service`` in state requested, or reopen a removed one.

    Raises AccountAlreadyLive when the member already holds a live account there.
    """
    with transaction.atomic():
        account, created = Account.objects.select_for_update().get_or_create(
            member=member,
            service=service,
            defaults={"state": State.REQUESTED, "desired_state": DesiredState.PRESENT},
        )
        if created:
            event = AccountEvent.objects.create(
                account=account,
                from_state="",
                to_state=State.REQUESTED,
                cause=cause,
                actor_id=_actor_id(actor),
                **_reason_fields(reason),
            )
            account_transitioned.send(sender=Account, account=account, event=event)
            return account
        if account.state in LIVE_STATES:
            raise AccountAlreadyLive(account)
        transition(
            account,
            State.REQUESTED,
            cause=cause,
            actor=actor,
            reason=reason,
            desired_state=DesiredState.PRESENT,
            vendor_user_id="",
            observed_state=Account.Observed.UNKNOWN,
        )
        return account


def replay(events: list[AccountEvent]) -> str:
    """The state the events lead to; it must equal the account's stored state."""
    state = ""
    for event in events:
        if event.from_state != state:
            raise ValueError(
                f"event {event.pk} starts from {event.from_state!r} but the replay is at {state!r}"
            )
        state = event.to_state
    return state
