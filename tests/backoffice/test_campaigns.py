import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from campusconf.accounts.states import State
from campusconf.audit.models import AuditEntry
from campusconf.backoffice import campaigns
from campusconf.backoffice.campaigns import Cohort, parse_common_ids
from campusconf.provisioning.models import Campaign, Job

pytestmark = pytest.mark.django_db


@pytest.fixture
def students(make_member):
    old = [make_member(student=True, created_on=datetime.date(2025, 4, 1)) for _ in range(3)]
    new = [make_member(student=True, created_on=datetime.date(2026, 4, 1)) for _ in range(2)]
    teacher = make_member(faculty=True)
    return old, new, teacher


def test_parse_common_ids_takes_every_10_digit_number_once():
    text = "3000000001, 3000000002\n3000000001 x 12345 30000000039"
    assert parse_common_ids(text) == ["3000000001", "3000000002"]


def test_preview_changes_nothing(staff_client, make_service, students):
    service = make_service()
    old, _new, _teacher = students
    response = staff_client.post(
        "/staff/campaigns/new/",
        {
            "service": service.slug,
            "roles": ["student"],
            "created_before": "2026-03-24",
            "preview": "1",
        },
    )
    page = response.content.decode()
    assert "3 members would be invited" in page
    assert old[0].common_id in page
    assert not Campaign.objects.exists()


def test_an_empty_cohort_is_refused(staff_client, make_service):
    service = make_service()
    page = staff_client.post(
        "/staff/campaigns/new/", {"service": service.slug, "preview": "1"}
    ).content.decode()
    assert "Choose at least one role" in page


def test_start_needs_a_reason_then_invites_the_cohort(staff_client, make_service, students):
    service = make_service()
    form = {"service": service.slug, "roles": ["student"], "created_before": "2026-03-24"}
    refused = staff_client.post("/staff/campaigns/new/", {**form, "start": "1"})
    assert refused.status_code == 200
    assert not Campaign.objects.exists()

    response = staff_client.post(
        "/staff/campaigns/new/", {**form, "start": "1", "reason": "spring term, all students"}
    )
    campaign = Campaign.objects.get()
    assert response["Location"] == f"/staff/campaigns/{campaign.pk}/"
    assert campaign.planned == 3
    assert Job.objects.filter(campaign=campaign).count() == 3
    entry = AuditEntry.objects.get(action="campaign.start")
    assert entry.details["planned"] == 3

    page = staff_client.get(f"/staff/campaigns/{campaign.pk}/").content.decode()
    assert "0 / 3" in page and 'hx-trigger="every 2s"' in page
    assert "htmx" in page  # the script is served by the project, not a CDN


def test_a_pasted_list_of_common_ids(staff_client, make_service, students):
    service = make_service()
    _old, new, teacher = students
    ids = f"{new[0].common_id}\n{teacher.common_id}\n9999999999"
    preview = staff_client.post(
        "/staff/campaigns/new/",
        {
            "service": service.slug,
            "common_id_file": SimpleUploadedFile("ids.txt", ids.encode()),
            "preview": "1",
        },
    ).content.decode()
    assert "2 members would be invited" in preview
    assert "9999999999" in preview  # not found

    staff_client.post(
        "/staff/campaigns/new/",
        {"service": service.slug, "common_ids": ids, "start": "1", "reason": "late joiners"},
    )
    campaign = Campaign.objects.get()
    assert campaign.planned == 2
    assert campaign.cohort["common_ids"] == [new[0].common_id, teacher.common_id, "9999999999"]


def test_pause_resume_cancel_are_audited(staff_client, make_service, students, staff_user):
    service = make_service()
    campaign = campaigns.start(
        service, Cohort(["student"], None, [], []), actor=staff_user, reason="all students"
    )
    url = f"/staff/campaigns/{campaign.pk}/"
    staff_client.post(url + "pause/", {"reason": "vendor incident"})
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.PAUSED
    staff_client.post(url + "resume/", {"reason": "incident over"})
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.RUNNING
    staff_client.post(url + "cancel/", {})  # no reason: nothing happens
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.RUNNING
    staff_client.post(url + "cancel/", {"reason": "wrong cohort"})
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.CANCELLED
    assert list(
        AuditEntry.objects.filter(action__startswith="campaign.")
        .order_by("id")
        .values_list("action", flat=True)
    ) == ["campaign.start", "campaign.paused", "campaign.running", "campaign.cancelled"]


def test_failures_csv_says_why(staff_client, make_service, students, staff_user):
    from campusconf.accounts.lifecycle import transition
    from campusconf.accounts.states import Cause

    service = make_service()
    campaign = campaigns.start(
        service, Cohort(["student"], None, [], []), actor=staff_user, reason="all students"
    )
    account = campaign.jobs.first().account
    Job.objects.filter(account=account).update(status=Job.Status.FAILED)
    transition(
        account,
        State.FAILED,
        cause=Cause.ENGINE,
        last_error_code="user_does_not_exist",
        last_error_message="vendor says the user does not exist",
    )
    body = staff_client.get(f"/staff/campaigns/{campaign.pk}/failures.csv").content.decode()
    lines = body.strip().splitlines()
    assert len(lines) == 2
    assert account.member.common_id in lines[1]
    assert "vendor says the user does not exist" in lines[1]
    progress = campaigns.progress(campaign)
    assert (progress.failed, progress.remaining) == (1, 4)
