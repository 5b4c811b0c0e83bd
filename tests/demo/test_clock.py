"""``campusconf demo-clock``: days pass at the vendor sandbox and for CampusConf's invitations."""

import datetime
import json

import pytest
from django.core.management import CommandError, call_command

from campusconf.accounts.models import Account
from campusconf.accounts.states import State
from campusconf.provisioning.engine.schedules import expire_invitations
from vendor_sandbox.launcher import free_port

pytestmark = pytest.mark.django_db


@pytest.fixture
def invited(make_member, make_service, account_in, now):
    return account_in(
        make_member(),
        make_service(),
        State.INVITED,
        invitation_sent_at=now,
        invitation_expires_at=now + datetime.timedelta(days=15),
    )


def creds_file(tmp_path, token):
    path = tmp_path / "sandbox.json"
    path.write_text(json.dumps({"admin_token": token}))
    return str(path)


def test_sixteen_days_pass_for_the_sandbox_and_for_the_invitation(
    settings, sandbox, invited, tmp_path, now, make_member, account_in
):
    settings.DEBUG = True
    # An account already active keeps the dates its own timeline agrees with.
    active = account_in(
        make_member(),
        invited.service,
        State.ACTIVE,
        invitation_sent_at=now,
        invitation_expires_at=now + datetime.timedelta(days=15),
    )
    call_command(
        "demo-clock",
        "--advance-days",
        "16",
        "--sandbox-url",
        sandbox.url,
        "--credentials",
        creds_file(tmp_path, sandbox.admin_token),
    )
    invited.refresh_from_db()
    assert invited.invitation_expires_at == now - datetime.timedelta(days=1)
    assert invited.invitation_sent_at == now - datetime.timedelta(days=16)
    active.refresh_from_db()
    assert active.invitation_sent_at == now
    offset = sandbox.admin_response("GET", "clock").json()["offset_seconds"]
    assert offset == pytest.approx(16 * 86400)
    # What the README promises: the worker's expiry check now sees it expired.
    assert expire_invitations() == 1
    invited.refresh_from_db()
    assert invited.state == State.INVITATION_EXPIRED


def test_refused_outside_development(settings, invited, tmp_path):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="development"):
        call_command("demo-clock", "--advance-days", "16", "--credentials", str(tmp_path / "x"))
    assert Account.objects.get(pk=invited.pk).invitation_expires_at == invited.invitation_expires_at


def test_nothing_changes_when_the_sandbox_is_not_there(settings, invited, tmp_path):
    settings.DEBUG = True
    with pytest.raises(CommandError, match="Nothing changed"):
        call_command(
            "demo-clock",
            "--advance-days",
            "16",
            "--sandbox-url",
            f"http://127.0.0.1:{free_port()}",
            "--credentials",
            creds_file(tmp_path, "sbx-admin-x"),
        )
    assert Account.objects.get(pk=invited.pk).invitation_expires_at == invited.invitation_expires_at
