import csv
import datetime
import io

import pytest
from django.utils import timezone

from campusconf.accounts.models import Application
from campusconf.accounts.reasons import Reason, Why, error_fields
from campusconf.accounts.states import State
from campusconf.audit.models import AuditEntry
from campusconf.backoffice import charts, queries
from campusconf.provisioning.models import ReconcilePass, UnmatchedVendorUser

pytestmark = pytest.mark.django_db


@pytest.fixture
def busy_service(make_member, make_service, make_account):
    service = make_service(seats=10)
    now = timezone.now()
    make_account(
        make_member(),
        service,
        State.FAILED,
        **error_fields(Why(Reason.VENDOR_REFUSED, detail="vendor said no")),
    )
    make_account(make_member(), service, State.UNLICENSED)
    make_account(make_member(), service, State.ACTIVE)
    make_account(
        make_member(),
        service,
        State.INVITED,
        invitation_sent_at=now - datetime.timedelta(hours=2),
        invitation_expires_at=now + datetime.timedelta(days=2),
    )
    make_account(
        make_member(),
        service,
        State.INVITED,
        invitation_sent_at=now - datetime.timedelta(minutes=10),
        invitation_expires_at=now + datetime.timedelta(days=14),
    )
    UnmatchedVendorUser.objects.create(
        service=service, email="stranger@example.com", first_seen_at=now
    )
    ReconcilePass.objects.create(
        service=service,
        status=ReconcilePass.Status.HELD,
        started_at=now,
        message="would remove 40",
    )
    return service


def test_queues_hold_what_needs_a_person(busy_service):
    counts = {q.key: q.count for q in queries.attention_queues(busy_service)}
    assert counts == {
        "failed": 1,
        "unlicensed": 1,
        "held_elsewhere": 0,
        "not_activated": 1,  # only the one invited two hours ago (S5)
        "expiring": 1,
        "unmatched": 1,
        "held_reconcile": 1,
        "seat_wait": 0,
    }


def test_seats_count_every_live_account_but_failed_ones(busy_service):
    assert queries.seats_used(busy_service) == 4


def test_daily_activity_counts_applications_and_activations(busy_service):
    for account in busy_service.accounts.all()[:2]:
        Application.objects.create(member=account.member, service=busy_service, account=account)
    days = queries.daily_activity(busy_service)
    assert len(days) == 30
    assert days[-1].day == timezone.localdate()
    assert days[-1].applications == 2
    assert days[-1].activations == 1


def test_the_dashboard_page(staff_client, busy_service):
    page = staff_client.get(f"/staff/services/{busy_service.slug}/").content.decode()
    assert "4 of 10 seats used" in page
    assert "<svg" in page and "Applications" in page
    assert "vendor said no" in page
    assert "stranger@example.com" in page
    assert "would remove 40" in page
    home = staff_client.get("/staff/").content.decode()
    assert f"/staff/services/{busy_service.slug}/" in home


def test_chart_escapes_its_text():
    svg = charts.grouped_bars("<b>", ["<x>"], [("a&b", [3])])
    assert "<b>" not in svg and "&lt;b&gt;" in svg and "a&amp;b" in svg


def test_licence_terms_need_a_reason_and_are_audited(staff_client, make_service):
    service = make_service(seats=100)
    url = f"/staff/services/{service.slug}/terms/"
    form = {
        "plan_name": "Enterprise",
        "seats": "150",
        "valid_from": "",
        "valid_until": "2027-03-31",
    }
    assert staff_client.post(url, form).status_code == 200  # no reason: shown again
    service.refresh_from_db()
    assert service.seats == 100

    response = staff_client.post(url, {**form, "reason": "renewal signed"})
    assert response.status_code == 302
    service.refresh_from_db()
    assert service.seats == 150
    assert service.valid_until == datetime.date(2027, 3, 31)
    entry = AuditEntry.objects.get(action="service.licence_terms")
    assert entry.details["changes"]["seats"] == [100, 150]
    assert entry.reason == "renewal signed"


def test_licence_terms_refuse_an_end_before_the_start(staff_client, make_service):
    service = make_service()
    url = f"/staff/services/{service.slug}/terms/"
    response = staff_client.post(
        url,
        {
            "plan_name": "Enterprise",
            "seats": "100",
            "valid_from": "2027-01-01",
            "valid_until": "2026-01-01",
            "reason": "typo test",
        },
    )
    assert response.status_code == 200
    service.refresh_from_db()
    assert service.valid_until is None
    assert not AuditEntry.objects.exists()


