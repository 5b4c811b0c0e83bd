"""In a real browser: the cards of an address held by an account elsewhere (Z-d, W-f),
the member's "Done: ask the vendor again", and a create waiting for the vendor's daily
reset (Z-e). Screenshots: var/artifacts/screenshots/portal-held-elsewhere-*.png and
portal-daily-cap-*.png, looked at, not compared."""

import datetime

import httpx
import pytest
from django.utils import timezone

from campusconf.accounts.models import Account
from campusconf.accounts.states import State
from campusconf.provisioning.models import Job
from campusconf.provisioning.queueing import rate_limits
from tests.portal.screens import shot_both
from tests.portal.test_browser import dev_sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def dev_mode(settings, live_server):
    settings.DEBUG = True
    settings.CAMPUSCONF_DEV_LOGIN = True
    httpx.get(f"{live_server.url}/healthz", timeout=60)


def zoom_and_webex(make_service):
    webex = make_service(name_ja="Webex", name_en="Webex")
    zoom = make_service(slug="zoom", vendor="zoom", name_ja="Zoom", name_en="Zoom")
    return webex, zoom


def test_held_cards_in_both_languages_and_done_by_keyboard(
    page, live_server, make_member, make_service, account_in
):
    webex, zoom = zoom_and_webex(make_service)
    member = make_member(language="ja")
    account_in(member, webex, State.HELD_ELSEWHERE)
    held = account_in(member, zoom, State.HELD_ELSEWHERE)
    dev_sign_in(page, live_server, member)
    zoom_card = page.locator("#service-zoom")
    assert "別の Zoom アカウント" in zoom_card.inner_text()
    assert "無料の Webex アカウント" in page.locator("#service-webex").inner_text()
    shot_both(page, "portal-held-elsewhere")
    # Keyboard only: the button of the Zoom card, then Enter.
    zoom_card.get_by_role("button", name="完了したのでもう一度依頼する").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/my/#service-zoom")
    assert "Zoom にアカウントの作成をもう一度依頼しています" in page.inner_text("body")
    held.refresh_from_db()
    assert held.state == State.REQUESTED
    assert Job.objects.filter(account=held, status=Job.Status.QUEUED).count() == 1
    shot_both(page, "portal-held-elsewhere-asked")


def test_a_create_waiting_for_the_daily_reset_says_when(
    page, live_server, make_member, make_service, account_in
):
    _, zoom = zoom_and_webex(make_service)
    member = make_member(language="en")
    account_in(member, zoom, State.REQUESTED)
    reset = rate_limits.next_reset(timezone.now())
    rate_limits.pause_creates(zoom, reset, "You have exceeded the daily rate limit")
    dev_sign_in(page, live_server, member)
    card = page.locator("#service-zoom").inner_text()
    shown = timezone.localtime(reset).strftime("%Y-%m-%d %H:%M")
    assert "today's are used up" in card and shown in card
    shot_both(page, "portal-daily-cap")
    assert Account.objects.get(member=member).state == State.REQUESTED
    assert reset - timezone.now() <= datetime.timedelta(days=1)
