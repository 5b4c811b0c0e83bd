"""The card that follows the member: which cards refresh themselves, and how a refresh
tells a changed card from an unchanged one without drawing it.

A card whose account waits on the member or the vendor carries a version (its step and
the account's last change); the page asks for the card every ``POLL_SECONDS`` with the
version it shows, and gets 204 (htmx swaps nothing) until the version moves. A settled
card carries none, so its refreshing stops. What the engine does meanwhile to notice the
change soon is ``provisioning.engine.watch``.
"""

from campusconf.portal.next_step import NextStep

# Steps that end by themselves, through the member's mail, the vendor or the engine.
WAITING_KINDS = frozenset(
    {"requested", "waiting", "invited", "conversion_pending", "unlicensed", "held_elsewhere"}
)
POLL_SECONDS = 5


def version(step: NextStep) -> str:
    """The card's version while it waits; "" for a settled card (no refresh)."""
    if step.kind not in WAITING_KINDS:
        return ""
    changed = step.account.updated_at if step.account is not None else None
    return f"{step.kind}.{int(changed.timestamp() * 1000) if changed else 0}"
