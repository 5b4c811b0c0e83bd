"""In a real browser: an account held elsewhere (Z-d, W-f) from the service's queue to its
page and Retry, and a campaign held by the vendor's daily cap (Z-e). Screenshots:
var/artifacts/screenshots/backoffice-held-elsewhere-*.png, backoffice-daily-cap-*.png."""

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from campusconf.accounts.reasons import Reason, Why, error_fields
from campusconf.accounts.states import State
from campusconf.provisioning.models import Campaign, Job
from campusconf.provisioning.queueing import rate_limits
from tests.fixtures.browser import shot
from tests.signin.browser_session import sign_in_browser_as

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def staff_page(live_server, page):
    page.request.get(f"{live_server.url}/healthz", timeout=120_000)
    staff = get_user_model().objects.create_user("staff", is_staff=True)
    # Staff sign in through the university's SSO (tests/signin); here the session it leaves.
    sign_in_browser_as(page, live_server.url, staff)
    page.goto(f"{live_server.url}/staff/")
    page.wait_for_url(f"{live_server.url}/staff/")
    return page


def test_a_held_account_from_the_queue_to_retry(
    staff_page, live_server, make_member, make_service, make_account
):
    page = staff_page
    zoom = make_service(slug="zoom", vendor="zoom", name_en="Zoom", name_ja="Zoom")
    reason = Why(Reason.HELD_ELSEWHERE, detail="User with that email already exists. [tracking T9]")
    held = make_account(
        make_member(),
        zoom,
        State.HELD_ELSEWHERE,
        reason=reason,
        last_error_code="1005",
        **error_fields(reason),
    )
    page.click("form.langswitch button[value=en]")
    page.goto(f"{live_server.url}/staff/services/zoom/")
    assert "Address held by an account elsewhere" in page.inner_text("main")
    shot(page, "backoffice-held-elsewhere-queue-en")
    page.click(f"a[href='/staff/accounts/{held.pk}/']")
    page.wait_for_selector("#held-elsewhere")
    assert "What the member must do" in page.inner_text("#held-elsewhere")
    assert "address held elsewhere" in page.inner_text("dd.state")
    shot(page, "backoffice-held-elsewhere-account-en")
    page.click("form.langswitch button[value=ja]")
    page.wait_for_selector("html[lang=ja]")
    assert "利用者が行うこと" in page.inner_text("#held-elsewhere")
    shot(page, "backoffice-held-elsewhere-account-ja")
    page.click(f"a[href='/staff/accounts/{held.pk}/retry/']")
    page.fill("textarea[name=reason]", "the member released the paid account")
    page.click("form.staffform button[type=submit]")
    page.wait_for_url(f"{live_server.url}/staff/accounts/{held.pk}/")
    held.refresh_from_db()
    assert held.state == State.REQUESTED
    assert Job.objects.filter(account=held, status=Job.Status.QUEUED).count() == 1


def test_a_campaign_held_by_the_daily_cap_says_when_it_resumes(
    staff_page, live_server, make_member, make_service, make_account
):
    page = staff_page
    zoom = make_service(slug="zoom", vendor="zoom", name_en="Zoom", name_ja="Zoom")
    campaign = Campaign.objects.create(service=zoom, planned=3)
    from campusconf.provisioning.verbs import actions

    for _ in range(3):
        actions.apply_for_service(make_member(), zoom, campaign=campaign)
    reset = rate_limits.next_reset(timezone.now())
    rate_limits.pause_creates(zoom, reset, "You have exceeded the daily rate limit")
    page.click("form.langswitch button[value=en]")
    page.goto(f"{live_server.url}/staff/campaigns/{campaign.pk}/")
    paused = page.inner_text("dd.paused-until")
    assert timezone.localtime(reset).strftime("%Y-%m-%d %H:%M") in paused
    shot(page, "backoffice-daily-cap-campaign-en")
    page.click("form.langswitch button[value=ja]")
    page.wait_for_selector("html[lang=ja]")
    assert "自動的に作成を再開" in page.inner_text("dd.paused-until")
    shot(page, "backoffice-daily-cap-campaign-ja")
