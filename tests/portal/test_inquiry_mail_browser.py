"""Done-when of issue #22: a new inquiry, written in a real browser, mails the help desk
(over a real SMTP server), and the member can write back, which mails it again."""

import httpx
import pytest

from campusconf.portal.models import Inquiry
from tests.fixtures.browser import shot
from tests.portal.screens import shot_both
from tests.portal.test_browser import PHONE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def warm_server(live_server):
    httpx.get(f"{live_server.url}/healthz", timeout=60)


def _wait_for(smtp, n):
    while len(smtp.messages) < n:
        smtp.arrived.clear()
        assert smtp.arrived.wait(10), f"only {len(smtp.messages)} of {n} mails arrived"


@pytest.mark.parametrize("language", ["ja", "en"])
def test_a_new_inquiry_mails_the_help_desk(
    page, live_server, smtp, settings, make_member, make_service, language
):
    settings.DEBUG = True
    settings.CAMPUSCONF_DEV_LOGIN = True
    settings.CAMPUSCONF_HELPDESK_ADDRESS = "helpdesk@example.ac.jp"
    make_service()
    member = make_member(language=language)
    if language == "ja":
        page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/dev-login/?q={member.common_id}")
    page.locator(f"button[value='{member.common_id}']").click()
    page.wait_for_url(f"{live_server.url}/my/")
    page.goto(f"{live_server.url}/my/inquiries/new/?service=webex&topic=no_mail")
    page.fill("#id_what_happened", f"{member.common_id}: no mail since Monday.")
    page.locator("form button[type=submit]").last.click()
    page.wait_for_selector("#member-reply")
    inquiry = Inquiry.objects.get(member=member)

    _wait_for(smtp, 1)
    mail = smtp.messages[0]
    assert mail["To"] == "helpdesk@example.ac.jp"
    text = mail.get_content()
    assert "no mail since Monday." in text and f"/staff/inquiries/{inquiry.pk}/" in text
    assert "新しいお問い合わせ" in mail["Subject"] and "New inquiry" in mail["Subject"]
    shot_both(page, f"portal-inquiry-sent-{'phone' if language == 'ja' else 'laptop'}")

    page.fill("#member-reply textarea", "Still nothing today.")
    page.locator("#member-reply button[type=submit]").click()
    page.wait_for_selector("text=Still nothing today.")
    _wait_for(smtp, 2)
    assert "Still nothing today." in smtp.messages[1].get_content()
    shot(page, f"portal-inquiry-member-reply-{language}")
