"""A member who changed their address at the vendor (S9): the engine puts it back.

Webex takes the organisation's licences away when a person changes the address on
their profile, and a resend cannot help a person who has signed in (it only re-invites
pending users). An admin may write a person's ``emails`` (docs/vendors.md, "A changed
address"), so the engine makes the university address the person's address again and
gives the licence back: the member keeps their account, and is told once, when it is
done — or, when the vendor refuses (the address is now another person's), what only
they can do.
"""

from __future__ import annotations

from dataclasses import replace

from campusconf.accounts.lifecycle import transition
from campusconf.accounts.models import Account
from campusconf.accounts.reasons import Reason, Why, error_fields
from campusconf.accounts.states import Cause, State
from campusconf.connectors import outcomes as o
from campusconf.connectors.base import RestoresAddress, VendorUser
from campusconf.core import clock
from campusconf.provisioning.engine.steps import Done, Step, count_call, failure_step
from campusconf.provisioning.verbs import announce


def restore(conn: RestoresAddress, account: Account, user: VendorUser, address: str) -> Step:
    """Put ``address`` (the member's university address) back on ``user`` with the
    licence, and move the account to active; or say why not."""
    changed_to = user.email
    out = conn.restore_address(user.vendor_id or user.email, address)
    count_call(account.service_id, out)
    if isinstance(out, o.Ok):
        restored = replace(out.user or user, email=address, licensed=True)
        transition(
            account,
            State.ACTIVE,
            cause=Cause.ENGINE,
            reason=Why(Reason.ADDRESS_RESTORED, address=changed_to),
            observed_state=Account.Observed.ACTIVE,
            observed_licensed=True,
            vendor_address=restored.email,
            vendor_user_id=restored.vendor_id or account.vendor_user_id,
            activated_at=account.activated_at or clock.now(),
            last_error_code="",
            last_error_reason="",
        )
        return Done("address and licence put back (S9)")
    if isinstance(out, o.Rejected | o.AlreadyExists):
        return refused(account, changed_to, out)
    return failure_step(account.service_id, out, "update")


def refused(account: Account, changed_to: str, out: o.Outcome) -> Step:
    """The vendor will not take the address back: only the member can (their profile).

    The account stays (or becomes) unlicensed, the vendor's words are its last error,
    and the member is told once per change of address."""
    detail = getattr(out, "reason", "") or type(out).__name__
    errors = {
        "last_error_code": "address",
        **error_fields(Why(Reason.ADDRESS_NOT_RESTORED, detail=detail)),
        "last_error_at": clock.now(),
        "vendor_address": changed_to,
        "observed_licensed": False,
    }
    if account.state == State.UNLICENSED:
        Account.objects.filter(pk=account.pk).update(**errors)
        account.refresh_from_db()
    else:
        transition(
            account,
            State.UNLICENSED,
            cause=Cause.ENGINE,
            reason=Why(Reason.ADDRESS_NOT_RESTORED, detail=detail),
            **errors,
        )
    announce.tell("address_not_restored", account, key=changed_to.lower())
    return Done("the vendor would not put the address back (S9)")
