"""Reconcile on plain facts: the pass reads every account as ``observe.Facts`` (the
dates compared in SQL), never as a model instance, and must still see every change.

The pass tests use an in-memory listing instead of the sandbox, so that each
transition of the issue is set up exactly, in one pass, on both databases.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from campusconf.accounts.lifecycle import open_account
from campusconf.accounts.models import Account
from campusconf.accounts.reasons import stored
from campusconf.accounts.states import Cause, DesiredState, State
from campusconf.connectors import zoom
from campusconf.connectors.base import UserState, VendorUser
from campusconf.directory.models import LeaverNotice
from campusconf.members.actions import mark_left
from campusconf.provisioning.conf import engine_setting
from campusconf.provisioning.engine import vendors
from campusconf.provisioning.engine.observe import Facts, judge_facts
from campusconf.provisioning.engine.reconcile import run_pass
from campusconf.provisioning.engine.reconcile_snapshot import MemberAddresses, Snapshot
from campusconf.provisioning.models import ReconcilePass, UnmatchedVendorUser

NOW = datetime.datetime(2026, 11, 22, 6, 0, tzinfo=datetime.UTC)
ADDRESS = "3000000001@g.ecc.example.ac.jp"
IN_STEP = Facts(
    state=State.ACTIVE,
    desired_state=DesiredState.PRESENT,
    observed_state=Account.Observed.ACTIVE,
    vendor_user_id="zu1",
    vendor_address=ADDRESS,
    observed_licensed=True,
    observed_login_type="zoom",
    invitation_expired=False,
    activated=True,
)
ACTIVE_USER = VendorUser(
    "zu1", ADDRESS, state=UserState.ACTIVE, licensed=True, login_types=("zoom",)
)
ADDRESSES = MemberAddresses({ADDRESS: 7, "alias@example.ac.jp": 7, "other@x.jp": 8}, 7)


def verdict(facts: Facts = IN_STEP, user: VendorUser | None = ACTIVE_USER, **kw: Any) -> Any:
    return judge_facts(facts, user, ADDRESSES, NOW, **kw)


def test_an_account_in_step_calls_for_nothing():
    assert verdict().empty
    # The vendor writes the address in its own case; Zoom's listing has no login types.
    assert verdict(user=dataclasses.replace(ACTIVE_USER, email=ADDRESS.upper())).empty
    assert verdict(user=dataclasses.replace(ACTIVE_USER, login_types=())).empty


@pytest.mark.parametrize(
    ("user_change", "field", "value"),
    [
        ({"state": UserState.PENDING}, "observed_state", Account.Observed.PENDING),
        ({"vendor_id": "zu2"}, "vendor_user_id", "zu2"),
        ({"login_types": ("sso",)}, "observed_login_type", "sso"),
    ],
)
def test_each_observed_field_that_changed_is_written(user_change, field, value):
    v = verdict(user=dataclasses.replace(ACTIVE_USER, **user_change))
    assert v.changes == {field: value}
    assert v.target is None


@pytest.mark.parametrize(
    ("facts_change", "user_change", "target", "reason"),
    [
        # invited → active, with the activation dated
        ({"state": State.INVITED, "activated": False}, {}, State.ACTIVE, "member_activated"),
        # invited → expired after the validity (S4), whether listed pending or gone
        ({"state": State.INVITED, "invitation_expired": True}, {"state": UserState.PENDING}, State.INVITATION_EXPIRED, "invitation_expired"),
        # active → unlicensed: the wrong licence, Google (S12), the address (S9), disabled
        ({}, {"licensed": False}, State.UNLICENSED, "no_licence"),
        ({}, {"licensed": False, "login_types": ("google",)}, State.UNLICENSED, "google_sign_in"),
        ({}, {"email": "private@example.org"}, State.UNLICENSED, "address_changed"),
        ({}, {"email": "other@x.jp"}, State.UNLICENSED, "address_changed"),  # another member's
        ({}, {"state": UserState.INACTIVE}, State.UNLICENSED, "sign_in_disabled"),
        # unlicensed, fixed by the member → active
        ({"state": State.UNLICENSED}, {}, State.ACTIVE, "member_activated"),
        ({"state": State.FAILED}, {}, State.ACTIVE, "found_active"),
    ],
)  # fmt: skip
def test_each_transition_is_seen_on_facts(facts_change, user_change, target, reason):
    v = verdict(IN_STEP._replace(**facts_change), dataclasses.replace(ACTIVE_USER, **user_change))
    assert v.target == target
    assert stored(v.reason)[0] == reason
    assert ("activated_at" in v.changes) == (
        target == State.ACTIVE and facts_change.get("activated") is False
    )


def test_an_alias_is_the_members_address_and_a_licensed_google_login_is_in_step():
    assert (
        verdict(user=dataclasses.replace(ACTIVE_USER, email="ALIAS@example.ac.jp")).target is None
    )
    # Signed in with Google, in the university's account, holding its licence: fine.
    google = dataclasses.replace(ACTIVE_USER, login_types=("google",))
    assert verdict(user=google).target is None


def test_what_a_partial_user_left_out_is_neither_written_nor_judged():
    """Zoom may answer a pending user read alone with its id only (Errata Z-c)."""
    sparse = VendorUser("zu1", "", state=UserState.PENDING, partial=True)
    facts = IN_STEP._replace(state=State.INVITED, observed_state=Account.Observed.PENDING)
    assert verdict(facts, sparse).empty  # the address and the licence are kept
    # An active user whose type (the licence) was left out decides nothing either.
    unknown = dataclasses.replace(ACTIVE_USER, licensed=False, partial=True)
    assert verdict(IN_STEP._replace(state=State.INVITED), unknown).target is None


def test_a_pending_invitation_within_its_validity_waits():
    pending = dataclasses.replace(ACTIVE_USER, state=UserState.PENDING)
    facts = IN_STEP._replace(state=State.INVITED, observed_state=Account.Observed.PENDING)
    assert verdict(facts, pending).empty


def test_an_account_gone_at_the_vendor():
    gone = verdict(IN_STEP, None)
    assert (gone.target, gone.needs_job) == (State.REQUESTED, True)
    assert gone.changes == {"observed_state": Account.Observed.ABSENT, "vendor_user_id": ""}
    expired = IN_STEP._replace(state=State.INVITED, invitation_expired=True)
    assert verdict(expired, None).target == State.INVITATION_EXPIRED
    unwanted = IN_STEP._replace(desired_state=DesiredState.ABSENT)
    assert verdict(unwanted, None).target is None


# --- the pass, on the database --------------------------------------------------------


class Listing:
    """A connector that lists the given users and can do nothing else (in particular,
    it cannot delete: a pass that tried would fail)."""

    capabilities = zoom.CAPABILITIES

    def __init__(self, users: list[VendorUser]) -> None:
        self.users = users

    def iter_users(self, page_size: int | None = None) -> Iterator[VendorUser]:
        return iter(self.users)


@pytest.fixture
def listing(monkeypatch: pytest.MonkeyPatch) -> Listing:
    fake = Listing([])
    monkeypatch.setattr(vendors, "connector_for", lambda service: fake)
    return fake


@pytest.fixture
def service(make_service: Any) -> Any:
    return make_service(slug="zoom", vendor="zoom", invitation_validity_days=30)


def account_in(service: Any, member: Any, state: State, **fields: Any) -> Account:
    """An account set straight into ``state``, last changed a day ago."""
    account = open_account(member, service, cause=Cause.MEMBER)
    row = {
        "state": state,
        "observed_state": Account.Observed.ACTIVE,
        "vendor_user_id": f"zu{account.pk}",
        "vendor_address": member.addresses.get(is_primary=True).address,
        "observed_licensed": True,
        "observed_login_type": "zoom",
        "activated_at": timezone.now() - datetime.timedelta(days=100),
        "updated_at": timezone.now() - datetime.timedelta(days=1),
        **fields,
    }
    Account.objects.filter(pk=account.pk).update(**row)
    account.refresh_from_db()
    return account


def listed(account: Account, **changes: Any) -> VendorUser:
    user = VendorUser(
        account.vendor_user_id,
        account.vendor_address,
        state=UserState.ACTIVE,
        licensed=True,
        login_types=("zoom",),
    )
    return dataclasses.replace(user, **changes)


def writes(queries: CaptureQueriesContext) -> list[str]:
    return [
        q["sql"]
        for q in queries
        if q["sql"].split()[0].upper() in {"INSERT", "UPDATE", "DELETE"}
        and "reconcilepass" not in q["sql"]
    ]


@pytest.mark.django_db(transaction=True)  # the production path: the read-ahead thread
def test_one_pass_makes_every_transition_and_reports_strangers(
    service, listing, make_member, settings
):
    settings.CAMPUSCONF_ENGINE = {**settings.CAMPUSCONF_ENGINE, "LEAVER_GRACE_DAYS": 30}
    past = timezone.now() - datetime.timedelta(days=1)
    later = timezone.now() + datetime.timedelta(days=10)
    m = {k: make_member() for k in ("step", "act", "exp", "lic", "goo", "s9", "off", "gone")}
    m["alias"] = make_member(aliases=("alias.member@ecc.example.ac.jp",))
    m["fresh"], m["gone_exp"], m["leaver"] = make_member(), make_member(), make_member()
    a = {
        "step": account_in(service, m["step"], State.ACTIVE),
        "act": account_in(service, m["act"], State.INVITED, activated_at=None,
                          observed_state="pending", invitation_expires_at=later),
        "exp": account_in(service, m["exp"], State.INVITED, activated_at=None,
                          observed_state="pending", invitation_expires_at=past),
        "lic": account_in(service, m["lic"], State.ACTIVE),
        "goo": account_in(service, m["goo"], State.ACTIVE),
        "s9": account_in(service, m["s9"], State.ACTIVE),
        "off": account_in(service, m["off"], State.ACTIVE),
        "gone": account_in(service, m["gone"], State.ACTIVE),
        # Zoom lists pending users without an id: matched by the member's alias.
        "alias": account_in(service, m["alias"], State.INVITED, vendor_user_id="",
                            observed_state="absent", invitation_expires_at=later),
        "fresh": account_in(service, m["fresh"], State.ACTIVE, updated_at=timezone.now()),
        "gone_exp": account_in(service, m["gone_exp"], State.INVITED,
                               invitation_expires_at=past, observed_state="pending"),
        "leaver": account_in(service, m["leaver"], State.ACTIVE),
    }  # fmt: skip
    mark_left(m["leaver"], datetime.date(2020, 1, 1))
    LeaverNotice.objects.create(
        member=m["leaver"],
        left_on=datetime.date(2020, 1, 1),
        notified_at=past,
        deprovision_on=timezone.localdate(),
    )
    listing.users = [
        listed(a["step"]),
        listed(a["act"]),
        listed(a["exp"], state=UserState.PENDING),
        listed(a["lic"], licensed=False),
        listed(a["goo"], licensed=False, login_types=("google",)),
        listed(a["s9"], email="someone.else@example.org"),
        listed(a["off"], state=UserState.INACTIVE),
        VendorUser(None, "ALIAS.member@ecc.example.ac.jp", state=UserState.PENDING),
        listed(a["leaver"]),
        VendorUser("zz9", "stranger@example.org", state=UserState.ACTIVE, licensed=True),
    ]

    record = run_pass(service)

    assert record.status == ReconcilePass.Status.DONE, record.message
    assert record.seen == 10
    states = {k: Account.objects.get(pk=x.pk) for k, x in a.items()}
    assert {k: x.state for k, x in states.items()} == {
        "step": State.ACTIVE,
        "act": State.ACTIVE,
        "exp": State.INVITATION_EXPIRED,
        "lic": State.UNLICENSED,
        "goo": State.UNLICENSED,
        "s9": State.UNLICENSED,
        "off": State.UNLICENSED,
        "gone": State.REQUESTED,
        "alias": State.INVITED,
        "fresh": State.ACTIVE,  # just changed: may not be listed yet
        "gone_exp": State.INVITATION_EXPIRED,
        "leaver": State.ACTIVE,  # its job lets it go
    }
    assert states["act"].activated_at is not None
    assert states["gone"].vendor_user_id == ""
    assert states["s9"].vendor_address == "someone.else@example.org"
    assert states["goo"].observed_login_type == "google"
    assert states["alias"].observed_state == Account.Observed.PENDING
    assert states["leaver"].desired_state == DesiredState.ABSENT
    assert states["step"].updated_at == a["step"].updated_at  # not written at all
    assert list(UnmatchedVendorUser.objects.values_list("email", "vendor_id")) == [
        ("stranger@example.org", "zz9")
    ]
    assert record.changes["deprovision"] == 1
    assert record.changes["unmatched_new"] == 1


@pytest.mark.django_db
@pytest.mark.parametrize("accounts", [3, 30])
def test_a_pass_in_step_writes_nothing_in_a_few_queries_whatever_the_size(
    service, listing, make_member, accounts
):
    members = [make_member(aliases=(f"alias{i}.{accounts}@ecc.example.ac.jp",)) for i in range(accounts)]  # fmt: skip
    listing.users = [listed(account_in(service, m, State.ACTIVE)) for m in members]
    UnmatchedVendorUser.objects.create(service=service, email="old@example.org", first_seen_at=NOW)
    listing.users.append(VendorUser("zz1", "old@example.org", state=UserState.ACTIVE))
    with CaptureQueriesContext(connection) as queries:
        record = run_pass(service)
    assert (record.status, record.changes, record.seen) == ("done", {}, accounts + 1)
    assert writes(queries) == []
    # No query per account or per user: the same statements for 3 and for 30.
    assert len(queries) <= 12, [q["sql"][:80] for q in queries]


@pytest.mark.django_db
def test_the_guard_holds_a_pass_that_would_let_many_go(service, listing, make_member, settings):
    settings.CAMPUSCONF_ENGINE = {**settings.CAMPUSCONF_ENGINE, "GUARD_MAX": 1}
    accounts = [account_in(service, make_member(), State.ACTIVE) for _ in range(3)]
    for account in accounts[:2]:
        mark_left(account.member, datetime.date(2020, 1, 1))
        LeaverNotice.objects.create(
            member=account.member,
            left_on=datetime.date(2020, 1, 1),
            notified_at=timezone.now(),
            deprovision_on=timezone.localdate(),
        )
    listing.users = [listed(a) for a in accounts]
    with CaptureQueriesContext(connection) as queries:
        held = run_pass(service)
    assert held.status == ReconcilePass.Status.HELD
    assert held.changes == {"would_deprovision": 2}
    assert writes(queries) == []
    approved = run_pass(service, approve=True)
    assert (approved.status, approved.changes.get("deprovision")) == ("approved", 2)
    absent = Account.objects.filter(desired_state=DesiredState.ABSENT)
    assert sorted(absent.values_list("pk", flat=True)) == [a.pk for a in accounts[:2]]


@pytest.mark.django_db
def test_the_snapshot_decides_the_dates_in_sql_as_python_would(service, make_member):
    now = timezone.now()
    cases = [
        {"invitation_expires_at": None, "activated_at": None},
        {"invitation_expires_at": now - datetime.timedelta(seconds=1)},
        {"invitation_expires_at": now + datetime.timedelta(seconds=1)},
        {"invitation_expires_at": now.replace(microsecond=0) - datetime.timedelta(days=3)},
        {"activated_at": now.replace(microsecond=0)},
        {"updated_at": now - datetime.timedelta(seconds=30)},  # within the fresh window
        {"updated_at": now - datetime.timedelta(seconds=600)},
    ]
    accounts = [account_in(service, make_member(), State.INVITED, **c) for c in cases]
    snap = Snapshot(service, now)
    fresh_since = now - datetime.timedelta(seconds=int(engine_setting("FRESH_SECONDS")))
    for account in accounts:
        assert snap.accounts[account.pk] == Facts.of(account, now)
        assert (account.pk in snap.fresh) == (account.updated_at > fresh_since)
    assert len(snap.fresh) == 1
