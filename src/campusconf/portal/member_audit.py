"""What members do to their own accounts goes into the audit log beside what staff do,
so "who did this" has one answer. Written from the lifecycle's signal, inside the
change's own transaction: the entry and the change commit together."""

from typing import Any

from campusconf.accounts.models import Account, AccountEvent
from campusconf.accounts.states import RESENDABLE_STATES, Cause, State
from campusconf.audit.log import record


def _action(event: AccountEvent) -> str:
    if event.to_state == State.REQUESTED:
        if event.from_state in ("", State.REMOVED):
            return "member.apply"
        return "member.resend" if event.from_state in RESENDABLE_STATES else "member.retry"
    return f"member.{event.to_state}"


def on_transition(sender: Any, account: Account, event: AccountEvent, **kwargs: Any) -> None:
    # Only what a signed-in member did: the entry names the person (the portal passes
    # them as the actor); a change without one has no one to name.
    if event.cause != Cause.MEMBER or event.actor_id is None:
        return
    record(
        event.actor,
        _action(event),
        account,
        event.reason or "the member's own request in the portal",
        from_state=event.from_state,
        to_state=event.to_state,
    )
