"""Carrying out one account job: re-read the account, converge it with the vendor.

Exactly once: a user is created only after a look-up whenever an earlier attempt may
have created it (any attempt but a fresh job's first, or a known vendor id); the
vendor id is stored in its own commit the moment it is known; and the unique live
job per account plus its lease mean no two workers act on one account at once.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from django.db import transaction

from campusconf.accounts.lifecycle import transition
from campusconf.accounts.models import Account
from campusconf.accounts.reasons import Reason
from campusconf.accounts.states import Cause, DesiredState, State
from campusconf.connectors import outcomes as o
from campusconf.connectors.base import (
    Connector,
    RestoresAddress,
    UserSpec,
    UserState,
    VendorUser,
)
from campusconf.core import clock
from campusconf.provisioning.conf import engine_setting
from campusconf.provisioning.engine import address_restore, observe, vendors
from campusconf.provisioning.engine import held_elsewhere as held
from campusconf.provisioning.engine.steps import Done, Retry, Step, count_call, failure_step
from campusconf.provisioning.models import Job
from campusconf.provisioning.queueing.job_queue import enqueue

log = logging.getLogger("campusconf.provisioning")


def ordered_addresses(rows: Iterable[tuple[str, bool]]) -> list[str]:
    """(address, is primary) pairs as the vendor is asked: the university address,
    then the aliases in order."""
    rows = list(rows)
    primary = [address for address, is_primary in rows if is_primary][:1]
    return primary + sorted(address for address, is_primary in rows if not is_primary)


def addresses_of(account: Account) -> list[str]:
    """One query, none when the caller prefetched ``member__addresses``."""
    return ordered_addresses((a.address, a.is_primary) for a in account.member.addresses.all())


def user_spec(addresses: list[str], given: str, family: str) -> UserSpec:
    """The user to create: the first of ``ordered_addresses`` and the Latin names
    (the display name as ``Member.display_name_latin`` forms it)."""
    return UserSpec(
        email=addresses[0] if addresses else "",
        first_name=given,
        last_name=family,
        display_name=f"{given} {family}".strip(),
    )


def spec_of(account: Account) -> UserSpec:
    member = account.member
    return user_spec(addresses_of(account), member.given_name_latin, member.family_name_latin)


def load_account(account_id: int) -> Account | None:
    """The account with what a job reads of it (member, addresses, service)."""
    return (
        Account.objects.select_related("member", "service")
        .prefetch_related("member__addresses")
        .filter(pk=account_id)
        .first()
    )


def will_create(job: Job, state: str, desired_state: str, vendor_user_id: str) -> bool:
    """True when the job's whole work is one create: a fresh job's first attempt for a
    requested account with no vendor id (nothing earlier can have created the user)."""
    return (
        state == State.REQUESTED
        and desired_state != DesiredState.ABSENT
        and not vendor_user_id
        and job.attempts <= 1
        and job.kind in (Job.Kind.SYNC, Job.Kind.OBSERVE)
    )


def record_vendor_id(account: Account, user: VendorUser) -> None:
    """Store the vendor id at once, in its own commit, before anything else can fail."""
    if user.vendor_id and user.vendor_id != account.vendor_user_id:
        address = user.email or account.vendor_address  # a partial user may lack it
        Account.objects.filter(pk=account.pk).update(
            vendor_user_id=user.vendor_id, vendor_address=address
        )
        account.vendor_user_id, account.vendor_address = user.vendor_id, address


def locate(conn: Connector, account: Account) -> tuple[VendorUser | None, Step | None]:
    """The account's vendor user by id, then by address and aliases; or a failure."""
    if account.vendor_user_id:
        out = conn.get_user(account.vendor_user_id)
        count_call(account.service_id, out)
        if isinstance(out, o.Ok) and out.user is not None:
            return out.user, None
        if not isinstance(out, o.NotFound):
            return None, failure_step(account.service_id, out, "get")
    out = conn.find_by_address(addresses_of(account))
    count_call(account.service_id, out)
    if isinstance(out, o.Ok) and out.user is not None:
        record_vendor_id(account, out.user)
        return out.user, None
    if isinstance(out, o.NotFound):
        return None, None
    return None, failure_step(account.service_id, out, "find")


def arrival(
    user: VendorUser, now: datetime.datetime, activated_at: datetime.datetime | None, days: int
) -> tuple[State, dict[str, Any]]:
    """The state and fields of requested → invited or active, once the vendor user
    exists; ``activated_at`` is the account's, ``days`` its service's invitation validity."""
    if user.state == UserState.ACTIVE:
        return State.ACTIVE, {
            "observed_state": Account.Observed.ACTIVE,
            "activated_at": activated_at or now,
        }
    # Webex reports a conversion (S7) only in its mail; the API shows a pending person,
    # so the engine cannot tell conversion_pending apart (docs/engine.md).
    return State.INVITED, {
        "observed_state": Account.Observed.PENDING,
        "invitation_sent_at": now,
        "invitation_expires_at": now + datetime.timedelta(days=days),
        "last_error_code": "",
        # A blank code shows no error; its parameters stay until the next failure
        # writes both (and a dict would not do as a key of the batch settle's moves).
        "last_error_reason": "",
    }


