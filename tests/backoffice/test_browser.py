"""The back office in a real browser: sign in, read the dashboard, fix an account."""

import datetime
import os
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from campusconf.accounts.states import State
from campusconf.audit.models import AuditEntry
from tests.fixtures.browser import CHROMIUM, CHROMIUM_ARGS, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"


@pytest.fixture(scope="module", autouse=True)
def orm_beside_playwright():
    """Playwright's sync API runs an event loop in this thread; the ORM calls the test
    makes between page actions are still plain synchronous calls. Only for this
    module: set for the whole run, the deploy check would rightly complain."""
    before = os.environ.get(ASYNC_UNSAFE)
    os.environ[ASYNC_UNSAFE] = "true"
    yield
    if before is None:
        del os.environ[ASYNC_UNSAFE]
    else:
        os.environ[ASYNC_UNSAFE] = before


@pytest.fixture(scope="module")
def browser(orm_beside_playwright):
    """This module's own chromium: Playwright's loop must stop when the module ends,
    or every later test's database access would count as running inside it."""
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed at /usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def staff_in_browser(live_server, page):
    # The live server's first request imports the whole URLconf (SAML and SCIM
    # libraries: seconds on a busy machine); do it before the browser's 10 s timeout.
    page.request.get(f"{live_server.url}/healthz", timeout=120_000)
    get_user_model().objects.create_user("staff", password="campusconf-demo", is_staff=True)
    page.goto(f"{live_server.url}/staff/")
    assert "/staff/login/" in page.url
    page.fill("input[name=username]", "staff")
    page.fill("input[name=password]", "campusconf-demo")
    page.click("form.staffform button[type=submit]")
    page.wait_for_url(f"{live_server.url}/staff/")
    return page


@pytest.fixture
def failing_service(make_member, make_service, make_account):
    service = make_service(seats=40)
    now = timezone.now()
    for _ in range(6):
        make_account(make_member(student=True), service, State.ACTIVE)
    failed = make_account(
        make_member(), service, State.FAILED, last_error_message="vendor answered 500"
    )
    make_account(
        make_member(),
        service,
        State.INVITED,
        invitation_sent_at=now - datetime.timedelta(hours=3),
        invitation_expires_at=now + datetime.timedelta(days=1),
    )
    make_account(make_member(), service, State.UNLICENSED)
    return service, failed


def test_dashboard_and_retry_from_it(staff_in_browser, failing_service, live_server):
    page = staff_in_browser
    service, failed = failing_service
    page.goto(f"{live_server.url}/staff/")
    page.click("form.langswitch button[value=ja]")
    page.wait_for_selector("html[lang=ja]")
    shot(page, "backoffice-home-ja")
    page.click(f"a[href='/staff/services/{service.slug}/']")
    page.wait_for_selector("svg.chart")
    body = page.inner_text("main")
    assert "40 席中 8 席を使用" in body  # 6 active, 1 invited, 1 unlicensed
    assert "vendor answered 500" in body
    shot(page, "backoffice-dashboard-ja")

    # From the failed queue to the account, then retry with a reason.
    page.click(f"#queue-failed a[href='/staff/accounts/{failed.pk}/']")
    page.wait_for_selector("ol.timeline")
    shot(page, "backoffice-account-ja")
    page.click(f"a[href='/staff/accounts/{failed.pk}/retry/']")
    page.click("form.staffform button[type=submit]")  # no reason yet: refused
    assert page.url.endswith(f"/staff/accounts/{failed.pk}/retry/")
    page.fill("textarea[name=reason]", "vendor outage is over")
    shot(page, "backoffice-confirm-ja")
    page.click("form.staffform button[type=submit]")
    page.wait_for_url(f"{live_server.url}/staff/accounts/{failed.pk}/")
    assert page.locator(".flash li").count() == 1
    shot(page, "backoffice-account-after-retry-ja")
    failed.refresh_from_db()
    assert failed.state == State.REQUESTED
    assert AuditEntry.objects.get(action="account.retry").reason == "vendor outage is over"


def test_english_dashboard_and_audit_log(staff_in_browser, failing_service, live_server):
    page = staff_in_browser
    service, failed = failing_service
    page.click("form.langswitch button[value=en]")
    page.goto(f"{live_server.url}/staff/services/{service.slug}/")
    assert "seats used" in page.inner_text("main")
    shot(page, "backoffice-dashboard-en")
    page.goto(f"{live_server.url}/staff/accounts/{failed.pk}/suspend/")
    page.fill("textarea[name=reason]", "account misused")
    page.click("form.staffform button[type=submit]")
    page.wait_for_url(f"{live_server.url}/staff/accounts/{failed.pk}/")
    assert "Nothing was changed" in page.inner_text(
        ".flash"
    )  # a failed account cannot be suspended
    page.goto(f"{live_server.url}/staff/accounts/{failed.pk}/deprovision/")
    page.fill("textarea[name=reason]", "left the university")
    page.click("form.staffform button[type=submit]")
    page.goto(f"{live_server.url}/staff/audit/")
    assert "left the university" in page.inner_text("table.audit")
    shot(page, "backoffice-audit-en")


