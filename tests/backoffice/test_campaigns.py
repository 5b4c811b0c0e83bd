import csv
import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from campusconf.accounts.reasons import Reason, Why, error_fields
from campusconf.accounts.states import State
from campusconf.audit.models import AuditEntry
from campusconf.backoffice import campaigns
from campusconf.backoffice.campaigns import Cohort, parse_common_ids
from campusconf.backoffice.tokens import issue_token
from campusconf.provisioning.models import Campaign, Job
from campusconf.provisioning.verbs import campaign_enrolment as engine

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
        follow=True,
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
    # The request only recorded the campaign: enrolling is the workers' job.
    assert campaign.status == Campaign.Status.ENROLLING
    assert not Job.objects.exists()
    entry = AuditEntry.objects.get(action="campaign.start")
    assert entry.details["cohort"]["roles"] == ["student"]
    page = staff_client.get(f"/staff/campaigns/{campaign.pk}/").content.decode()
    assert "Enrolling…" in page and 'hx-trigger="every 2s"' in page

    assert engine.enroll_due() == 1  # what the workers' "campaigns" schedule runs
    campaign.refresh_from_db()
    assert (campaign.status, campaign.planned) == (Campaign.Status.RUNNING, 3)
    assert Job.objects.filter(campaign=campaign).count() == 3
    page = staff_client.get(f"/staff/campaigns/{campaign.pk}/").content.decode()
    assert "0 / 3" in page and 'hx-trigger="every 2s"' in page
    assert "htmx" in page  # the script is served by the project, not a CDN
    # The cohort's roles are named in the reader's language, not by their keys.
    ja = staff_client.get(f"/staff/campaigns/{campaign.pk}/", headers={"accept-language": "ja"})
    assert "学生" in ja.content.decode() and ": student" not in ja.content.decode()


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
        follow=True,
    ).content.decode()
    assert "2 members would be invited" in preview
    assert "9999999999" in preview  # not found

    staff_client.post(
        "/staff/campaigns/new/",
        {"service": service.slug, "common_ids": ids, "start": "1", "reason": "late joiners"},
    )
    engine.enroll_due()
    campaign = Campaign.objects.get()
    assert (campaign.planned, campaign.skipped) == (2, 1)
    assert campaign.cohort["common_ids"] == [new[0].common_id, teacher.common_id, "9999999999"]
    skip = campaign.skips.get()
    assert (skip.common_id, skip.code) == ("9999999999", "unknown_common_id")


def test_pause_resume_cancel_are_audited(staff_client, make_service, students, staff_user):
    service = make_service()
    campaign = campaigns.start(
        service, Cohort(["student"], None, [], []), actor=staff_user, reason="all students"
    )
    engine.enroll_due()
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

    service = make_service(eligible_roles="student")
    teacher = students[2]
    campaign = campaigns.start(
        service,
        Cohort([], None, [], [teacher.common_id, *(m.common_id for m in students[0])]),
        actor=staff_user,
        reason="all students",
    )
    engine.enroll_due()
    account = campaign.jobs.first().account
    Job.objects.filter(account=account).update(status=Job.Status.FAILED)
    transition(
        account,
        State.FAILED,
        cause=Cause.ENGINE,
        last_error_code="user_does_not_exist",
        **error_fields(Why(Reason.VENDOR_REFUSED, detail="vendor says the user does not exist")),
    )
    body = staff_client.get(f"/staff/campaigns/{campaign.pk}/failures.csv").content.decode()
    rows = list(csv.DictReader(io.StringIO(body)))
    assert [(r["common_id"], r["outcome"]) for r in rows] == [
        (account.member.common_id, "failed"),
        (teacher.common_id, "skipped"),  # "why did these students get nothing?"
    ]
    assert rows[0]["error"] == "the vendor refused: vendor says the user does not exist"
    # The stored code reads in the staff member's language.
    staff_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "ja"
    ja = staff_client.get(f"/staff/campaigns/{campaign.pk}/failures.csv").content.decode()
    assert "ベンダーが拒否しました: vendor says the user does not exist" in ja
    staff_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert rows[1]["error_code"] == "not_eligible"
    assert rows[1]["error"] == "This service is offered to: student."
    progress = campaigns.progress(campaign)
    assert (progress.failed, progress.remaining) == (1, 2)


def _form(service, **extra):
    return {"service": service.slug, "roles": ["student"], "reason": "term start", "start": "1"}


