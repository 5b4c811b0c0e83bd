"""The engine's commands write audit entries with the OS user as actor (``cli:<user>``)."""

import datetime
import io
import os
import pwd

import pytest
from django.core.management import CommandError, call_command

from campusconf.audit.models import AuditEntry
from campusconf.provisioning.models import Campaign

pytestmark = pytest.mark.django_db(transaction=True)
ACTOR = "cli:" + pwd.getpwuid(os.geteuid()).pw_name


def cli(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_provision_is_audited_and_a_refusal_is_not(make_member, zoom_service, vendor):
    member = make_member()
    cli("provision", member.common_id, "zoom", "--reason", "INQ-42 on the phone")
    entry = AuditEntry.objects.get(action="account.apply")
    assert (entry.actor_name, entry.reason) == (ACTOR, "INQ-42 on the phone")
    assert entry.details["member"] == member.common_id
    assert entry.details["state_after"] == "requested"
    with pytest.raises(CommandError, match="already has a live account"):
        cli("provision", member.common_id, "zoom")
    assert AuditEntry.objects.filter(action="account.apply").count() == 1


def test_campaign_start_and_status_changes_are_audited(make_member, zoom_service, vendor):
    for _ in range(2):
        make_member(student=True, created_on=datetime.date(2020, 1, 1))
    cli("campaign", "start", "zoom", "--role", "student", "--dry-run")
    assert not AuditEntry.objects.exists()
    cli("campaign", "start", "zoom", "--role", "student")
    campaign = Campaign.objects.get()
    start = AuditEntry.objects.get(action="campaign.start")
    assert (start.actor_name, start.target_id) == (ACTOR, str(campaign.pk))
    # Written with the campaign row, before the enrolment: the row keeps the count.
    assert start.details["cohort"]["roles"] == ["student"]
    assert campaign.planned == 2
    cli("campaign", "pause", str(campaign.pk))
    paused = AuditEntry.objects.get(action="campaign.paused")
    assert paused.details["status_before"] in ("running", "enrolling")
    cli("campaign", "cancel", str(campaign.pk))
    with pytest.raises(CommandError):
        cli("campaign", "resume", str(campaign.pk))  # cancelled: refused, not audited
    actions = list(AuditEntry.objects.order_by("id").values_list("action", flat=True))
    assert actions == ["campaign.start", "campaign.paused", "campaign.cancelled"]


def test_a_reconcile_pass_is_audited_with_its_outcome(zoom_service, vendor):
    cli("reconcile", "zoom")
    entry = AuditEntry.objects.get(action="service.reconcile")
    assert entry.actor_name == ACTOR
    assert entry.details["status"] == "done"
    assert entry.details["approve"] is False
