"""The portal in a real browser: sign in, read the one next step, apply, ask for help.

Screenshots go to var/artifacts/screenshots/portal-*.png; they are looked at, not
compared, so a page that renders wrong is noticed by a person.
"""

import datetime

import httpx
import pytest
from django.utils import timezone

from campusconf.accounts.states import State
from campusconf.portal.models import Inquiry
from tests.fixtures.axe import violations
from tests.fixtures.browser import shot
from tests.portal.screens import shot_both

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


PHONE = {"width": 390, "height": 844}

UNLABELLED_CONTROLS = """
() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea, button')]
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                && !(el.textContent || '').trim())
  .map(el => el.outerHTML)
"""


@pytest.fixture(autouse=True)
def warm_server(live_server):
    """The first request loads the URLconf and, with it, pysaml2's XML schemas (seconds)."""
    httpx.get(f"{live_server.url}/healthz", timeout=60)


@pytest.fixture
def dev_mode(settings):
    settings.DEBUG = True
    settings.CAMPUSCONF_DEV_LOGIN = True


def dev_sign_in(page, live_server, member):
    page.goto(f"{live_server.url}/signin/")
    page.get_by_role("link", name="Development sign-in").click()
    page.fill("#q", member.common_id)
    page.keyboard.press("Enter")
    page.get_by_role("button", name=f"Sign in as {member.display_name_latin}").click()
    page.wait_for_url(f"{live_server.url}/my/")


@pytest.mark.usefixtures("dev_mode")
def test_dev_sign_in_and_apply_with_the_keyboard(page, live_server, make_member, make_service):
    make_service(valid_until=datetime.date(2027, 3, 31))
    make_service(
        slug="zoom",
        vendor="zoom",
        name_ja="Zoom",
        name_en="Zoom",
        plan_name="Pro",
        max_participants=500,
        webinars=True,
        end_to_end_encryption=False,
        eligible_roles="student",
    )
    member = make_member(language="en")
    page.goto(f"{live_server.url}/signin/")
    assert page.locator(".devbanner").is_visible()
    shot(page, "portal-signin-en")
    page.goto(f"{live_server.url}/dev-login/")
    shot(page, "portal-dev-login-en")
    dev_sign_in(page, live_server, member)
    assert page.locator("h1").inner_text() == "My services"
    assert "not available to you" in page.locator("#service-zoom").inner_text()
    assert "needs no account" in page.locator("#service-zoom").inner_text()
    assert page.evaluate(UNLABELLED_CONTROLS) == []
    shot(page, "portal-my-services-apply-en")
    # Keyboard only: focus the Apply button and press Enter.
    apply = page.get_by_role("button", name="Apply for Webex")
    apply.focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("text=We received your application")
    # The confirmation takes the focus: a screen reader reads it, and it is on screen.
    result = page.locator("#result")
    page.locator("#result:focus").wait_for()
    assert "We received your application" in result.inner_text()
    box, height = result.bounding_box(), page.viewport_size["height"]
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height
    assert "being created" in page.locator("#service-webex").inner_text()
    shot(page, "portal-my-services-requested-en")
    page.get_by_role("button", name="Sign out").click()
    page.goto(f"{live_server.url}/my/")
    assert "/signin/" in page.url