def test_accounts_export(staff_client, busy_service):
    response = staff_client.get(f"/staff/services/{busy_service.slug}/accounts.csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == 5
    assert {r["state"] for r in rows} == {"failed", "unlicensed", "active", "invited"}
    assert AuditEntry.objects.filter(action="service.export_accounts").count() == 1


def test_last_checked_is_the_services_last_completed_reconcile_pass(staff_client, busy_service):
    """Passes are booked per service; a per-account 'last reconciled' was always empty."""
    account = busy_service.accounts.filter(state=State.ACTIVE).get()
    page = staff_client.get(f"/staff/accounts/{account.pk}/").content.decode()
    assert "Last reconciled" not in page
    assert "no reconcile pass of" in page  # the fixture's only pass is held: it applied nothing
    csv_url = f"/staff/services/{busy_service.slug}/accounts.csv"
    rows = list(csv.DictReader(io.StringIO(staff_client.get(csv_url).content.decode())))
    assert "last_reconciled_at" not in rows[0]
    assert {r["service_last_checked_against_vendor_at"] for r in rows} == {""}

    at = timezone.now().replace(microsecond=0) - datetime.timedelta(hours=3)
    for status, finished in (
        (ReconcilePass.Status.DONE, at - datetime.timedelta(days=1)),
        (ReconcilePass.Status.DONE, at),
        (ReconcilePass.Status.FAILED, at + datetime.timedelta(hours=1)),  # applied nothing
    ):
        ReconcilePass.objects.create(
            service=busy_service, status=status, started_at=finished, finished_at=finished
        )
    assert queries.last_checked_at(busy_service) == at
    page = staff_client.get(f"/staff/accounts/{account.pk}/").content.decode()
    shown = timezone.localtime(at).strftime("%Y-%m-%d %H:%M")
    assert f"{shown} (the last completed reconcile pass of {busy_service.name})" in page
    rows = list(csv.DictReader(io.StringIO(staff_client.get(csv_url).content.decode())))
    assert {r["service_last_checked_against_vendor_at"] for r in rows} == {str(at)}


def test_a_held_reconcile_pass_is_reviewed_and_approved_with_a_reason(staff_client, held_pass):
    from campusconf.accounts.models import Account
    from campusconf.accounts.states import DesiredState

    service, held, members = held_pass
    url = f"/staff/services/{service.slug}/reconcile/{held.pk}/"
    dashboard = staff_client.get(f"/staff/services/{service.slug}/").content.decode()
    assert f'href="{url}"' in dashboard
    assert "2 accounts would be deprovisioned: review and approve" in dashboard

    page = staff_client.get(url).content.decode()
    assert "2 accounts would be deprovisioned now" in page
    assert members[0].common_id in page and members[1].common_id in page
    assert members[2].common_id not in page  # still a member

    staff_client.post(url, {"expected": "2"})  # no reason: nothing happens
    held.refresh_from_db()
    assert held.status == ReconcilePass.Status.HELD
    # The person reviewed fewer than would go now: refused, nothing changed.
    refused = staff_client.post(url, {"expected": "1", "reason": "leavers of March"}, follow=True)
    assert "more than the 1 you reviewed" in refused.content.decode()
    held.refresh_from_db()
    assert held.status == ReconcilePass.Status.HELD
    assert not Account.objects.filter(desired_state=DesiredState.ABSENT).exists()

    done = staff_client.post(url, {"expected": "2", "reason": "leavers of March"})
    assert done["Location"] == f"/staff/services/{service.slug}/"
    held.refresh_from_db()
    assert held.status == ReconcilePass.Status.APPROVED
    # The engine's approved pass ran: the two leavers' accounts are wanted gone.
    approved = ReconcilePass.objects.exclude(pk=held.pk).get()
    assert (approved.status, approved.changes["deprovision"]) == ("approved", 2)
    gone = set(
        Account.objects.filter(desired_state=DesiredState.ABSENT).values_list(
            "member_id", flat=True
        )
    )
    assert gone == {members[0].pk, members[1].pk}
    entry = AuditEntry.objects.get(action="reconcile.approve")
    assert entry.reason == "leavers of March"
    assert entry.details["would_deprovision"] == 2
    assert sorted(entry.details["sample"]) == sorted(m.common_id for m in members[:2])
    assert 'name="reason"' not in staff_client.get(url).content.decode()  # nothing to approve
