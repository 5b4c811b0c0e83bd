"""``transition_many`` follows ``transition``'s rules and writes the same events.

The table is written by hand from docs/lifecycle.md, not read from ``TRANSITIONS``: a
change to who may make a move must change this table too.
"""

import datetime

import pytest
from django.db import transaction

from campusconf.accounts import lifecycle
from campusconf.accounts.lifecycle import IllegalTransition, Move, open_account, transition
from campusconf.accounts.models import Account, AccountEvent
from campusconf.accounts.reasons import Reason
from campusconf.accounts.states import Cause, State

pytestmark = pytest.mark.django_db
NOW = datetime.datetime(2026, 12, 6, 12, 0, tzinfo=datetime.UTC)
S, C = State, Cause

# (from, to, cause, allowed), by hand.
RULES = [
    (S.REQUESTED, S.INVITED, C.ENGINE, True),
    (S.REQUESTED, S.INVITED, C.RECONCILE, True),
    (S.REQUESTED, S.INVITED, C.MEMBER, False),
    (S.REQUESTED, S.INVITED, C.STAFF, False),
    (S.REQUESTED, S.ACTIVE, C.VENDOR, True),
    (S.REQUESTED, S.ACTIVE, C.STAFF, False),
    (S.REQUESTED, S.REMOVED, C.MEMBER, True),
    (S.REQUESTED, S.SUSPENDED, C.STAFF, False),
    (S.INVITED, S.UNLICENSED, C.MEMBER, True),
    (S.INVITED, S.UNLICENSED, C.STAFF, False),
    (S.INVITED, S.SUSPENDED, C.ENGINE, True),
    (S.INVITED, S.SUSPENDED, C.RECONCILE, False),
    (S.INVITED, S.ACTIVE, C.MEMBER, False),
    (S.ACTIVE, S.REQUESTED, C.STAFF, True),
    (S.ACTIVE, S.REQUESTED, C.MEMBER, False),
    (S.ACTIVE, S.SUSPENDED, C.VENDOR, False),
    (S.ACTIVE, S.INVITED, C.ENGINE, False),
    (S.FAILED, S.INVITED, C.RECONCILE, True),
    (S.FAILED, S.INVITED, C.STAFF, False),
    (S.SUSPENDED, S.ACTIVE, C.MEMBER, True),
    (S.REMOVED, S.REQUESTED, C.RECONCILE, True),
    (S.REMOVED, S.REQUESTED, C.ENGINE, False),
    (S.REMOVED, S.REQUESTED, C.VENDOR, False),
    (S.REMOVED, S.ACTIVE, C.RECONCILE, False),
]


@pytest.fixture
def accounts(make_member, make_service):
    service = make_service()
    return [open_account(make_member(), service, cause=Cause.MEMBER) for _ in range(2)]


def put(account: Account, state: State) -> None:
    # A test starts from an arbitrary state; the row is set directly only here.
    Account.objects.filter(pk=account.pk).update(state=state)


def many(accounts: list[Account], target: State, cause: Cause) -> list[AccountEvent]:
    with transaction.atomic():
        locked = lifecycle.lock_many([a.pk for a in accounts])
        moves = [Move(a.pk, locked[a.pk][0], target) for a in accounts]
        return lifecycle.transition_many(
            moves, cause=cause, reason=Reason.VENDOR_USER_CREATED, now=NOW
        )


@pytest.mark.parametrize(("source", "target", "cause", "allowed"), RULES)
def test_transition_many_and_transition_agree_with_the_table(
    accounts, source, target, cause, allowed
):
    one, other = accounts
    put(one, source)
    put(other, source)
    if allowed:
        many([one], target, cause)
        transition(other, target, cause=cause)
        one.refresh_from_db()
        assert (one.state, other.state) == (target, target)
        return
    with pytest.raises(IllegalTransition):
        many([one], target, cause)
    with pytest.raises(IllegalTransition):
        transition(other, target, cause=cause)
    one.refresh_from_db()
    other.refresh_from_db()
    assert (one.state, other.state) == (source, source)


def test_one_illegal_move_refuses_the_whole_batch(accounts):
    first, second = accounts
    put(second, S.REMOVED)  # removed -> invited is nobody's move
    before = AccountEvent.objects.count()
    with pytest.raises(IllegalTransition, match="'removed' to 'invited'"):
        many([first, second], S.INVITED, C.ENGINE)
    first.refresh_from_db()
    assert first.state == S.REQUESTED
    assert AccountEvent.objects.count() == before


def test_the_batch_writes_the_events_transition_would(accounts):
    first, second = accounts
    [event] = many([first], S.INVITED, C.ENGINE)
    single = transition(second, S.INVITED, cause=C.ENGINE, reason=Reason.VENDOR_USER_CREATED)
    stored = AccountEvent.objects.get(pk=event.pk)
    fields = ("from_state", "to_state", "cause", "actor_id", "reason_code", "reason_params")
    assert [getattr(stored, f) for f in fields] == [getattr(single, f) for f in fields]
    assert stored.account_id == first.pk
    assert lifecycle.replay(list(first.events.order_by("id"))) == S.INVITED


def test_each_row_gets_its_own_values_and_the_moves_changes(accounts):
    first, second = accounts
    expires = NOW + datetime.timedelta(days=7)
    with transaction.atomic():
        locked = lifecycle.lock_many([first.pk, second.pk])
        lifecycle.transition_many(
            [
                Move(a.pk, locked[a.pk][0], S.INVITED, (("invitation_expires_at", expires),), own)
                for a, own in ((first, ("v-1", "a@x.jp")), (second, ("v-2", "b@x.jp")))
            ],
            cause=C.ENGINE,
            own_fields=("vendor_user_id", "vendor_address"),
            now=NOW,
        )
    rows = Account.objects.filter(pk__in=[first.pk, second.pk]).order_by("pk")
    assert [(a.vendor_user_id, a.vendor_address, a.invitation_expires_at) for a in rows] == [
        ("v-1", "a@x.jp", expires),
        ("v-2", "b@x.jp", expires),
    ]


def test_a_field_outside_the_lifecycles_list_is_refused(accounts):
    with transaction.atomic(), pytest.raises(TypeError, match="state"):
        lifecycle.transition_many(
            [Move(accounts[0].pk, S.REQUESTED, S.INVITED, (("state", S.ACTIVE),))],
            cause=C.ENGINE,
            now=NOW,
        )
