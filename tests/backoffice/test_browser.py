"""The back office in a real browser: sign in, read the dashboard, fix an account."""

import datetime
import os
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from playwright.sync_api import expect

from campusconf.accounts.reasons import Reason, Why, error_fields
from campusconf.accounts.states import State
from campusconf.audit.models import AuditEntry
from tests.fixtures.browser import CHROMIUM, CHROMIUM_ARGS, shot
from tests.signin.browser_session import sign_in_browser_as

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
    staff = get_user_model().objects.create_user("staff", is_staff=True)
    page.goto(f"{live_server.url}/staff/")
    assert "/staff/login/" in page.url
    # Staff sign in through the university's SSO (tests/signin); here the session it leaves.
    sign_in_browser_as(page, live_server.url, staff)
    page.goto(f"{live_server.url}/staff/")
    assert page.url == f"{live_server.url}/staff/"
    return page


@pytest.fixture
def failing_service(make_member, make_service, make_account):
    service = make_service(seats=40)
    now = timezone.now()
    for _ in range(6):
        make_account(make_member(student=True), service, State.ACTIVE)
    failed = make_account(
        make_member(),
        service,
        State.FAILED,
        **error_fields(Why(Reason.VENDOR_REFUSED, detail="vendor answered 500")),
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
    from campusconf.provisioning.models import Campaign, Job
    from campusconf.provisioning.verbs import campaign_enrolment

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
    campaign_enrolment.enroll_due()  # what the workers' "campaigns" schedule does
    # A locator, not wait_for_function: its string would be eval'd, which the CSP forbids.
    expect(page.locator("#progress .done-count")).to_have_text("0 / 5", timeout=8000)

    # Stand in for the worker: two invitations go out, one account fails.
    jobs = list(Job.objects.filter(campaign=campaign).order_by("id"))
    for job in jobs[:2]:
        transition(job.account, State.INVITED, cause=Cause.ENGINE)
    transition(
        jobs[2].account,
        State.FAILED,
        cause=Cause.ENGINE,
        **error_fields(Why(Reason.VENDOR_REFUSED, detail="User does not exist")),
    )
    Job.objects.filter(pk__in=[j.pk for j in jobs[:3]]).update(
        status=Job.Status.DONE, finished_at=timezone.now()
    )
    # htmx polls every 2 s: the bar moves without a reload.
    expect(page.locator("#progress .done-count")).to_have_text("2 / 5", timeout=8000)
    assert "User does not exist" in page.inner_text("#progress .failures")
    shot(page, "backoffice-campaign-progress-en")
    failures = page.request.get(f"{live_server.url}/staff/campaigns/{campaign.pk}/failures.csv")
    assert "User does not exist" in failures.text()


def test_help_desk_remedy_ends_with_the_member_active(
    browser,
    staff_in_browser,
    live_server,
    settings,
    sandbox,
    smtp_capture,
    monkeypatch,
    make_member,
    make_service,
):
    """S12 then S13 through the help desk: the member signs in to Zoom with Google, asks
    the help desk, staff resend the activation with a canned reply, the member accepts
    Zoom's join request, the engine notices, and the member sees the reply and Active."""
    from django.core import mail

    from campusconf.accounts.models import Account
    from campusconf.portal.models import Inquiry
    from campusconf.provisioning import worker
    from campusconf.provisioning.engine import vendors
    from campusconf.provisioning.engine.reconcile import run_pass
    from campusconf.provisioning.verbs import actions
    from tests.fixtures.sandbox import browse_against_sandbox, link
    from vendor_sandbox.launcher import connector_settings

    browse_against_sandbox(settings, monkeypatch, sandbox.creds)
    zoom = make_service(
        slug="zoom",
        vendor="zoom",
        name_ja="Zoom",
        name_en="Zoom",
        connector_settings=connector_settings("zoom", sandbox.creds),
    )

    def engine_settles(reconcile=False):
        # What the workers do: run the jobs, and a reconcile pass notices the vendor.
        worker.drain(max_seconds=60)
        if reconcile:
            run_pass(zoom)
            worker.drain(max_seconds=60)

    def state():
        return Account.objects.get(member=member, service=zoom).state

    member = make_member(language="ja")
    actions.apply_for_service(member, zoom)
    before = smtp_capture.count()
    engine_settles()
    invitation = smtp_capture.wait_for(member.mail_address, "Activate Zoom Account", after=before)

    # The member, in a browser of their own, activates the wrong way (S12).
    context = browser.new_context(viewport={"width": 1100, "height": 820})
    own = context.new_page()
    own.set_default_timeout(15_000)
    own.goto(link(invitation, "Activate Zoom Account"))
    own.get_by_role("button", name="Sign in with Google").click()
    own.wait_for_load_state()
    engine_settles(reconcile=True)
    assert state() == State.INVITED  # Zoom shows the invitation still pending (S12)

    # ... and writes to the help desk from the portal.
    own.goto(f"{live_server.url}/dev-login/?q={member.common_id}")
    own.locator(f"button[value='{member.common_id}']").click()
    own.wait_for_url(f"{live_server.url}/my/")
    own.goto(f"{live_server.url}/my/inquiries/new/?service=zoom&topic=wrong_activation")
    own.fill("#id_what_happened", "Google でサインインしてしまいました。")
    own.click("main form button[type=submit]")
    own.wait_for_url(f"{live_server.url}/my/inquiries/*/")
    inquiry = Inquiry.objects.get(member=member)
    account = inquiry.account
    assert account is not None and inquiry.account_state == State.INVITED

    # Staff: the inquiry beside the account and its remedies; the canned reply "we have
    # sent the activation mail again" carries out the resend (S13) as it is sent.
    page = staff_in_browser
    page.goto(f"{live_server.url}/staff/inquiries/")
    page.click(f"a[href='/staff/inquiries/{inquiry.pk}/']")
    assert page.locator(
        f"a[href='/staff/accounts/{account.pk}/resend/?inquiry={inquiry.pk}']"
    ).count()
    shot(page, "backoffice-helpdesk-inquiry-en")
    page.click("a[href='?canned=resent#id_body']")
    assert "アクティベーションメールを再送しました" in page.input_value("textarea[name=body]")
    assert "Resend invitation" in page.inner_text("#canned-action")
    page.select_option("select[name=status]", "waiting")
    page.click("form[action$='/reply/'] button[type=submit]")
    page.wait_for_selector(".reply.staff")
    assert state() == State.REQUESTED  # the engine now sends a fresh invitation
    assert AuditEntry.objects.get(action="account.resend").details["inquiry"] == inquiry.pk
    shot(page, "backoffice-helpdesk-replied-en")
    assert any("アクティベーションメール" in m.body for m in mail.outbox)

    # The engine resends: the address holds a personal account, so Zoom asks it to
    # join; the member approves and switches, and the next pass sees an active user.
    before = smtp_capture.count()
    engine_settles()
    assert state() == State.INVITED
    join = smtp_capture.wait_for(
        member.mail_address, "invited you to join their Zoom account", after=before
    )
    own.goto(link(join, "Approve Request"))
    own.get_by_role("button", name="Approve Request").click()
    own.wait_for_selector("text=Switch to the new account")
    own.get_by_role("button", name="Confirm and Switch").click()
    own.wait_for_selector("text=Account switched successfully")
    engine_settles(reconcile=True)
    assert state() == State.ACTIVE

    # The member reads the reply in the portal, and the card says Active.
    own.goto(f"{live_server.url}/my/inquiries/{inquiry.pk}/")
    assert "アクティベーションメールを再送しました" in own.inner_text("main")
    shot(own, "backoffice-helpdesk-member-reads-reply-ja")
    own.goto(f"{live_server.url}/my/")
    assert "有効です" in own.locator("#service-zoom").inner_text()
    shot(own, "backoffice-helpdesk-member-active-ja")
    # Staff see it too, beside the inquiry.
    page.goto(f"{live_server.url}/staff/inquiries/{inquiry.pk}/")
    assert "Zoom: active" in page.inner_text("main")
    shot(page, "backoffice-helpdesk-account-active-en")
    context.close()
    vendors.close_all()


def test_a_held_reconcile_pass_approved_from_the_dashboard(
    staff_in_browser, held_pass, live_server
):
    from campusconf.accounts.models import Account
    from campusconf.accounts.states import DesiredState
    from campusconf.provisioning.models import ReconcilePass

    service, held, members = held_pass
    page = staff_in_browser
    page.click("form.langswitch button[value=ja]")
    page.wait_for_selector("html[lang=ja]")
    page.goto(f"{live_server.url}/staff/services/{service.slug}/")
    page.click(
        f"#queue-held_reconcile a[href='/staff/services/{service.slug}/reconcile/{held.pk}/']"
    )
    page.wait_for_selector("#held-review")
    review = page.inner_text("#held-review")
    assert "2 件のアカウントが削除対象" in review
    assert members[0].common_id in review and members[2].common_id not in review
    page.fill("textarea[name=reason]", "3月の離籍者")
    shot(page, "backoffice-held-reconcile-ja")
    page.click("form.staffform button[type=submit]")
    page.wait_for_url(f"{live_server.url}/staff/services/{service.slug}/")
    assert "承認しました" in page.inner_text(".flash")
    shot(page, "backoffice-held-reconcile-approved-ja")
    held.refresh_from_db()
    assert held.status == ReconcilePass.Status.APPROVED
    assert Account.objects.filter(desired_state=DesiredState.ABSENT).count() == 2
    assert AuditEntry.objects.get(action="reconcile.approve").reason == "3月の離籍者"


def test_a_whole_campaign_against_the_faulty_sandbox(
    staff_in_browser, live_server, settings, sandbox, monkeypatch, make_member, make_service
):
    """Cohort → preview → start → the workers' enrolment and jobs against the sandbox
    with its faults on → progress → failures CSV saying why, skipped members included."""
    import csv
    import io

    from campusconf.provisioning import worker
    from campusconf.provisioning.engine import vendors
    from campusconf.provisioning.models import Campaign
    from campusconf.provisioning.verbs import campaign_enrolment
    from vendor_sandbox.launcher import connector_settings, vendor_env

    settings.CAMPUSCONF_ENGINE = {
        **settings.CAMPUSCONF_ENGINE,
        "BACKOFF_BASE_SECONDS": 0.05,
        "BACKOFF_MAX_SECONDS": 0.2,
        "RATE_LIMITS": False,
        "FRESH_SECONDS": 0,
        "MAX_ATTEMPTS": 1,  # one vendor error and the account fails: failures to report
    }
    for key, value in vendor_env(sandbox.creds).items():
        monkeypatch.setenv(key, value)
    vendors.close_all()
    service = make_service(
        eligible_roles="student", connector_settings=connector_settings("webex", sandbox.creds)
    )
    students = [make_member(student=True) for _ in range(6)]
    teacher = make_member(faculty=True)  # in the cohort, but the service is for students
    sandbox.set_faults(scope="webex", error_rate=0.5, seed=11)

    page = staff_in_browser
    page.goto(f"{live_server.url}/staff/campaigns/new/")
    page.select_option("select[name=service]", service.slug)
    page.check("input[name=roles][value=student]")
    page.check("input[name=roles][value=faculty]")
    page.click("button[name=preview]")
    page.wait_for_selector("#preview")
    assert "6 members would be invited (7 in the cohort" in page.inner_text("#preview .seats")
    page.fill("#preview textarea[name=reason]", "all students and faculty, spring term")
    page.click("button[name=start]")
    page.wait_for_selector("#progress #enrolling")
    campaign = Campaign.objects.get()

    campaign_enrolment.enroll_due()  # the workers: enrol, then run the jobs
    worker.drain(max_seconds=60)
    campaign_enrolment.enroll_due()  # ... and close the campaign once no work is left
    vendors.close_all()
    campaign.refresh_from_db()
    assert (campaign.status, campaign.planned, campaign.skipped) == ("done", 6, 1)
    failed = campaign_accounts(campaign, "failed")
    invited = campaign_accounts(campaign, "invited")
    assert failed and invited, "the seeded faults fail some invitations, not all"
    assert len(failed) + len(invited) == len(students)

    page.reload()
    page.wait_for_selector("#progress .done-count")
    assert page.inner_text("#progress .done-count") == f"{len(invited)} / 6"
    assert teacher.common_id in page.inner_text("#progress .skips")
    shot(page, "backoffice-campaign-faults-en")
    body = page.request.get(f"{live_server.url}/staff/campaigns/{campaign.pk}/failures.csv").text()
    rows = list(csv.DictReader(io.StringIO(body)))
    by_id = {r["common_id"]: r for r in rows}
    for account in failed:
        row = by_id[account.member.common_id]
        assert row["outcome"] == "failed" and row["error"]  # the vendor's error, as we saw it
    assert by_id[teacher.common_id]["outcome"] == "skipped"
    assert by_id[teacher.common_id]["error"] == "This service is offered to: student."
    assert len(rows) == len(failed) + 1


def campaign_accounts(campaign, state):
    from campusconf.accounts.models import Account

    return list(
        Account.objects.filter(jobs__campaign=campaign, state=state)
        .select_related("member")
        .distinct()
    )
