"""The inquiry form in a real browser, in both languages: the affiliation the member is
sent with, and the first line of the text, name it in the page's language (issue #22)."""

import httpx
import pytest

from tests.fixtures.browser import shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def warm_server(live_server):
    httpx.get(f"{live_server.url}/healthz", timeout=60)


@pytest.mark.parametrize(
    ("language", "first_line", "hidden"),
    [
        ("ja", "理学部の山田 太郎です。", "Faculty of Science"),
        ("en", "of Faculty of Science.", "理学部"),
    ],
)
def test_the_inquiry_form_names_the_affiliation_in_the_members_language(
    page, live_server, settings, make_member, make_service, language, first_line, hidden
):
    settings.DEBUG = True
    settings.CAMPUSCONF_DEV_LOGIN = True
    make_service()
    member = make_member(affiliation_ja="理学部", language=language)
    page.goto(f"{live_server.url}/dev-login/?q={member.common_id}")
    page.locator(f"button[value='{member.common_id}']").click()
    page.wait_for_url(f"{live_server.url}/my/")
    page.goto(f"{live_server.url}/my/inquiries/new/?service=webex&topic=no_mail")
    text = page.input_value("#id_what_happened")
    assert text.splitlines()[0].endswith(first_line)
    main = page.inner_text("main")
    assert hidden not in main
    shot(page, f"portal-inquiry-affiliation-{language}")
