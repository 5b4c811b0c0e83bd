"""In a real browser: the account's timeline and last error read in Japanese on the
Japanese back office. Screenshot: var/artifacts/screenshots/backoffice-timeline-reasons-ja.png."""

import pytest
from django.contrib.auth import get_user_model

from campusconf.accounts.lifecycle import open_account, transition
from campusconf.accounts.reasons import Reason
from campusconf.accounts.states import Cause, State
from campusconf.provisioning.engine.steps import give_up_account
from tests.fixtures.browser import shot
from tests.signin.browser_session import sign_in_browser_as

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_timeline_reads_in_japanese(live_server, page, make_member, make_service):
    page.request.get(f"{live_server.url}/healthz", timeout=120_000)
    service = make_service(slug="zoom", vendor="zoom", name_en="Zoom", name_ja="Zoom")
    account = open_account(make_member(), service, cause=Cause.MEMBER)
    transition(account, State.INVITED, cause=Cause.ENGINE, reason=Reason.VENDOR_USER_CREATED)
    transition(account, State.UNLICENSED, cause=Cause.MEMBER, reason=Reason.MEMBER_REPORTS_GOOGLE)
    transition(
        account, State.REQUESTED, cause=Cause.MEMBER, reason=Reason.FRESH_INVITATION_AFTER_GOOGLE
    )
    give_up_account(account.pk, "User is disabled [tracking Z1]", "1120")
    staff = get_user_model().objects.create_user("staff", is_staff=True)
    sign_in_browser_as(page, live_server.url, staff)
    page.goto(f"{live_server.url}/staff/")
    page.click("form.langswitch button[value=ja]")
    page.goto(f"{live_server.url}/staff/accounts/{account.pk}/")
    timeline = page.inner_text("ol.timeline")
    assert "ベンダーのユーザーを作成し、招待を送信しました" in timeline
    assert "利用者が「Googleでサインイン」を選んだと申告しました（S12）" in timeline
    assert "ベンダーが拒否しました: User is disabled [tracking Z1]" in timeline
    assert "vendor user created" not in timeline and "the member says" not in timeline
    assert "ベンダーが拒否しました" in page.inner_text("main")  # the last error too
    shot(page, "backoffice-timeline-reasons-ja")
