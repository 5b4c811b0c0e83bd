"""Who may make each transition, written out by hand.

test_lifecycle.py walks every transition TRANSITIONS allows, so it cannot notice a
widened or narrowed cause set: its lists come from the table under test. The table
below is typed out from docs/lifecycle.md's rules, not read from the code, and pins
every pair of states — the 39 allowed ones with their causes, and all the others as
allowed to nobody.
"""

import itertools

import pytest

from campusconf.accounts.lifecycle import (
    AccountAlreadyLive,
    IllegalTransition,
    account_transitioned,
    open_account,
    replay,
    transition,
)
from campusconf.accounts.models import Account, AccountEvent
from campusconf.accounts.states import (
    LIVE_STATES,
    RESENDABLE_STATES,
    RETRYABLE_STATES,
    Cause,
    DesiredState,
    State,
    allowed_causes,
)

pytestmark = pytest.mark.django_db

# M member, S staff, E engine, R reconcile, V vendor.
WHO_MAY = {
    ("requested", "invited"): "ERV",
    ("requested", "conversion_pending"): "ERV",
    ("requested", "active"): "ERV",
    ("requested", "held_elsewhere"): "ERV",
    ("requested", "unlicensed"): "ERV",
    ("requested", "failed"): "ERV",
    ("requested", "removed"): "MSERV",
    ("invited", "active"): "ERV",
    ("invited", "invitation_expired"): "ERV",
    ("invited", "unlicensed"): "MERV",  # the member reports a Google sign-in Zoom cannot see
    ("invited", "requested"): "MSERV",
    ("invited", "failed"): "ERV",
    ("invited", "suspended"): "MSE",
    ("invited", "removed"): "MSERV",
    ("conversion_pending", "active"): "ERV",
    ("conversion_pending", "invitation_expired"): "ERV",
    ("conversion_pending", "requested"): "MSERV",
    ("conversion_pending", "failed"): "ERV",
    ("conversion_pending", "removed"): "MSERV",
    ("held_elsewhere", "requested"): "MSERV",
    ("held_elsewhere", "removed"): "MSERV",
    ("invitation_expired", "requested"): "MSERV",
    ("invitation_expired", "active"): "ERV",
    ("invitation_expired", "removed"): "MSERV",
    ("active", "unlicensed"): "ERV",
    ("active", "suspended"): "MSE",
    ("active", "requested"): "SERV",  # the member cannot ask for an active account again
    ("active", "removed"): "MSERV",
    ("unlicensed", "active"): "ERV",
    ("unlicensed", "requested"): "MSERV",
    ("unlicensed", "suspended"): "MSE",
    ("unlicensed", "removed"): "MSERV",
    ("failed", "requested"): "MSERV",
    ("failed", "active"): "ERV",
    ("failed", "invited"): "ERV",
    ("failed", "removed"): "MSERV",
    ("suspended", "active"): "MSERV",
    ("suspended", "requested"): "MSERV",
    ("suspended", "removed"): "MSERV",
    ("removed", "requested"): "MSR",  # applied again, or reconcile re-provisions
}
LETTERS = {"M": "member", "S": "staff", "E": "engine", "R": "reconcile", "V": "vendor"}
STATES = [
    "requested",
    "invited",
    "conversion_pending",
    "held_elsewhere",
    "invitation_expired",
    "active",
    "unlicensed",
    "failed",
    "suspended",
    "removed",
]


def expected(source: str, target: str) -> set[str]:
    return {LETTERS[letter] for letter in WHO_MAY.get((source, target), "")}


def test_the_hand_table_knows_every_state():
    assert sorted(STATES) == sorted(State.values)
    assert sorted(LETTERS.values()) == sorted(Cause.values)
    restricted = [pair for pair, who in WHO_MAY.items() if who != "MSERV"]
    assert len(WHO_MAY) == 40 and len(restricted) == 23


@pytest.mark.parametrize(("source", "target"), list(itertools.product(STATES, STATES)))
def test_who_may_make_each_transition(source, target):
    assert {str(c) for c in allowed_causes(State(source), State(target))} == expected(
        source, target
    )


def test_the_named_state_sets():
    assert {str(s) for s in LIVE_STATES} == set(STATES) - {"removed"}
    assert {str(s) for s in RESENDABLE_STATES} == {
        "invited",
        "conversion_pending",
        "invitation_expired",
        "unlicensed",
    }
    assert {str(s) for s in RETRYABLE_STATES} == {"failed", "held_elsewhere"}


@pytest.fixture
def account(make_member, make_service):
    return open_account(make_member(), make_service(), cause=Cause.MEMBER)


def force_state(account: Account, state: str) -> None:
    Account.objects.filter(pk=account.pk).update(state=state)
    account.refresh_from_db()