@pytest.mark.parametrize("language", ["ja", "en"])
@pytest.mark.parametrize("viewport", ["desktop", "phone"])
@pytest.mark.usefixtures("dev_mode")
def test_every_state_renders(
    browser, live_server, make_member, make_service, account_in, language, viewport
):
    """One member per state, on a phone and a desktop, in both languages."""
    now = timezone.now()
    service = make_service(valid_until=(now + datetime.timedelta(days=20)).date())
    zoom = make_service(
        slug="zoom",
        vendor="zoom",
        name_ja="Zoom",
        name_en="Zoom",
        plan_name="Pro",
        max_participants=500,
        webinars=True,
        end_to_end_encryption=False,
    )
    context = browser.new_context(
        viewport=PHONE if viewport == "phone" else {"width": 1100, "height": 820},
        locale=language,
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    facts = {
        State.INVITED: {
            "invitation_sent_at": now - datetime.timedelta(hours=2),
            "invitation_expires_at": now + datetime.timedelta(days=13),
        },
        State.UNLICENSED: {"observed_login_type": "google"},
        State.ACTIVE: {"activated_at": now - datetime.timedelta(days=40)},
    }
    pairs = [
        (State.INVITED, State.UNLICENSED),
        (State.ACTIVE, State.CONVERSION_PENDING),
        (State.INVITATION_EXPIRED, State.FAILED),
    ]
    for webex_state, zoom_state in pairs:
        member = make_member(language=language)
        account_in(member, service, webex_state, **facts.get(webex_state, {}))
        account_in(member, zoom, zoom_state, **facts.get(zoom_state, {}))
        dev_sign_in_any(page, live_server, member)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        assert page.evaluate(UNLABELLED_CONTROLS) == []
        assert violations(page) == []
        shot(page, f"portal-{webex_state}-{zoom_state}-{language}-{viewport}")
        page.locator("form.signout button").click()
    context.close()


def dev_sign_in_any(page, live_server, member):
    page.goto(f"{live_server.url}/dev-login/?q={member.common_id}")
    page.locator(f"button[value='{member.common_id}']").click()
    page.wait_for_url(f"{live_server.url}/my/")


@pytest.mark.usefixtures("dev_mode")
def test_i_got_no_mail_in_the_browser(page, live_server, make_member, make_service, account_in):
    service = make_service()
    member = make_member(language="ja")
    now = timezone.now()
    account_in(
        member,
        service,
        State.INVITED,
        invitation_sent_at=now - datetime.timedelta(hours=2),
        invitation_expires_at=now + datetime.timedelta(days=13),
    )
    dev_sign_in_any(page, live_server, member)
    shot_both(page, "flow-s5-invited-an-hour-ago")
    page.get_by_role("link", name="メールが届かない").click()
    text = page.locator("#id_what_happened").input_value()
    assert member.common_id in text and "1時間以上" in text
    shot_both(page, "portal-inquiry-prefilled")
    assert "1時間以上" in page.locator("#id_what_happened").input_value()
    page.get_by_role("button", name="ヘルプデスクに送信する").click()
    page.wait_for_selector("text=お問い合わせをヘルプデスクに送信しました")
    inquiry = Inquiry.objects.get(member=member)
    assert inquiry.account_state == State.INVITED and inquiry.topic == "no_mail"
    inquiry.replies.create(body="招待状を再送しました。", from_staff=True)
    page.reload()
    assert "招待状を再送しました。" in page.inner_text("main")
    shot_both(page, "portal-inquiry-detail")


@pytest.mark.parametrize("slug", ["webex", "zoom"])
def test_help_pages(page, live_server, make_service, slug):
    make_service(slug=slug, vendor=slug, name_en=slug.title(), name_ja=slug.title())
    for language in ("ja", "en"):
        page.set_extra_http_headers({"accept-language": language})
        page.goto(f"{live_server.url}/help/{slug}/")
        assert page.locator("h1").count() == 1
        # The sandbox screenshots are served and load (a broken image has no width).
        images = page.locator("article.help figure img")
        assert images.count() >= 5
        for image in images.all():
            image.scroll_into_view_if_needed()
            image.evaluate("img => img.complete || new Promise(r => img.onload = img.onerror = r)")
            assert image.evaluate("img => img.naturalWidth") > 0, image.get_attribute("src")
            assert image.get_attribute("alt")
        shot(page, f"portal-help-{slug}-{language}")


@pytest.mark.usefixtures("dev_mode")
def test_a_refused_mailbox_is_shown_above_the_cards(
    page, live_server, make_member, make_service, account_in
):
    from campusconf.portal.models import Notice
    from campusconf.portal.notices import queue_notice

    member = make_member(language="ja")
    account = account_in(member, make_service(), State.INVITED)
    queue_notice("invitation_expiring", account, key="browser")
    Notice.objects.filter(account=account).update(
        attempts=1,
        last_error=f"mailbox refused: {{'{member.mail_address}': (550, b'5.2.1')}}",
    )
    dev_sign_in_any(page, live_server, member)
    banner = page.locator("[role=alert].mailbox-refused")
    assert member.mail_address in banner.inner_text() and "利用開始" in banner.inner_text()
    assert page.locator("#service-webex").get_attribute("data-mailbox") == "refused"
    shot_both(page, "portal-mailbox-refused")
