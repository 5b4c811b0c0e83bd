import pytest
from django.contrib.auth import get_user_model

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
    }

    def make(member, service, state: State = State.REQUESTED, **changes) -> Account:
        account = open_account(member, service, cause=Cause.MEMBER)
        for step in paths[state]:
            transition(account, step, cause=Cause.ENGINE, **(changes if step == state else {}))
        return account

    return make
