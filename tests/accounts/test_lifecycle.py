import itertools

import pytest

from campusconf.accounts.lifecycle import (
    AccountAlreadyLive,
    IllegalTransition,
    open_account,
    replay,
    transition,
)
from campusconf.accounts.models import Account, AccountEvent, AppendOnlyError
from campusconf.accounts.states import TRANSITIONS, Cause, State

pytestmark = pytest.mark.django_db

ALLOWED = [(s, t, c) for (s, t), (causes, _) in TRANSITIONS.items() for c in sorted(causes)]
FORBIDDEN = [
    (s, t, c)
    for s, t, c in itertools.product(State, State, Cause)
    if c not in TRANSITIONS.get((s, t), (frozenset(), ""))[0]
]


@pytest.fixture
def account(make_member, make_service):
    return open_account(make_member(), make_service(), cause=Cause.MEMBER)


def force_state(account: Account, state: State) -> None:
    # Tests start a transition from an arbitrary state; the row is set directly only here.
    Account.objects.filter(pk=account.pk).update(state=state)
    account.refresh_from_db()


def test_open_account_starts_requested_with_an_event(account):
    assert account.state == State.REQUESTED
    event = account.events.get()
    assert (event.from_state, event.to_state, event.cause) == ("", "requested", "member")


@pytest.mark.parametrize(("source", "target", "cause"), ALLOWED)
def test_every_allowed_transition_is_performed_and_recorded(account, source, target, cause):
    force_state(account, source)
    before = account.events.count()
    event = transition(account, target, cause=cause, reason="test")
    account.refresh_from_db()
    assert account.state == target
    assert account.events.count() == before + 1
    assert (event.from_state, event.to_state, event.cause) == (source, target, cause)


@pytest.mark.parametrize(("source", "target", "cause"), FORBIDDEN)
def test_every_forbidden_transition_is_refused_and_changes_nothing(account, source, target, cause):
    force_state(account, source)
    before = account.events.count()
    with pytest.raises(IllegalTransition) as refused:
        transition(account, target, cause=cause)
    assert repr(str(source)) in str(refused.value)
    assert repr(str(target)) in str(refused.value)
    account.refresh_from_db()
    assert account.state == source
    assert account.events.count() == before


def test_a_stale_copy_cannot_override_the_stored_state(account):
    stale = Account.objects.get(pk=account.pk)
    transition(account, State.INVITED, cause=Cause.ENGINE)
    # The stale copy still says "requested"; requested→failed would be legal from
    # there, but invited→failed by the member is not — the database state decides.
    with pytest.raises(IllegalTransition):
        transition(stale, State.FAILED, cause=Cause.MEMBER)
    assert Account.objects.get(pk=account.pk).state == State.INVITED


def test_transition_sets_vendor_facts_with_the_state(account):
    transition(account, State.INVITED, cause=Cause.ENGINE, vendor_user_id="abc")
    assert account.vendor_user_id == "abc"


def test_transition_refuses_fields_outside_the_lifecycle(account):
    with pytest.raises(TypeError):
        transition(account, State.INVITED, cause=Cause.ENGINE, member_id=1)


def test_a_second_live_account_is_refused(account):
    with pytest.raises(AccountAlreadyLive):
        open_account(account.member, account.service, cause=Cause.MEMBER)
    assert Account.objects.filter(member=account.member).count() == 1


def test_a_removed_account_is_reopened_not_duplicated(account):
    transition(account, State.REMOVED, cause=Cause.MEMBER)
    again = open_account(account.member, account.service, cause=Cause.MEMBER)
    assert again.pk == account.pk
    assert again.state == State.REQUESTED
    assert replay(list(again.events.all())) == State.REQUESTED


def test_events_are_append_only(account):
    event = account.events.get()
    event.reason_code = "note"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    assert AccountEvent.objects.get(pk=event.pk).reason_code == ""
