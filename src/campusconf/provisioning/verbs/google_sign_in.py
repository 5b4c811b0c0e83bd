"""The member's word for what Zoom cannot show: "I chose Sign in with Google" (S12).

When "Sign in with Google" leaves the university's Zoom user pending beside a personal
account of the member's own, Zoom's API shows an invitation still waiting, exactly as
if the member had done nothing (docs/vendors.md). So the portal asks, in the seed page's
words, and this action records the answer and starts the repair at once: the account
becomes unlicensed for that reason, then requested with a fresh invitation (S13), all in
one transaction. The fresh mail is Zoom's join request for the personal account
("Approve Request" → "Confirm and Switch").
"""

from __future__ import annotations

from django.db import transaction

from campusconf.accounts.lifecycle import IllegalTransition, transition
from campusconf.accounts.models import Account
from campusconf.accounts.reasons import Reason
from campusconf.accounts.states import Cause, State
from campusconf.core import clock
from campusconf.provisioning.verbs import audit_trail
from campusconf.provisioning.verbs.actions import resend_allowed, resend_invitation
from campusconf.provisioning.verbs.audit_trail import Who, user_of
from campusconf.services.models import Service


def report_google_sign_in(account: Account, *, actor: Who = None) -> bool:
    """Record the member's report on an invited Zoom account and, when the resend limits
    allow it now, queue the fresh invitation with it; returns whether it was queued.

    Raises IllegalTransition for any other account (another vendor, another state): the
    report is about a Zoom invitation still waiting.
    """
    if account.service.vendor != Service.Vendor.ZOOM or account.state != State.INVITED:
        raise IllegalTransition(account.state, State.UNLICENSED, Cause.MEMBER)
    with transaction.atomic():
        before = account.state
        reason = Reason.MEMBER_REPORTS_GOOGLE
        transition(
            account, State.UNLICENSED, cause=Cause.MEMBER, actor=user_of(actor), reason=reason
        )
        audit_trail.write_for_account(actor, "unlicensed", account, reason, before=before)
        allowed, _why = resend_allowed(account, clock.now())
        if allowed:
            resend_invitation(
                account,
                cause=Cause.MEMBER,
                actor=actor,
                reason=Reason.FRESH_INVITATION_AFTER_GOOGLE,
            )
    return allowed
