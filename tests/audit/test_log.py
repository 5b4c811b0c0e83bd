import datetime

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from campusconf.audit.log import ReasonRequired, record
from campusconf.audit.models import AuditEntry, AuditEntryIsFinal

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):
    user = get_user_model().objects.create_user("auditor", is_staff=True)
    client.force_login(user)
    return user


def test_record_keeps_who_what_target_and_why(staff, make_service):
    service = make_service()
    entry = record(staff, "service.licence_terms", service, " seats renewed ", seats=[100, 200])
    assert entry.actor_id == staff.pk
    assert entry.actor_name == "auditor"
    assert (entry.target_type, entry.target_id) == ("services.service", str(service.pk))
    assert entry.reason == "seats renewed"
    assert entry.details == {"seats": [100, 200]}


def test_entries_cannot_be_changed_or_deleted(staff):
    entry = record(staff, "x.y", None, "because")
    entry.reason = "rewritten"
    with pytest.raises(AuditEntryIsFinal):
        entry.save()
    with pytest.raises(AuditEntryIsFinal):
        entry.delete()
    assert AuditEntry.objects.get(pk=entry.pk).reason == "because"


def test_no_reason_no_entry(staff):
    with pytest.raises(ReasonRequired):
        record(staff, "x.y", None, "   ")
    assert not AuditEntry.objects.exists()


def test_the_page_filters_by_actor_action_target_and_dates(client, staff):
    other = get_user_model().objects.create_user("someone-else", is_staff=True)
    record(staff, "account.resend", None, "first reason")
    record(other, "account.suspend", None, "second reason")
    old = record(staff, "account.retry", None, "old reason")
    AuditEntry.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=40)
    )

    page = client.get("/staff/audit/").content.decode()
    assert "first reason" in page and "second reason" in page and "old reason" in page

    page = client.get("/staff/audit/", {"actor": "someone-else"}).content.decode()
    assert "second reason" in page and "first reason" not in page

    page = client.get("/staff/audit/", {"action": "account.resend"}).content.decode()
    assert "first reason" in page and "second reason" not in page

    since = (timezone.localdate() - datetime.timedelta(days=7)).isoformat()
    page = client.get("/staff/audit/", {"date_from": since}).content.decode()
    assert "old reason" not in page and "first reason" in page


def test_csv_export_follows_the_filter_and_defuses_formulas(client, staff):
    record(staff, "account.resend", None, "=HYPERLINK(evil)")
    record(staff, "account.suspend", None, "kept out")
    response = client.get("/staff/audit/audit.csv", {"action": "account.resend"})
    body = b"".join(response.streaming_content).decode()
    assert response["Content-Type"].startswith("text/csv")
    lines = body.strip().splitlines()
    assert lines[0].startswith("when,who,action")
    assert len(lines) == 2
    assert "'=HYPERLINK(evil)" in lines[1]


def test_member_actions_are_logged_and_every_kind_of_actor_can_be_filtered(
    client, staff, make_member, make_service
):
    from campusconf.audit.cli import record_cli
    from campusconf.provisioning.verbs import actions
    from campusconf.signin.members import user_for

    member = make_member()
    user = user_for(member)
    account = actions.apply_for_service(
        member, make_service(), cause=actions.Cause.MEMBER, actor=user
    )
    record(staff, "account.suspend", account, "staff reason")
    record("scim:entra-id", "directory.deactivate", None, "scim reason")
    record(None, "licence.end", None, "system reason")
    record_cli("service.pause", None, "cli reason")

    applied = AuditEntry.objects.get(action="member.apply")
    assert (applied.actor_id, applied.actor_kind) == (user.pk, "member")
    assert applied.target_id == str(account.pk)
    reasons = {
        "member": "own request in the portal",
        "staff": "staff reason",
        "scim": "scim reason",
        "system": "system reason",
        "cli": "cli reason",
    }
    for kind, reason in reasons.items():
        page = client.get("/staff/audit/", {"kind": kind}).content.decode()
        assert reason in page, kind
        assert [r for k, r in reasons.items() if k != kind and r in page] == [], kind
