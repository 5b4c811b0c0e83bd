"""Random sequences of lifecycle calls keep the invariants.

- every change of state leaves exactly one event;
- replaying an account's events gives its stored state;
- never two live accounts for one member and service.
"""

import datetime

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisDjangoTestCase
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from campusconf.accounts.lifecycle import (
    AccountAlreadyLive,
    IllegalTransition,
    open_account,
    replay,
    transition,
)
from campusconf.accounts.models import Account, AccountEvent
from campusconf.accounts.states import LIVE_STATES, Cause, State
from campusconf.members.actions import register_member
from campusconf.services.models import Service


class LifecycleMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.members = [
            register_member(
                common_id=f"{4000000000 + LifecycleMachine.round * 10 + i:010d}",
                family_name_latin="Sato",
                given_name_latin=f"Hana{i}",
                roles=["student"],
                university_account_created_on=datetime.date(2020, 4, 1),
                mail_address=f"r{LifecycleMachine.round}m{i}@g.ecc.example.ac.jp",
            )
            for i in range(2)
        ]
        self.services = [
            Service.objects.create(
                slug=f"s{LifecycleMachine.round}-{k}",
                vendor="zoom",
                name_ja="z",
                name_en="z",
                plan_name="Pro",
                max_participants=500,
                invitation_validity_days=30,
                eligible_roles="student",
            )
            for k in range(2)
        ]
        LifecycleMachine.round += 1
        self.expected_events: dict[int, int] = {}

    # Rows outlive one example within the test's transaction: number them apart.
    round = 0

    @rule(m=st.integers(0, 1), s=st.integers(0, 1), cause=st.sampled_from(list(Cause)))
    def open(self, m: int, s: int, cause: Cause) -> None:
        try:
            account = open_account(self.members[m], self.services[s], cause=cause)
        except (AccountAlreadyLive, IllegalTransition):
            return
        self.expected_events[account.pk] = self.expected_events.get(account.pk, 0) + 1

    @rule(
        m=st.integers(0, 1),
        s=st.integers(0, 1),
        to=st.sampled_from(list(State)),
        cause=st.sampled_from(list(Cause)),
    )
    def move(self, m: int, s: int, to: State, cause: Cause) -> None:
        account = Account.objects.filter(member=self.members[m], service=self.services[s]).first()
        if account is None:
            return
        before = account.state
        try:
            transition(account, to, cause=cause)
        except IllegalTransition:
            assert Account.objects.get(pk=account.pk).state == before
            return
        self.expected_events[account.pk] += 1

    @invariant()
    def one_event_per_change_and_replay_matches(self) -> None:
        for account in Account.objects.filter(pk__in=self.expected_events):
            events = list(AccountEvent.objects.filter(account=account).order_by("id"))
            assert len(events) == self.expected_events[account.pk]
            assert replay(events) == account.state

    @invariant()
    def never_two_live_accounts(self) -> None:
        for member in self.members:
            for service in self.services:
                live = Account.objects.filter(
                    member=member, service=service, state__in=LIVE_STATES
                ).count()
                assert live <= 1


class TestLifecycle(HypothesisDjangoTestCase, LifecycleMachine.TestCase):  # type: ignore[misc]
    pass


TestLifecycle.settings = settings(
    max_examples=40,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