def test_a_scheduled_start_waits_for_its_time_and_can_be_cancelled(
    staff_client, make_service, students
):
    service = make_service()
    start_at = timezone.localtime() + datetime.timedelta(days=2)
    staff_client.post(
        "/staff/campaigns/new/",
        {**_form(service), "start_at": start_at.strftime("%Y-%m-%dT%H:%M")},
    )
    campaign = Campaign.objects.get()
    assert campaign.status == Campaign.Status.SCHEDULED
    page = staff_client.get(f"/staff/campaigns/{campaign.pk}/").content.decode()
    assert "Scheduled: the workers start enrolling at" in page

    assert engine.enroll_due() == 0  # not yet
    assert not Job.objects.exists()
    assert engine.enroll_due(now=start_at + datetime.timedelta(minutes=1)) == 1
    campaign.refresh_from_db()
    assert (campaign.status, campaign.planned) == (Campaign.Status.RUNNING, 5)

    second = campaigns.start(
        service,
        Cohort(["faculty"], None, [], []),
        actor=AuditEntry.objects.get().actor,
        reason="faculty later",
        start_at=start_at,
    )
    staff_client.post(f"/staff/campaigns/{second.pk}/cancel/", {"reason": "date moved"})
    second.refresh_from_db()
    assert second.status == Campaign.Status.CANCELLED
    engine.enroll_due(now=start_at + datetime.timedelta(days=1))
    assert not Job.objects.filter(campaign=second).exists()


def test_a_start_time_in_the_past_is_refused(staff_client, make_service, students):
    service = make_service()
    past = timezone.localtime() - datetime.timedelta(hours=1)
    page = staff_client.post(
        "/staff/campaigns/new/", {**_form(service), "start_at": past.strftime("%Y-%m-%dT%H:%M")}
    ).content.decode()
    assert "The start time has passed" in page
    assert not Campaign.objects.exists()


def test_pause_while_enrolling_stops_the_enrolment_and_resume_continues(
    make_service, students, staff_user, monkeypatch
):
    monkeypatch.setattr(engine, "BATCH", 2)
    service = make_service()
    campaign = campaigns.start(
        service, Cohort(["student"], None, [], []), actor=staff_user, reason="all students"
    )
    assert engine._enroll_batch(campaign.pk)  # one batch, then the staff pause
    campaigns.change_status(campaign, Campaign.Status.PAUSED, actor=staff_user, reason="wait")
    engine.enroll_due()
    campaign.refresh_from_db()
    assert (campaign.status, campaign.planned) == (Campaign.Status.PAUSED, 2)
    campaigns.change_status(campaign, Campaign.Status.RUNNING, actor=staff_user, reason="go on")
    assert campaign.status == Campaign.Status.ENROLLING  # enrolment was not finished
    engine.enroll_due()
    campaign.refresh_from_db()
    assert (campaign.status, campaign.planned) == (Campaign.Status.RUNNING, 5)


def test_a_worker_dying_mid_enrolment_leaves_the_rest_to_another_exactly_once(
    make_service, students, staff_user, monkeypatch
):
    from campusconf.accounts.models import Application

    monkeypatch.setattr(engine, "BATCH", 2)
    service = make_service()
    campaign = campaigns.start(
        service, Cohort(["student"], None, [], []), actor=staff_user, reason="all students"
    )
    # A worker took the lease, committed one batch and died.
    now = timezone.now()
    Campaign.objects.filter(pk=campaign.pk).update(lease_until=now + engine.LEASE)
    engine._enroll_batch(campaign.pk)
    assert engine.enroll_due(now=now) == 0  # its lease still holds
    assert engine.enroll_due(now=now + engine.LEASE * 2) == 1
    campaign.refresh_from_db()
    assert (campaign.status, campaign.planned, campaign.skipped) == ("running", 5, 0)
    assert Application.objects.count() == 5
    assert Job.objects.filter(campaign=campaign).count() == 5


