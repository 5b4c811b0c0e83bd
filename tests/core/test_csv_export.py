"""Every CSV export: formula cells defused (= + - @ TAB CR), never cached, and audited
with who took it."""

import csv
import io

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from campusconf.accounts.lifecycle import open_account, transition
from campusconf.accounts.states import Cause, State
from campusconf.audit.models import AuditEntry
from campusconf.backoffice import campaigns
from campusconf.core.csv_export import safe_cell
from campusconf.provisioning.models import Campaign

HOSTILE = ['=HYPERLINK("http://x")', "+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "＝1"]


@pytest.mark.parametrize("text", HOSTILE)
def test_a_cell_a_spreadsheet_would_run_is_defused(text):
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["plain", "2600000001", "a=b", " =x", "", None, 42])
def test_other_cells_are_left_alone(value):
    assert safe_cell(value) == ("" if value is None else str(value))


@pytest.fixture
def staff(db):
    user = get_user_model().objects.create_user("exporter", password="unused", is_staff=True)
    client = Client()
    client.force_login(user)
    return user, client


def rows_of(response) -> list[list[str]]:
    if response.streaming:
        body = b"".join(response.streaming_content).decode()
    else:
        body = response.content.decode()
    return list(csv.reader(io.StringIO(body)))


@pytest.mark.django_db
def test_the_accounts_export(staff, make_member, make_service):
    _user, client = staff
    service = make_service()
    member = make_member(affiliation="\t=cmd|' /C calc'!A0")
    account = open_account(member, service, cause=Cause.MEMBER)
    transition(account, State.FAILED, cause=Cause.ENGINE)
    answer = client.get(f"/staff/services/{service.slug}/accounts.csv")
    assert answer.status_code == 200
    assert "no-store" in answer["Cache-Control"]
    cells = [cell for row in rows_of(answer)[1:] for cell in row]
    assert "'\t=cmd|' /C calc'!A0" in cells
    entry = AuditEntry.objects.get(action="service.export_accounts")
    assert entry.actor_name == "exporter"


@pytest.mark.django_db
def test_the_audit_log_export(staff):
    _user, client = staff
    # Written directly: record() strips a reason, and older rows or other writers may not.
    AuditEntry.objects.create(action="test.note", reason="\r=1+1 looks like a reason")
    answer = client.get("/staff/audit/audit.csv", {"action": "test.note"})
    assert answer.status_code == 200
    assert "no-store" in answer["Cache-Control"]
    reasons = [row[6] for row in rows_of(answer)[1:]]
    assert reasons == ["'\r=1+1 looks like a reason"]
    export = AuditEntry.objects.get(action="audit.export")
    assert export.actor_name == "exporter"
    assert export.details == {"filters": {"action": "test.note"}}


@pytest.mark.django_db
def test_the_campaign_failures_export(staff, make_service):
    user, client = staff
    service = make_service()
    campaign = campaigns.start(
        service, campaigns.Cohort(["student"], None, [], []), actor=user, reason="term start"
    )
    assert Campaign.objects.filter(pk=campaign.pk).exists()
    answer = client.get(f"/staff/campaigns/{campaign.pk}/failures.csv")
    assert answer.status_code == 200
    assert "no-store" in answer["Cache-Control"]
    assert rows_of(answer)[0] == list(campaigns.FAILURE_COLUMNS)
    entry = AuditEntry.objects.get(action="campaign.export_failures")
    assert (entry.actor_name, entry.target_id) == ("exporter", str(campaign.pk))