def test_campaign_from_cohort_to_live_progress(
    staff_in_browser, make_member, make_service, live_server
):
    from campusconf.accounts.lifecycle import transition
    from campusconf.accounts.states import Cause
    from campusconf.provisioning import campaigns
    from campusconf.provisioning.models import Campaign, Job

    service = make_service()
    for _ in range(5):
        make_member(student=True, created_on=datetime.date(2025, 4, 1))
    make_member(student=True, created_on=datetime.date(2026, 4, 1))  # after the cut-off
    page = staff_in_browser
    page.goto(f"{live_server.url}/staff/campaigns/new/")
    page.select_option("select[name=service]", service.slug)
    page.check("input[name=roles][value=student]")
    page.fill("input[name=created_before]", "2026-03-24")
    page.click("button[name=preview]")
    page.wait_for_selector("#preview")
    assert "5" in page.inner_text("#preview .seats")
    shot(page, "backoffice-campaign-preview-en")
    page.fill("#preview textarea[name=reason]", "spring term: students on the roster of 3/24")
    page.click("button[name=start]")
    page.wait_for_selector("#progress #enrolling")  # the request only recorded it
    shot(page, "backoffice-campaign-enrolling-en")
    campaign = Campaign.objects.get()
    campaigns.enroll_due()  # what the workers' "campaigns" schedule does
    page.wait_for_function(
        "document.querySelector('#progress .done-count')?.innerText.trim() === '0 / 5'",
        timeout=8000,
    )

    # Stand in for the worker: two invitations go out, one account fails.
    jobs = list(Job.objects.filter(campaign=campaign).order_by("id"))
    for job in jobs[:2]:
        transition(job.account, State.INVITED, cause=Cause.ENGINE)
    transition(
        jobs[2].account,
        State.FAILED,
        cause=Cause.ENGINE,
        last_error_message="User does not exist",
    )
    Job.objects.filter(pk__in=[j.pk for j in jobs[:3]]).update(
        status=Job.Status.DONE, finished_at=timezone.now()
    )
    # htmx polls every 2 s: the bar moves without a reload.
    page.wait_for_function(
        "document.querySelector('#progress .done-count').innerText.trim() === '2 / 5'",
        timeout=8000,
    )
    assert "User does not exist" in page.inner_text("#progress .failures")
    shot(page, "backoffice-campaign-progress-en")
    failures = page.request.get(f"{live_server.url}/staff/campaigns/{campaign.pk}/failures.csv")
    assert "User does not exist" in failures.text()


def test_help_desk_remedy_and_reply(
    staff_in_browser, make_member, make_service, make_account, live_server
):
    from django.core import mail

    from campusconf.portal.inquiries import open_inquiry
    from campusconf.portal.models import Inquiry

    service = make_service()
    member = make_member(language="ja")
    account = make_account(member, service, State.UNLICENSED)
    inquiry = open_inquiry(
        member, service, Inquiry.Topic.WRONG_ACTIVATION, "Google でサインインしてしまいました。"
    )
    page = staff_in_browser
    page.goto(f"{live_server.url}/staff/inquiries/")
    page.click(f"a[href='/staff/inquiries/{inquiry.pk}/']")
    page.click(f"a[href='/staff/accounts/{account.pk}/resend/?inquiry={inquiry.pk}']")
    assert page.input_value("textarea[name=reason]") == f"Inquiry #{inquiry.pk}"
    page.click("form.staffform button[type=submit]")
    page.wait_for_url(f"{live_server.url}/staff/inquiries/{inquiry.pk}/")
    account.refresh_from_db()
    assert account.state == State.REQUESTED  # the engine now sends a fresh invitation (S13)

    page.click("a[href='?canned=resent#id_body']")
    assert "アクティベーションメールを再送しました" in page.input_value("textarea[name=body]")
    page.select_option("select[name=status]", "waiting")
    page.click("form[action$='/reply/'] button[type=submit]")
    page.wait_for_selector(".reply.staff")
    shot(page, "backoffice-helpdesk-en")
    inquiry.refresh_from_db()
    assert inquiry.status == "waiting"
    assert any("アクティベーションメール" in m.body for m in mail.outbox)