def _arrival_of(
    account: Account, user: VendorUser, now: datetime.datetime
) -> tuple[State, dict[str, Any]]:
    return arrival(user, now, account.activated_at, account.service.invitation_validity_days)


def _arrived(account: Account, user: VendorUser, reason: Reason) -> Step:
    """Requested → invited or active, once the vendor user exists."""
    target, changes = _arrival_of(account, user, clock.now())
    transition(account, target, cause=Cause.ENGINE, reason=reason, **changes)
    return Done(str(target))


def _reactivated(account: Account, user: VendorUser) -> Step:
    """Requested → active (the user had signed in) or invited (a Webex person disabled
    before signing in): the invitation it had stands, none was sent now."""
    now = clock.now()
    target, changes = _arrival_of(account, user, now)
    if target == State.INVITED and account.invitation_sent_at:
        changes["invitation_sent_at"] = account.invitation_sent_at
        changes["invitation_expires_at"] = account.invitation_expires_at
    transition(
        account, target, cause=Cause.ENGINE, reason=Reason.VENDOR_USER_REACTIVATED, **changes
    )
    return Done(f"{target} (reactivated)")


def provision(conn: Connector, account: Account, job: Job) -> Step:
    maybe_exists = bool(account.vendor_user_id) or job.attempts > 1 or job.kind == Job.Kind.REINVITE
    user: VendorUser | None = None
    if maybe_exists:
        user, step = locate(conn, account)
        if step is not None:
            return step
    if user is not None and user.state == UserState.PENDING and job.kind == Job.Kind.REINVITE:
        out = conn.reinvite(as_intended(user, account))
        count_call(account.service_id, out)
        if isinstance(out, o.Created):
            record_vendor_id(account, out.user)
            return _arrived(account, out.user, Reason.INVITATION_RESENT)
        if isinstance(out, o.Ok):
            return _arrived(account, user, Reason.INVITATION_RESENT)
        if isinstance(out, o.AlreadyExists | o.HeldElsewhere):
            return after_create(conn, account, job, out)  # the address went elsewhere
        return failure_step(account.service_id, out, "create")
    if user is not None and user.state == UserState.INACTIVE:
        # Suspended earlier (re-provision, a licence renewal): bring back the same user,
        # so the member keeps meetings, recordings and settings and is not invited again.
        out = conn.reactivate(user.vendor_id or user.email)
        count_call(account.service_id, out)
        if isinstance(out, o.Ok):
            return _reactivated(account, out.user or user)
        if not isinstance(out, o.NotFound):
            return failure_step(account.service_id, out, "reactivate")
        Account.objects.filter(pk=account.pk).update(vendor_user_id="")  # gone: create
        account.vendor_user_id, user = "", None
    if user is not None and isinstance(conn, RestoresAddress) and moved(user, account):
        # A resend for a member who changed the address at the vendor (S9): a new
        # invitation cannot help a person who signed in; the address put back does.
        return address_restore.restore(conn, account, user, addresses_of(account)[0])
    if user is not None and needs_licence(user, account):
        # Active in the organisation but without the licence (S12 by Google sign-in,
        # or a licence taken at the vendor): the member asked again, so give it back.
        out = conn.set_licence(user.vendor_id or user.email, True)
        count_call(account.service_id, out)
        if not isinstance(out, o.Ok):
            return failure_step(account.service_id, out, "licence")
        return _arrived(account, replace(user, licensed=True), Reason.LICENCE_GIVEN_BACK)
    if user is not None:
        return _arrived(account, user, Reason.VENDOR_USER_FOUND)
    out = conn.create_user(spec_of(account))
    count_call(account.service_id, out)
    return after_create(conn, account, job, out)


def as_intended(user: VendorUser, account: Account) -> VendorUser:
    """``user`` with what we intend in the fields the vendor left out: a pending Zoom
    user may come back as its id alone (Errata Z-c), and is invited again as intended."""
    if not user.partial:
        return user
    spec = spec_of(account)
    return replace(
        user,
        email=user.email or account.vendor_address or spec.email,
        first_name=user.first_name or spec.first_name,
        last_name=user.last_name or spec.last_name,
        display_name=user.display_name or spec.display_name,
        licensed=spec.licensed,
    )


def needs_licence(user: VendorUser, account: Account) -> bool:
    """An active, complete user at one of the member's addresses, without the licence."""
    return (
        user.state == UserState.ACTIVE
        and not user.partial
        and not user.licensed
        and user.email.lower() in {a.lower() for a in addresses_of(account)}
    )


