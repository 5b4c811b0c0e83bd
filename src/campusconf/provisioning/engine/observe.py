"""What a vendor user tells us about an account: one judgement, used by reconcile
passes, single-account observe jobs and the provisioning job alike.
"""

from __future__ import annotations

import datetime
from collections.abc import Container
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from campusconf.accounts.models import Account
from campusconf.accounts.reasons import Because, Reason, Why
from campusconf.accounts.states import DesiredState, State
from campusconf.connectors.base import UserState, VendorUser

OBS = {
    UserState.PENDING: Account.Observed.PENDING,
    UserState.ACTIVE: Account.Observed.ACTIVE,
    UserState.INACTIVE: Account.Observed.INACTIVE,
}
WAITING = (State.INVITED, State.CONVERSION_PENDING)


@dataclass
class Verdict:
    target: State | None = None
    reason: Because = ""
    changes: dict[str, Any] = field(default_factory=dict)
    needs_job: bool = False

    @property
    def empty(self) -> bool:
        return self.target is None and not self.changes


class Facts(NamedTuple):
    """What ``judge`` reads of an account, with its two dates already decided.

    A reconcile pass reads these straight from the database for every account (the
    dates compared there, in SQL): no model instance and no datetime per account.
    """

    state: str
    desired_state: str
    observed_state: str
    vendor_user_id: str
    vendor_address: str
    observed_licensed: bool | None
    observed_login_type: str
    invitation_expired: bool  # invitation_expires_at is set and before now
    activated: bool  # activated_at is set

    @classmethod
    def of(cls, account: Account, now: datetime.datetime) -> Facts:
        expires = account.invitation_expires_at
        return cls(
            account.state,
            account.desired_state,
            account.observed_state,
            account.vendor_user_id,
            account.vendor_address,
            account.observed_licensed,
            account.observed_login_type,
            expires is not None and expires < now,
            account.activated_at is not None,
        )


def wrong_way(user: VendorUser, addresses: Container[str]) -> Reason | Why | None:
    """Why an active vendor user does not give the member the university licence.

    The licence is what matters (S12's harm is "the Pro licence will not be valid"): a
    member who signed in with Google into the university's account and holds its
    licence is fine. ``login_types`` only name the cause for the member (the portal).
    """
    if not user.licensed:
        if "google" in user.login_types:
            return Reason.GOOGLE_SIGN_IN
        return Reason.NO_LICENCE
    if user.email and user.email.lower() not in addresses:
        return Why(Reason.ADDRESS_CHANGED, address=user.email)
    return None


def address_moved(account: Facts, user: VendorUser, addresses: Container[str]) -> bool:
    """The member changed the address of their active vendor user (S9): to one that is
    not theirs, or from the address we knew to an alias, losing the licence with it."""
    if user.state != UserState.ACTIVE or user.partial or not user.email:
        return False
    email = user.email.lower()
    if email not in addresses:
        return True
    known = account.vendor_address.lower()
    return not user.licensed and bool(known) and known != email


def judge(
    account: Account,
    user: VendorUser | None,
    addresses: Container[str],
    now: datetime.datetime,
    *,
    restorable: bool = False,
) -> Verdict:
    """The transition and observed fields ``user`` calls for; empty when nothing changed.

    ``addresses`` are the member's addresses, lower-cased. Accounts in requested,
    suspended or removed belong to their job, and get only observed fields.
    ``restorable``: the service's connector can put a changed address back (S9).
    """
    return judge_facts(Facts.of(account, now), user, addresses, now, restorable=restorable)


def judge_facts(
    account: Facts,
    user: VendorUser | None,
    addresses: Container[str],
    now: datetime.datetime,
    *,
    restorable: bool = False,
) -> Verdict:
    """``judge`` on an account's ``Facts``; ``now`` only dates an activation."""
    v = Verdict()
    observed = OBS[user.state] if user else Account.Observed.ABSENT
    if account.observed_state != observed:
        v.changes["observed_state"] = observed
    if user is not None:
        if user.vendor_id and account.vendor_user_id != user.vendor_id:
            v.changes["vendor_user_id"] = user.vendor_id
        # A partial user (Zoom's pending user read alone) left these out: unknown, kept.
        if user.email and account.vendor_address.lower() != user.email.lower():
            v.changes["vendor_address"] = user.email
        if not user.partial and account.observed_licensed != user.licensed:
            v.changes["observed_licensed"] = user.licensed
        login = ",".join(user.login_types)
        # Zoom's listing omits login types (only a single-user read has them): an
        # empty tuple means "not reported", not "none".
        if login and account.observed_login_type != login:
            v.changes["observed_login_type"] = login
    state = State(account.state)
    expired = account.invitation_expired
    if state == State.HELD_ELSEWHERE and user is not None:
        # The address's account elsewhere was let go, or joined us (Zoom's join request):
        # the provisioning job links the user it now finds and moves the account on.
        v.target, v.reason = State.REQUESTED, Reason.VENDOR_SHOWS_USER
        v.needs_job = True
        return v
    if user is None:
        if state in WAITING and expired:
            v.target, v.reason = State.INVITATION_EXPIRED, Reason.INVITATION_EXPIRED
        elif state in (*WAITING, State.ACTIVE, State.UNLICENSED) and (
            account.desired_state == DesiredState.PRESENT
        ):
            v.target, v.reason = State.REQUESTED, Reason.GONE_AT_VENDOR
            v.changes["vendor_user_id"] = ""
            v.needs_job = True
    elif user.state == UserState.PENDING:
        if state in WAITING and expired:
            v.target, v.reason = State.INVITATION_EXPIRED, Reason.INVITATION_EXPIRED
        elif (
            state == State.FAILED and not expired and account.desired_state == DesiredState.PRESENT
        ):
            # The job gave up while the vendor did not list the user yet (S15): the
            # invitation it sent stands, and the member can still use its link.
            v.target, v.reason = State.INVITED, Reason.FOUND_PENDING
    elif user.state == UserState.ACTIVE and not user.partial:
        # (An active user whose licence or address was left out decides nothing.)
        wrong = wrong_way(user, addresses)
        if (
            restorable
            and state in (State.INVITED, State.ACTIVE)
            and account.desired_state == DesiredState.PRESENT
            and address_moved(account, user, addresses)
        ):
            # S9 where an admin may put the address back: the job does, at once; the
            # member hears of it once, when it is done (or when the vendor refuses).
            v.target = State.UNLICENSED
            v.reason = Why(Reason.ADDRESS_BEING_RESTORED, address=user.email)
            v.needs_job = True
        elif wrong is not None and state in (State.INVITED, State.ACTIVE):
            v.target, v.reason = State.UNLICENSED, wrong
        elif wrong is None and state in (*WAITING, State.INVITATION_EXPIRED, State.UNLICENSED):
            v.target, v.reason = State.ACTIVE, Reason.MEMBER_ACTIVATED
            if not account.activated:
                v.changes["activated_at"] = now
        elif wrong is None and state == State.FAILED:
            v.target, v.reason = State.ACTIVE, Reason.FOUND_ACTIVE
    elif user.state == UserState.INACTIVE and state == State.ACTIVE:
        v.target, v.reason = State.UNLICENSED, Reason.SIGN_IN_DISABLED
    return v
