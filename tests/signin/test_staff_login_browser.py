"""The staff sign-in page in chromium: the university's sign-in first, the break-glass
form folded below it, its one-time code, and the lockout page."""

import httpx
import pytest
from django.contrib.auth import get_user_model

from campusconf.signin.passwords import enrol_totp
from tests.fixtures.browser import shot
from tests.signin.test_staff_login import PASSWORD, WRONG, current_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def site(live_server):
    httpx.get(f"{live_server.url}/healthz", timeout=60)  # the URLconf's first import
    return live_server.url


@pytest.fixture
def root():
    user = get_user_model().objects.create_superuser("root", password=PASSWORD)
    return enrol_totp(user)


def fill(page, password: str, code: str) -> None:
    page.get_by_text("Emergency administrator sign-in").click()
    page.fill("input[name=username]", "root")
    page.fill("input[name=password]", password)
    page.fill("input[name=otp_token]", code)


def test_the_break_glass_sign_in_in_the_browser(page, site, root, settings):
    settings.DEBUG = True
    settings.CAMPUSCONF_DEV_LOGIN = True  # the page then offers the demo's staff sign-in
    page.goto(f"{site}/staff/")
    assert "/staff/login/" in page.url
    assert page.get_by_role("link", name="Development sign-in as IT staff").is_visible()
    assert not page.locator("input[name=password]").is_visible()  # folded away
    shot(page, "staff-login-en")
    fill(page, PASSWORD, current_code(root))
    shot(page, "staff-login-break-glass-filled-en")
    page.click("form.staffform button[type=submit]")
    page.wait_for_url(f"{site}/staff/")
    page.goto(f"{site}/admin/")
    assert page.url == f"{site}/admin/"  # the code verified the session for the admin too


def test_the_lockout_page_in_both_languages(page, site, root, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        page.goto(f"{site}/staff/login/")
        fill(page, WRONG, current_code(root))
        page.click("form.staffform button[type=submit]")
        page.wait_for_load_state()
    assert "too many failed sign-ins" in page.inner_text("main")
    shot(page, "staff-login-locked-en")
    page.click("form.langswitch button[value=ja]")
    page.wait_for_selector("html[lang=ja]")
    page.goto(f"{site}/staff/login/")
    page.get_by_text("緊急用の管理者サインイン").click()
    page.fill("input[name=username]", "root")
    page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=otp_token]", current_code(root))
    page.click("form.staffform button[type=submit]")
    page.wait_for_load_state()
    assert "ロックしています" in page.inner_text("main")
    shot(page, "staff-login-locked-ja")
    page.goto(f"{site}/staff/")
    assert "/staff/login/" in page.url


def test_the_demos_staff_sign_in_in_the_browser(page, site, settings, make_member):
    """README's walk: /staff/ → "Development sign-in as IT staff" → any sample member."""
    settings.DEBUG = True
    settings.CAMPUSCONF_DEV_LOGIN = True
    member = make_member(staff=True, language="en")
    page.goto(f"{site}/staff/")
    page.get_by_role("link", name="Development sign-in as IT staff").click()
    assert page.get_by_role("checkbox", name="With IT staff rights").is_checked()
    shot(page, "dev-login-as-staff-en")
    page.locator(f"button[value='{member.common_id}']").click()
    page.wait_for_url(f"{site}/staff/")
    assert page.get_by_role("link", name="Back office").count() >= 1  # the nav shows it