def after_create(conn: Connector, account: Account, job: Job, out: o.Outcome) -> Step:
    """What a create's answer means: record the id and arrive, link, or a failure."""
    if isinstance(out, o.Created):
        record_vendor_id(account, out.user)
        log.info(
            "created vendor user account=%s job=%s vendor_id=%s tracking=%s",
            account.pk,
            job.pk,
            out.user.vendor_id,
            out.tracking_id,
        )
        return _arrived(account, out.user, Reason.VENDOR_USER_CREATED)
    if isinstance(out, o.HeldElsewhere):
        return _held(account, out)
    if isinstance(out, o.AlreadyExists):
        user, step = locate(conn, account)
        if step is not None:
            return step
        if user is not None:
            return _arrived(account, user, Reason.VENDOR_USER_LINKED)
        if held.concluded(account, job):
            return _held(account, out)
        return Retry("the vendor says the user exists but does not list it yet", 5.0)
    return failure_step(account.service_id, out, "create")


def _held(account: Account, out: o.AlreadyExists | o.HeldElsewhere) -> Step:
    held.record(account, out)
    return Done("held elsewhere")


def remove(conn: Connector, account: Account) -> Step:
    user, step = locate(conn, account)
    if step is not None:
        return step
    if user is not None:
        out = conn.delete(user.vendor_id or user.email)
        count_call(account.service_id, out)
        if not isinstance(out, o.Ok | o.NotFound):
            return failure_step(account.service_id, out, "delete")
    transition(
        account,
        State.REMOVED,
        cause=Cause.ENGINE,
        reason=Reason.VENDOR_USER_REMOVED,
        observed_state=Account.Observed.ABSENT,
        vendor_user_id="",
    )
    return Done("removed")


def suspend(conn: Connector, account: Account) -> Step:
    user, step = locate(conn, account)
    if step is not None:
        return step
    if user is not None and user.state != UserState.INACTIVE and user.vendor_id:
        out = conn.deactivate(user.vendor_id)
        count_call(account.service_id, out)
        if not isinstance(out, o.Ok):
            return failure_step(account.service_id, out, "deactivate")
    Account.objects.filter(pk=account.pk).update(observed_state=Account.Observed.INACTIVE)
    return Done("deactivated")


def moved(user: VendorUser, account: Account) -> bool:
    """The active vendor user is no longer at the member's university address (S9): at
    one that is not theirs, or at an alias without the licence. (Reconcile, which has
    no primary address, tells the alias case by the address it knew: ``observe``.)"""
    addresses = [a.lower() for a in addresses_of(account)]
    if user.state != UserState.ACTIVE or user.partial or not user.email or not addresses:
        return False
    email = user.email.lower()
    return email != addresses[0] and (email not in addresses or not user.licensed)


def fresh(account: Account, now: datetime.datetime) -> float:
    """Seconds left of the window in which a vendor may not list a user it has just
    created (S15); reconcile leaves such accounts alone for as long (FRESH_SECONDS)."""
    window = datetime.timedelta(seconds=float(engine_setting("FRESH_SECONDS")))
    return max(0.0, (account.updated_at + window - now).total_seconds())


def look(conn: Connector, account: Account) -> Step:
    user, step = locate(conn, account)
    if step is not None:
        return step
    now = clock.now()
    restorable = isinstance(conn, RestoresAddress)
    if (
        isinstance(conn, RestoresAddress)
        and user is not None
        and account.state == State.UNLICENSED
        and account.last_error_reason != Reason.ADDRESS_NOT_RESTORED
        and moved(user, account)
    ):
        return address_restore.restore(conn, account, user, addresses_of(account)[0])
    left = fresh(account, now)
    if user is None and left and account.state not in (State.FAILED, State.REMOVED):
        # A check right after the create (Zoom's user.created webhook) may not find the
        # user yet: look again once the window has passed, as reconcile would, rather
        # than conclude it is gone and invite again. No attempt is used up.
        return Retry("the vendor does not list the new user yet (S15)", left + 1.0, count=False)
    addresses = {a.lower() for a in addresses_of(account)}
    verdict = observe.judge(account, user, addresses, now, restorable=restorable)
    apply_verdict(account, verdict)
    return Done("observed")


def apply_verdict(account: Account, verdict: observe.Verdict) -> None:
    if verdict.empty:
        return
    with transaction.atomic():
        if verdict.target is None:
            Account.objects.filter(pk=account.pk).update(**verdict.changes)
            return
        changes: dict[str, Any] = verdict.changes
        if verdict.target == State.INVITED and account.invitation_expires_at is None:
            # Failed before its invitation was recorded, found pending after all (S15).
            now = clock.now()
            days = account.service.invitation_validity_days
            changes.update(
                invitation_sent_at=now, invitation_expires_at=now + datetime.timedelta(days=days)
            )
        transition(account, verdict.target, cause=Cause.RECONCILE, reason=verdict.reason, **changes)
        if verdict.needs_job:
            enqueue(account)


def converge(account: Account, job: Job) -> Step:
    conn = vendors.connector_for(account.service)
    if account.desired_state == DesiredState.ABSENT:
        return Done("already removed") if account.state == State.REMOVED else remove(conn, account)
    if account.state == State.REQUESTED:
        return provision(conn, account, job)
    if account.state == State.SUSPENDED:
        return suspend(conn, account)
    if account.state in (State.REMOVED, State.FAILED) and job.kind != Job.Kind.OBSERVE:
        return Done("nothing to do")
    return look(conn, account)