# The restricted transitions a person could most plausibly be let through by mistake,
# each tried through transition() itself with a cause the table forbids.
@pytest.mark.parametrize(
    ("source", "target", "cause"),
    [
        ("requested", "active", "member"),
        ("requested", "active", "staff"),
        ("invited", "active", "member"),
        ("invited", "unlicensed", "staff"),
        ("invited", "suspended", "vendor"),
        ("invited", "suspended", "reconcile"),
        ("active", "requested", "member"),
        ("active", "unlicensed", "staff"),
        ("removed", "requested", "engine"),
        ("removed", "requested", "vendor"),
        ("failed", "active", "staff"),
    ],
)
def test_a_forbidden_cause_is_refused_with_the_allowed_ones_named(account, source, target, cause):
    force_state(account, source)
    with pytest.raises(IllegalTransition) as refused:
        transition(account, State(target), cause=Cause(cause))
    allowed = ", ".join(sorted(expected(source, target)))
    assert str(refused.value) == (
        f"an account cannot go from {source!r} to {target!r} by cause {cause!r} "
        f"(allowed causes: {allowed})"
    )
    assert (refused.value.source, refused.value.target, refused.value.cause) == (
        source,
        target,
        cause,
    )
    account.refresh_from_db()
    assert account.state == source


def test_a_transition_nobody_may_make_names_no_allowed_cause(account):
    force_state(account, "removed")
    with pytest.raises(IllegalTransition) as refused:
        transition(account, State.ACTIVE, cause=Cause.STAFF)
    assert str(refused.value) == (
        "an account cannot go from 'removed' to 'active' by cause 'staff'"
    )


def test_an_illegal_start_from_nothing_reads_as_nothing():
    assert str(IllegalTransition("", "active", "engine")) == (
        "an account cannot go from 'nothing' to 'active' by cause 'engine'"
    )


def test_reopening_a_removed_account_forgets_its_old_vendor_user(account, django_user_model):
    transition(
        account,
        State.INVITED,
        cause=Cause.ENGINE,
        vendor_user_id="old-vendor-id",
        observed_state=Account.Observed.ACTIVE,
    )
    transition(account, State.REMOVED, cause=Cause.STAFF, desired_state=DesiredState.ABSENT)
    staff = django_user_model.objects.create_user(username="desk", password="x")
    again = open_account(
        account.member, account.service, cause=Cause.STAFF, actor=staff, reason="back again"
    )
    stored = Account.objects.get(pk=account.pk)
    assert again.pk == account.pk
    assert stored.state == "requested"
    assert stored.desired_state == "present"
    assert stored.vendor_user_id == ""
    assert stored.observed_state == Account.Observed.UNKNOWN
    last = stored.events.order_by("-pk").first()
    assert (last.from_state, last.to_state, last.cause, last.actor_id, last.reason) == (
        "removed",
        "requested",
        "staff",
        staff.pk,
        "back again",
    )


def test_a_new_account_records_who_opened_it_and_why(make_member, make_service, django_user_model):
    staff = django_user_model.objects.create_user(username="opener", password="x")
    account = open_account(
        make_member(), make_service(), cause=Cause.STAFF, actor=staff, reason="on behalf"
    )
    assert (account.state, account.desired_state) == ("requested", "present")
    event = AccountEvent.objects.get(account=account)
    assert (event.from_state, event.to_state, event.cause, event.actor_id, event.reason) == (
        "",
        "requested",
        "staff",
        staff.pk,
        "on behalf",
    )


def test_a_transition_records_its_actor_and_reason(account, django_user_model):
    staff = django_user_model.objects.create_user(username="suspender", password="x")
    event = transition(
        account, State.REMOVED, cause=Cause.STAFF, actor=staff, reason="asked to leave"
    )
    stored = AccountEvent.objects.get(pk=event.pk)
    assert (stored.actor_id, stored.reason) == (staff.pk, "asked to leave")


def test_the_caller_s_copy_is_refreshed(account):
    transition(account, State.INVITED, cause=Cause.ENGINE, vendor_user_id="u-1")
    assert (account.state, account.vendor_user_id) == ("invited", "u-1")


def test_only_lifecycle_fields_may_be_set_and_the_refusal_names_them(account):
    with pytest.raises(TypeError) as refused:
        transition(account, State.INVITED, cause=Cause.ENGINE, service_id=2, member_id=1)
    assert str(refused.value) == "transition() cannot set member_id, service_id"
    assert Account.objects.get(pk=account.pk).state == "requested"


def test_replay_refuses_a_gap_and_names_it(account):
    transition(account, State.INVITED, cause=Cause.ENGINE)
    events = list(account.events.order_by("pk"))
    assert replay(events) == "invited"
    assert replay([]) == ""
    with pytest.raises(ValueError, match=r"starts from 'requested' but the replay is at ''"):
        replay(events[1:])


def test_a_second_live_account_names_the_member_the_service_and_the_state(account):
    with pytest.raises(AccountAlreadyLive) as refused:
        open_account(account.member, account.service, cause=Cause.MEMBER)
    assert refused.value.account == account
    assert str(refused.value) == (
        f"member {account.member.common_id} already has a live account at "
        f"{account.service.slug} (state 'requested')"
    )


def test_a_transition_without_a_reason_records_none(account):
    event = transition(account, State.INVITED, cause=Cause.ENGINE)
    assert AccountEvent.objects.get(pk=event.pk).reason == ""


def test_receivers_of_accounts_hear_each_transition(account, make_member):
    heard = []

    def receiver(sender, account, event, **kwargs):
        heard.append((account.pk, event.from_state, event.to_state))

    account_transitioned.connect(receiver, sender=Account)
    try:
        transition(account, State.INVITED, cause=Cause.ENGINE)
        opened = open_account(make_member(), account.service, cause=Cause.MEMBER)
    finally:
        account_transitioned.disconnect(receiver, sender=Account)
    assert heard == [(account.pk, "requested", "invited"), (opened.pk, "", "requested")]
