"""Staff start a small rehearsal from the back office and read its report, in both
languages: a real ``campusconf rehearse`` process, its sandbox and its members.

Ten members over two simulated days (the mix edited on the page), so the run takes
about a minute. Screenshots: var/artifacts/screenshots/rehearsal-page-*.png."""

import pytest
from django.conf import settings as django_settings

from campusconf.rehearsal.mix import DEFAULT_MIX
from tests.fixtures.axe import violations
from tests.fixtures.browser import shot
from tests.signin.browser_session import sign_in_browser_as

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

RUN_SECONDS = 900  # a bound for a busy shared machine; the run itself takes about a minute


def test_staff_start_a_ten_member_rehearsal_and_read_when_the_last_member_is_active(
    browser, live_server, settings, tmp_path, make_service, staff_user
):
    settings.VAR_DIR = tmp_path
    # An overridden settings object names no module of its own: say which it stands for.
    settings.SETTINGS_MODULE = "campusconf.settings.test"
    make_service()
    make_service(
        "zoom", "zoom", name_en="Zoom", name_ja="ズーム", connector_settings={"plan": "business"}
    )
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_cookies(
        [{"name": django_settings.LANGUAGE_COOKIE_NAME, "value": "en", "url": live_server.url}]
    )
    page = context.new_page()
    sign_in_browser_as(page, live_server.url, staff_user)

    page.goto(f"{live_server.url}/staff/rehearsal/")
    page.fill("#id_members", "10")
    page.fill("#id_seed", "1")
    page.fill("#id_cohort_zoom", "30000")
    page.fill("#id_cohort_webex", "8000")
    mix = DEFAULT_MIX.read_text(encoding="utf-8").replace("days = 15", "days = 2")
    page.fill("#id_mix_text", mix)
    shot(page, "rehearsal-page-form-en")
    page.click("text=Start the rehearsal")
    page.wait_for_url("**/staff/rehearsal/*/")
    assert page.locator("#rehearsal-progress").get_attribute("data-state") == "running"
    shot(page, "rehearsal-page-running-en")

    page.wait_for_selector(
        '#rehearsal-progress:not([data-state="running"])', timeout=RUN_SECONDS * 1000
    )
    progress = page.locator("#rehearsal-progress")
    assert progress.get_attribute("data-state") == "done", progress.inner_text()
    rows = page.locator("#rehearsal-projection tbody tr")
    zoom = rows.filter(has_text="Zoom")
    # 30,000 members at Zoom Business's 10,000 new users a day: the last invitation on
    # day 3, whatever the members do; the last member active that day or later.
    assert "day 3" in zoom.locator("td").nth(4).inner_text()
    assert "the last member will be active on day" in zoom.inner_text()
    webex = rows.filter(has_text="Webex")
    assert "day 1" in webex.locator("td").nth(4).inner_text()  # 8,000 at 145.5 a minute
    assert "Side by side" in page.inner_text("#rehearsal-report")
    assert page.locator("#rehearsal-report svg polyline").count() == 1
    assert violations(page) == []
    shot(page, "rehearsal-page-report-en")

    context.add_cookies(
        [{"name": django_settings.LANGUAGE_COOKIE_NAME, "value": "ja", "url": live_server.url}]
    )
    page.reload()
    assert page.locator("html").get_attribute("lang") == "ja"
    zoom = page.locator("#rehearsal-projection tbody tr").filter(has_text="ズーム")
    assert "3日目" in zoom.locator("td").nth(4).inner_text()
    assert "最後の利用者は" in zoom.inner_text()
    assert violations(page) == []
    shot(page, "rehearsal-page-report-ja")

    page.goto(f"{live_server.url}/staff/rehearsal/")
    assert page.locator("#rehearsal-runs tbody tr").count() == 1
    assert "完了しました" in page.inner_text("#rehearsal-runs")  # "finished", in Japanese
    context.close()
