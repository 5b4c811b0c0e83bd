"""The card that follows the member: which cards refresh themselves, and how a refresh
tells a changed card from an unchanged one without drawing it.

A card whose account waits on the member or the vendor carries a version (its step and
the account's last change); the page asks for the card every ``POLL_SECONDS`` with the
version it shows, and gets 204 (htmx swaps nothing) until the version moves. A settled
card carries none, so its refreshing stops. What the engine does meanwhile to notice the
change soon is ``provisioning.engine.watch``.

Most polls find nothing new, so an unchanged card is told from the account's row alone
(``unchanged``), without working out the step or drawing anything: a waiting step's
kind is its account's state (``WAITING_STATES``), so the row's state and last change
are the whole version.
"""

import datetime

from campusconf.accounts.models import Account
from campusconf.accounts.states import State
from campusconf.portal.next_step import NextStep

# Steps that end by themselves, through the member's mail, the vendor or the engine.
WAITING_KINDS = frozenset(
    {"requested", "waiting", "invited", "conversion_pending", "unlicensed", "held_elsewhere"}
)
# The waiting kinds an account shows, each named as its state ("waiting" is a member
# in the seat queue, with no live account: its card is worked out every time).
WAITING_STATES = frozenset(
    {
        State.REQUESTED,
        State.INVITED,
        State.CONVERSION_PENDING,
        State.UNLICENSED,
        State.HELD_ELSEWHERE,
    }
)
POLL_SECONDS = 5


def _stamp(changed: datetime.datetime | None) -> int:
    return int(changed.timestamp() * 1000) if changed else 0


def version(step: NextStep) -> str:
    """The card's version while it waits; "" for a settled card (no refresh)."""
    if step.kind not in WAITING_KINDS:
        return ""
    changed = step.account.updated_at if step.account is not None else None
    return f"{step.kind}.{_stamp(changed)}"


def unchanged(account: Account | None, shown: str) -> bool:
    """Whether a card showing version ``shown`` still shows this account as it is.

    True only where ``version`` of the account's step would give ``shown`` again; False
    means "work the step out", never a wrong 204.
    """
    if account is None or account.state not in WAITING_STATES or not shown:
        return False
    return shown == f"{account.state}.{_stamp(account.updated_at)}"
