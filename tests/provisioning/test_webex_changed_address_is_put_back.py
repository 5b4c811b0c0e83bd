"""S9 on Webex: a member changes the address on their Webex profile after activating, and
Webex takes the university licence with it. The engine puts the university address and
the licence back (an admin's PUT of ``emails``, docs/vendors.md "A changed address"),
tells the member once, and nothing flips back and forth; where Webex refuses, the
member is told what only they can do, and their "I changed it back" finishes it.
"""

import pytest

from campusconf.accounts.models import AccountEvent
from campusconf.accounts.states import State
from campusconf.connectors import outcomes as o
from campusconf.connectors.webex import WebexConnector
from campusconf.portal.models import Notice
from campusconf.provisioning import worker
from campusconf.provisioning.engine import vendors
from campusconf.provisioning.engine.reconcile import run_pass
from campusconf.provisioning.verbs import actions
from campusconf.rehearsal import vendor_pages
from campusconf.signin.members import sign_in_user

from .test_zoom_google_sign_in import invited, latest_link

pytestmark = pytest.mark.django_db(transaction=True)


def activated(make_member, service, vendor, **member):
    account = invited(lambda: make_member(**member), service)
    address = account.member.mail_address
    assert vendor_pages.webex_activate(latest_link(vendor, address, "Activate")) == "done"
    run_pass(service)
    account.refresh_from_db()
    assert account.state == State.ACTIVE
    return account


def person(service, vendor_id: str):
    """The person as Webex's People API shows it to the admin."""
    out = vendors.connector_for(service).get_user(vendor_id)
    assert isinstance(out, o.Ok) and out.user is not None, out
    return out.user


def notices(account, kind: str) -> int:
    return Notice.objects.filter(account=account, kind=kind).count()


def moves(account) -> list[tuple[str, str, str]]:
    events = AccountEvent.objects.filter(account=account).order_by("pk")
    return [(e.from_state, e.to_state, e.reason_code) for e in events]


@pytest.mark.parametrize("to_alias", [False, True], ids=["private", "alias"])
def test_a_changed_address_is_put_back_with_the_licence_and_told_once(
    make_member, webex_service, vendor, to_alias
):
    aliases = ["misaki.alias@g.ecc.example.ac.jp"] if to_alias else []
    account = activated(make_member, webex_service, vendor, aliases=aliases)
    address = account.member.mail_address
    new = aliases[0] if to_alias else "misaki@private.example"
    assert vendor_pages.webex_change_address(vendor.url, address, new) == "done"
    changed = person(webex_service, account.vendor_user_id)
    assert (changed.email, changed.licensed) == (new, False)  # S9, as Webex does

    run_pass(webex_service)
    worker.drain(max_seconds=60)

    account.refresh_from_db()
    assert account.state == State.ACTIVE
    assert account.vendor_address.lower() == address.lower() and account.observed_licensed
    restored = person(webex_service, account.vendor_user_id)
    assert (restored.email, restored.licensed) == (address.lower(), True)
    assert moves(account)[-2:] == [
        (State.ACTIVE, State.UNLICENSED, "address_being_restored"),
        (State.UNLICENSED, State.ACTIVE, "address_restored"),
    ]
    # One mail for the whole episode, and it is the one that says it is done.
    assert notices(account, "address_restored") == 1
    assert notices(account, "wrong_activation") == 0
    # The next passes agree: no flip-flop, no second mail.
    before = len(moves(account))
    run_pass(webex_service)
    worker.drain(max_seconds=60)
    account.refresh_from_db()
    assert account.state == State.ACTIVE and len(moves(account)) == before


def test_where_webex_refuses_the_member_is_told_what_only_they_can_do(
    make_member, webex_service, vendor, monkeypatch, client
):
    account = activated(make_member, webex_service, vendor, language="en")
    address = account.member.mail_address
    assert vendor_pages.webex_change_address(vendor.url, address, "x@private.example") == "done"

    def refuse(self, vendor_id, address):
        return o.Rejected(reason="Email address is already in use.", http_status=409)

    with monkeypatch.context() as patched:
        patched.setattr(WebexConnector, "restore_address", refuse)
        run_pass(webex_service)
        worker.drain(max_seconds=60)
    account.refresh_from_db()
    assert account.state == State.UNLICENSED
    assert account.last_error_reason == "address_not_restored"
    assert "already in use" in str(account.last_error_message)
    assert notices(account, "address_not_restored") == 1
    assert notices(account, "wrong_activation") == 0
    # The card says what to do at Webex, not Zoom's steps or a new invitation.
    client.force_login(
        sign_in_user(account.member.common_id),
        backend="campusconf.signin.backends.DevelopmentSessionBackend",
    )
    page = client.get("/my/").content.decode()
    assert "Edit profile" in page and "I changed it back" in page
    assert "Sign up with password" not in page

    # The member changes it back on their profile and presses the button.
    changed_back = vendor_pages.webex_change_address(vendor.url, "x@private.example", address)
    assert changed_back == "done"
    answer = client.post("/my/services/webex/resend/", follow=True).content.decode()
    assert "no mail is needed" in answer
    worker.drain(max_seconds=60)
    account.refresh_from_db()
    assert account.state == State.ACTIVE
    assert person(webex_service, account.vendor_user_id).licensed
    assert notices(account, "wrong_activation") == 0
    run_pass(webex_service)  # and it stays so
    account.refresh_from_db()
    assert account.state == State.ACTIVE and account.observed_licensed


def test_a_resend_after_a_changed_address_puts_it_back_instead_of_a_flip_flop(
    make_member, webex_service, vendor
):
    """An account left unlicensed by a changed address (as before this repair): the
    member's resend used to find the user active and move the account to active, for
    the next pass to take it back to unlicensed."""
    account = activated(make_member, webex_service, vendor)
    address = account.member.mail_address
    assert vendor_pages.webex_change_address(vendor.url, address, "y@private.example") == "done"
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr("campusconf.provisioning.engine.reconcile.RestoresAddress", type(None))
        run_pass(webex_service)
    account.refresh_from_db()
    assert account.state == State.UNLICENSED

    actions.resend_invitation(account, cause="member")
    worker.drain(max_seconds=60)
    account.refresh_from_db()
    assert account.state == State.ACTIVE
    assert moves(account)[-1] == (State.REQUESTED, State.ACTIVE, "address_restored")
    run_pass(webex_service)
    account.refresh_from_db()
    assert account.state == State.ACTIVE
