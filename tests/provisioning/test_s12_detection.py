"""S12 on Zoom: "Sign in with Google" leaves the university's user pending beside a
personal account; reconcile asks Zoom whether the address holds an account (S12 → S13).
"""

import pytest

from campusconf.accounts.models import AccountEvent
from campusconf.accounts.states import Cause, State
from campusconf.provisioning import actions, runner
from campusconf.provisioning.reconcile import run_pass

pytestmark = pytest.mark.django_db(transaction=True)

GOOGLE = 1


def invited(make_member, service):
    account = actions.apply_for_service(make_member(), service)
    runner.drain(max_seconds=60)
    account.refresh_from_db()
    assert account.state == State.INVITED
    return account


def google_mistake(vendor, address):
    """What the sandbox's "Sign in with Google" button leaves: a personal Basic account."""
    body = {"vendor": "zoom", "email": address, "login_type": GOOGLE}
    vendor.admin("POST", "personal-accounts", json=body)


def test_a_pending_invitation_alone_stays_invited(make_member, zoom_service, vendor):
    account = invited(make_member, zoom_service)
    run_pass(zoom_service)
    account.refresh_from_db()
    assert account.state == State.INVITED


def test_pending_user_beside_a_personal_account_is_unlicensed(make_member, zoom_service, vendor):
    account = invited(make_member, zoom_service)
    google_mistake(vendor, account.member.mail_address)
    record = run_pass(zoom_service)
    account.refresh_from_db()
    assert account.state == State.UNLICENSED
    assert record.changes.get("to_unlicensed") == 1
    event = AccountEvent.objects.filter(account=account).latest("created_at", "pk")
    assert event.cause == Cause.RECONCILE
    assert "signed in with Google / a personal account outside the university" in event.reason
    assert [u["status"] for u in vendor.zoom_users()] == ["pending"]


def test_after_the_s13_resend_the_join_request_is_awaited_then_active(
    make_member, zoom_service, vendor
):
    account = invited(make_member, zoom_service)
    google_mistake(vendor, account.member.mail_address)
    run_pass(zoom_service)
    account.refresh_from_db()
    assert account.state == State.UNLICENSED
    first_id = account.vendor_user_id
    actions.resend_invitation(account, cause=Cause.MEMBER)
    runner.drain(max_seconds=60)
    account.refresh_from_db()
    assert account.state == State.INVITED and account.vendor_user_id != first_id
    # The personal account is expected now (Zoom mailed the "join" request): no flip back.
    run_pass(zoom_service)
    account.refresh_from_db()
    assert account.state == State.INVITED
