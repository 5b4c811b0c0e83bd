"""Suspend, then re-provision: the member gets back the vendor user they had (same id,
so the same meetings, recordings and settings), not a new one and a new invitation."""

from typing import Any

import pytest

from campusconf.accounts.models import Account
from campusconf.accounts.states import Cause, State
from campusconf.provisioning import worker
from campusconf.provisioning.models import Job
from campusconf.provisioning.verbs import actions
from tests.fixtures.sandbox import activate_webex, activate_zoom
from vendor_sandbox.launcher import Sandbox

pytestmark = pytest.mark.django_db(transaction=True)


def settle() -> None:
    worker.drain(max_seconds=60)
    assert not Job.objects.filter(status__in=["queued", "running"]).exists()


class _Mails:
    """What activate_zoom / activate_webex need of a sandbox: its mails, newest first."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    def mails(self, to: str | None = None) -> list[dict[str, Any]]:
        return list(self.sandbox.admin("GET", "mails", params={"to": to} if to else {})["items"])


def vendor_users(sandbox: Sandbox, vendor_name: str) -> list[dict[str, Any]]:
    return sandbox.zoom_users() if vendor_name == "zoom" else sandbox.webex_people()


def vendor_id_of(user: dict[str, Any]) -> str:
    return str(user.get("user_id") or user.get("person_id"))


def signed_in_ok(user: dict[str, Any], vendor_name: str) -> bool:
    """Active and licensed, as the vendor stores it."""
    if vendor_name == "zoom":
        return bool(user["status"] == "active" and user["type"] == 2)
    return bool(user["login_enabled"] and not user["invite_pending"] and user["licenses"])


@pytest.mark.parametrize("vendor_name", ["zoom", "webex"])
def test_a_suspended_account_comes_back_as_the_same_vendor_user(
    request: pytest.FixtureRequest, make_member: Any, vendor_name: str
) -> None:
    service = request.getfixturevalue(f"{vendor_name}_service")
    sandbox: Sandbox = request.getfixturevalue("vendor")
    member = make_member()
    account = actions.apply_for_service(member, service)
    settle()
    activate = activate_zoom if vendor_name == "zoom" else activate_webex
    activate(_Mails(sandbox), member.mail_address)  # type: ignore[arg-type]
    actions.reconcile_account(account, cause=Cause.STAFF)
    settle()
    account.refresh_from_db()
    assert account.state == State.ACTIVE
    vendor_id = account.vendor_user_id
    invitations = len(_Mails(sandbox).mails(member.mail_address.lower()))

    actions.suspend_account(account, cause=Cause.STAFF, reason="licence check")
    settle()
    [user] = vendor_users(sandbox, vendor_name)
    assert not signed_in_ok(user, vendor_name)  # the suspension reached the vendor

    actions.reprovision_account(
        Account.objects.get(pk=account.pk), cause=Cause.STAFF, reason="check done"
    )
    settle()
    account.refresh_from_db()
    assert account.state == State.ACTIVE
    assert account.vendor_user_id == vendor_id
    users = vendor_users(sandbox, vendor_name)
    assert [vendor_id_of(u) for u in users] == [vendor_id]  # one user, the same one
    assert signed_in_ok(users[0], vendor_name)  # signs in again, licensed
    # No new invitation: the member has nothing to activate again.
    assert len(_Mails(sandbox).mails(member.mail_address.lower())) == invitations
    last = account.events.order_by("-created_at", "-id").first()
    assert last is not None and last.reason_code == "vendor_user_reactivated"


def test_a_webex_person_suspended_before_signing_in_comes_back_invited(
    make_member: Any, webex_service: Any, vendor: Sandbox
) -> None:
    member = make_member()
    account = actions.apply_for_service(member, webex_service)
    settle()
    account.refresh_from_db()
    vendor_id, sent = account.vendor_user_id, account.invitation_sent_at
    actions.suspend_account(account, cause=Cause.STAFF, reason="paused")
    settle()
    actions.reprovision_account(Account.objects.get(pk=account.pk), cause=Cause.STAFF)
    settle()
    account.refresh_from_db()
    assert account.state == State.INVITED
    assert account.vendor_user_id == vendor_id
    assert account.invitation_sent_at == sent  # no new invitation was sent
    people = vendor.webex_people()
    assert [p["person_id"] for p in people] == [vendor_id]
    assert people[0]["login_enabled"] and people[0]["invite_pending"]


def test_a_licence_renewed_after_the_suspend_policy_gives_back_the_same_zoom_user(
    make_member: Any, zoom_service: Any, vendor: Sandbox
) -> None:
    import datetime

    from campusconf.provisioning.verbs.licence_end import sweep
    from campusconf.services.models import Service

    end = datetime.date(2027, 3, 31)
    Service.objects.filter(pk=zoom_service.pk).update(valid_until=end)
    member = make_member()
    account = actions.apply_for_service(member, Service.objects.get(pk=zoom_service.pk))
    settle()
    activate_zoom(_Mails(vendor), member.mail_address)  # type: ignore[arg-type]
    actions.reconcile_account(account, cause=Cause.STAFF)
    settle()
    vendor_id = Account.objects.get(pk=account.pk).vendor_user_id

    assert sweep(end + datetime.timedelta(days=1)).suspended == 1
    settle()
    assert [u["status"] for u in vendor.zoom_users()] == ["inactive"]
    Service.objects.filter(pk=zoom_service.pk).update(valid_until=end.replace(year=2028))
    assert sweep(end + datetime.timedelta(days=3)).restored == 1
    settle()
    account.refresh_from_db()
    assert (account.state, account.vendor_user_id) == (State.ACTIVE, vendor_id)
    [user] = vendor.zoom_users()
    assert (user["user_id"], user["status"], user["type"]) == (vendor_id, "active", 2)
