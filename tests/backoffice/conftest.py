import datetime

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from campusconf.accounts.lifecycle import open_account, transition
from campusconf.accounts.models import Account
from campusconf.accounts.states import Cause, State

STAFF_PASSWORD = "staff-pass-123"


@pytest.fixture
def staff_user(db):
    return get_user_model().objects.create_user("helpdesk1", password=STAFF_PASSWORD, is_staff=True)


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"  # pages default to Japanese
    return client


@pytest.fixture
def member_client(client, make_member):
    """A signed-in member with no staff rights at all."""
    member = make_member(student=True)
    user = get_user_model().objects.create_user(member.common_id)
    member.user = user
    member.save(update_fields=["user"])
    client.force_login(user)
    return client


@pytest.fixture
def make_account():
    """An account walked through the lifecycle to ``state`` by the machine causes."""

    paths = {
        State.REQUESTED: [],
        State.INVITED: [State.INVITED],
        State.ACTIVE: [State.INVITED, State.ACTIVE],
        State.FAILED: [State.FAILED],
        State.UNLICENSED: [State.INVITED, State.UNLICENSED],
        State.INVITATION_EXPIRED: [State.INVITED, State.INVITATION_EXPIRED],
        State.HELD_ELSEWHERE: [State.HELD_ELSEWHERE],
    }

    def make(member, service, state: State = State.REQUESTED, **changes) -> Account:
        account = open_account(member, service, cause=Cause.MEMBER)
        for step in paths[state]:
            transition(account, step, cause=Cause.ENGINE, **(changes if step == state else {}))
        return account

    return make


@pytest.fixture
def held_pass(make_member, make_service, sandbox, settings, monkeypatch):
    """Three accounts at the sandbox's Webex, two of members who left and were told:
    more than the guard (1) lets a pass deprovision alone."""
    from campusconf.directory.models import LeaverNotice
    from campusconf.members.actions import mark_left
    from campusconf.provisioning import actions, reconcile, vendors
    from campusconf.provisioning.models import ReconcilePass
    from tests.provisioning.sandbox import connector_settings, vendor_env

    settings.CAMPUSCONF_ENGINE = {**settings.CAMPUSCONF_ENGINE, "GUARD_MAX": 1}
    for key, value in vendor_env(sandbox.creds).items():
        monkeypatch.setenv(key, value)
    vendors.close_all()
    service = make_service(connector_settings=connector_settings("webex", sandbox.creds))
    members = [make_member() for _ in range(3)]
    for m in members:
        actions.apply_for_service(m, service)
    for m in members[:2]:
        mark_left(m, datetime.date(2020, 1, 1))
        LeaverNotice.objects.create(
            member=m,
            left_on=m.left_on,
            notified_at=timezone.now(),
            deprovision_on=timezone.localdate(),
        )
    held = reconcile.run_pass(service)
    assert held.status == ReconcilePass.Status.HELD
    yield service, held, members
    vendors.close_all()