def test_two_campaigns_share_the_service_and_members_go_first(
    make_service, make_member, staff_user, monkeypatch
):
    """The queue claims in run_after order: each campaign's jobs are spaced at the
    service's create rate, so two campaigns alternate; a member's own application is
    in the member lane and goes before both."""
    from campusconf.provisioning.queueing import job_queue
    from campusconf.provisioning.verbs import actions

    # 10 s between a campaign's jobs, so the few milliseconds between the two starts
    # cannot reorder them.
    service = make_service(
        slug="zoom",
        vendor="zoom",
        connector_settings={"base_url": "http://127.0.0.1:1/", "rate_limits": {"light": 0.1}},
    )
    staff = [make_member(staff=True) for _ in range(4)]
    students = [make_member(student=True) for _ in range(4)]
    first = campaigns.start(service, Cohort(["staff"], None, [], []), actor=staff_user, reason="a")
    second = campaigns.start(
        service, Cohort(["student"], None, [], []), actor=staff_user, reason="b"
    )
    engine.enroll_due()
    late = make_member(faculty=True)
    actions.apply_for_service(late, service)

    later = timezone.now() + datetime.timedelta(hours=1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    order = []
    while job := job_queue.claim("test"):
        order.append(job.campaign_id or "member")
        job_queue.finish(job, "test")
    assert order[0] == "member"
    assert order[1:] == [first.pk, second.pk] * 4
    assert len(staff) == len(students) == 4


def test_the_cli_schedules_a_start_and_a_resume_spaces_the_jobs_again(
    make_service, students, staff_user
):
    from django.core.management import call_command

    service = make_service()
    out = io.StringIO()
    call_command(
        "campaign",
        "start",
        service.slug,
        "--role",
        "student",
        "--start-at",
        "2099-04-01T09:00",
        stdout=out,
    )
    campaign = Campaign.objects.get()
    assert "scheduled" in out.getvalue() and campaign.status == Campaign.Status.SCHEDULED
    assert timezone.localtime(campaign.start_at).hour == 9
    assert not Job.objects.exists()

    engine.enroll_due(now=campaign.start_at)
    campaigns.change_status(campaign, Campaign.Status.PAUSED, actor=staff_user, reason="wait")
    Job.objects.update(run_after=timezone.now() - datetime.timedelta(days=3))
    campaigns.change_status(campaign, Campaign.Status.RUNNING, actor=staff_user, reason="go")
    # Stamps from before the pause would put it ahead of campaigns that kept running.
    stamps = sorted(Job.objects.values_list("run_after", flat=True))
    assert stamps[0] >= timezone.now() - datetime.timedelta(minutes=1)
    assert len(set(stamps)) == len(stamps) == 5


def test_a_failing_vendor_shows_as_retrying_and_the_heading_follows_the_enrolment(
    staff_client, client, make_service, students, staff_user
):
    service = make_service()
    old, _new, _teacher = students
    campaign = campaigns.start(
        service, Cohort([], None, [], [m.common_id for m in old]), actor=staff_user, reason="x"
    )
    page = staff_client.get(f"/staff/campaigns/{campaign.pk}/").content.decode()
    assert '<span id="enrolment">0 invited, 0 skipped</span>' in page
    engine.enroll_due()
    jobs = list(campaign.jobs.order_by("pk"))
    now = timezone.now()
    # Every call answered 5xx: two jobs were sent back to wait, one not yet tried.
    Job.objects.filter(pk=jobs[0].pk).update(
        attempts=2, last_error="HTTP 503 old", run_after=now + datetime.timedelta(seconds=5)
    )
    Job.objects.filter(pk=jobs[1].pk).update(
        attempts=1, last_error="HTTP 502 Bad Gateway", run_after=now + datetime.timedelta(seconds=9)
    )
    progress = campaigns.progress(campaign)
    assert (progress.done, progress.failed, progress.retrying) == (0, 0, 2)
    assert progress.last_error == "HTTP 502 Bad Gateway"
    partial = staff_client.get(f"/staff/campaigns/{campaign.pk}/progress/").content.decode()
    assert "2 jobs being retried (last error: HTTP 502 Bad Gateway)" in partial
    # The heading comes along out of band, so it no longer says 0 until the page reloads.
    assert '<span id="enrolment" hx-swap-oob="true">3 invited, 0 skipped</span>' in partial
    # Scripts see the same through the API.
    token = issue_token(staff_user, "tests", reason="test suite")[1]
    body = client.get(
        f"/staff/api/v1/campaigns/{campaign.pk}", HTTP_AUTHORIZATION=f"Bearer {token}"
    ).json()
    assert (body["retrying"], body["last_error"]) == (2, "HTTP 502 Bad Gateway")
    assert (body["remaining"], body["waiting_for_seat"]) == (3, 0)
    assert body["per_minute"] >= 0 and "finish_at" in body
    # A job that is done is no longer being retried, whatever error it met on the way.
    Job.objects.filter(pk__in=[jobs[0].pk, jobs[1].pk]).update(status=Job.Status.DONE)
    assert campaigns.progress(campaign).retrying == 0
    assert (
        "being retried"
        not in staff_client.get(f"/staff/campaigns/{campaign.pk}/progress/").content.decode()
    )


def test_the_pace_is_measured_over_the_time_the_jobs_took(
    staff_client, make_service, students, staff_user
):
    service = make_service()
    old, _new, _teacher = students
    campaign = campaigns.start(
        service, Cohort([], None, [], [m.common_id for m in old]), actor=staff_user, reason="x"
    )
    engine.enroll_due()
    now = timezone.now()
    jobs = list(campaign.jobs.order_by("pk"))
    for seconds_ago, job in zip([10, 9, 8], jobs, strict=True):
        Job.objects.filter(pk=job.pk).update(
            status=Job.Status.DONE, finished_at=now - datetime.timedelta(seconds=seconds_ago)
        )
    # Three invitations within two seconds: 90 a minute, not 3 spread over 5 minutes.
    assert campaigns.progress(campaign, now=now).per_minute == pytest.approx(90)
    # Nothing left but still "running": the page keeps polling until the workers close
    # the campaign, or it would say "running" beside "finished" until reloaded.
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.RUNNING)
    url = f"/staff/campaigns/{campaign.pk}/progress/"
    assert 'hx-trigger="every 2s"' in staff_client.get(url).content.decode()
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.DONE)
    assert 'hx-trigger="every 2s"' not in staff_client.get(url).content.decode()
    # With one still queued, the pace runs up to now: 2 in the last 9 seconds.
    Job.objects.filter(pk=jobs[0].pk).update(status=Job.Status.QUEUED, finished_at=None)
    assert campaigns.progress(campaign, now=now).per_minute == pytest.approx(2 * 60 / 9)
