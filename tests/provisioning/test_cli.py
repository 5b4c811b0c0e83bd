"""The operators' commands, as scripts call them."""

import io

import pytest
from django.core.management import CommandError, call_command

from campusconf.accounts.models import Account
from campusconf.accounts.states import State
from campusconf.provisioning import worker
from campusconf.provisioning.models import Campaign, Job

pytestmark = pytest.mark.django_db(transaction=True)


def cli(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_provision_then_a_worker_invites(make_member, zoom_service, vendor):
    member = make_member()
    assert "requested" in cli("provision", member.common_id, "zoom")
    with pytest.raises(CommandError, match="already has a live account"):
        cli("provision", member.common_id, "zoom")
    with pytest.raises(CommandError, match="no member"):
        cli("provision", "0000000000", "zoom")
    worker.drain()
    assert Account.objects.get().state == State.INVITED
    assert "reconcile zoom: done, 1 vendor users seen" in cli("reconcile", "zoom")
    status = cli("status")
    [row] = [line for line in status.splitlines() if line.startswith("zoom ")]
    assert "done, 1 seen" in row and "last reconcile" in status


def test_campaign_start_pause_resume_cancel(make_member, zoom_service, vendor):
    import datetime

    old = [make_member(student=True, created_on=datetime.date(2020, 1, 1)) for _ in range(3)]
    make_member(student=True, created_on=datetime.date(2026, 5, 1))
    make_member(staff=True)
    dry = cli(
        "campaign",
        "start",
        "zoom",
        "--role",
        "student",
        "--created-before",
        "2026-03-24",
        "--dry-run",
    )
    assert "3 members would be invited" in dry
    assert not Job.objects.exists()
    out = cli("campaign", "start", "zoom", "--role", "student", "--created-before", "2026-03-24")
    assert "3 invitations queued" in out
    campaign = Campaign.objects.get()
    cli("campaign", "pause", str(campaign.pk))
    assert worker.drain(max_seconds=2) == 0  # a paused campaign's jobs wait
    cli("campaign", "resume", str(campaign.pk))
    worker.drain()
    assert Account.objects.filter(state=State.INVITED).count() == len(old)
    assert "invited" in cli("campaign", "status", str(campaign.pk))
    with pytest.raises(CommandError):
        cli("campaign", "resume", str(campaign.pk))


def test_cancel_withdraws_queued_accounts(make_member, zoom_service, vendor):
    for _ in range(2):
        make_member(student=True)
    cli("campaign", "start", "zoom", "--role", "student")
    campaign = Campaign.objects.get()
    cli("campaign", "cancel", str(campaign.pk))
    assert set(Account.objects.values_list("state", flat=True)) == {State.REMOVED}
    assert not Job.objects.filter(status__in=["queued", "running"]).exists()
