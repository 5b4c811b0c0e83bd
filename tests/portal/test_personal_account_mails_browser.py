"""S7 at both vendors, in a browser: a member whose address already holds a personal
Webex and Zoom account is told the mails those vendors really send, and has them.

Neither API shows the conversion apart from an invitation (docs/vendors.md), so the
card names both mails; the one the member has — Webex's "Convert to Enterprise Account"
(Review → Convert account) and Zoom's join request (Approve Request → Confirm and
Switch) — must be there with its button, and must be the one in the mailbox.
"""

import pytest

from campusconf.accounts.states import State
from campusconf.portal import outbox
from tests.fixtures.browser import shot
from tests.fixtures.sandbox import link
from tests.portal.test_flows_browser import engine_settles, portal, sign_in, state_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
__all__ = ["portal"]  # the fixture, imported for this module's tests

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1100, "height": 820}
WORDS = {
    "ja": {"webex": ("「Review」", "「アカウントの変換」"), "active": "有効です"},
    "en": {"webex": ("“Review”", "“Convert account”"), "active": "Active since"},
}


def both_widths(page, name):
    page.set_viewport_size(PHONE)
    shot(page, f"{name}-phone")
    page.set_viewport_size(LAPTOP)
    shot(page, f"{name}-laptop")


@pytest.mark.parametrize("language", ["ja", "en"])
def test_s7_member_is_told_the_conversion_mails_of_both_vendors(
    page, live_server, portal, sandbox, smtp_capture, make_member, settings, language
):
    member = make_member(language=language)
    address = member.mail_address
    sandbox.seed_personal("webex", address)
    sandbox.seed_personal("zoom", address)
    # Our own notices go to the same mailbox as the vendors' mails.
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", smtp_capture.port
    # The demo's services send members to the sandbox's sign-in pages, not the vendor's.
    zoom_pages = sandbox.creds["zoom"]["base_url"].removesuffix("/v2")
    portal["zoom"].connector_settings["sign_in_url"] = f"{zoom_pages}/signin"
    portal["zoom"].save(update_fields=["connector_settings"])
    sign_in(page, live_server, member)
    assert page.locator("html").get_attribute("lang") == language
    before = smtp_capture.count()
    for slug in ("webex", "zoom"):
        page.locator(f"form[action$='/services/{slug}/apply/'] button").click()
        page.wait_for_load_state()
    engine_settles()
    assert state_of(member, "webex") == state_of(member, "zoom") == State.INVITED

    # The mailbox holds the conversion request and the join request, not invitations.
    convert = smtp_capture.wait_for(address, "Convert to Enterprise Account", after=before)
    join = smtp_capture.wait_for(address, "invited you to join their Zoom account", after=before)
    assert link(convert, "Review") and link(join, "Approve Request")
    subjects = [m["Subject"] for m in smtp_capture.messages[before:] if m["To"] == address]
    assert not any("Activate Zoom Account" in s or "invited you to Cisco" in s for s in subjects)

    page.goto(f"{live_server.url}/my/")
    webex = page.locator("#service-webex")
    existing = webex.locator(".mail-choice").nth(1)
    facts = existing.locator(".mail-facts").inner_text()
    assert "Convert to Enterprise Account" in facts and address in facts
    assert "Cisco Webex" in facts and WORDS[language]["webex"][0] in facts
    assert WORDS[language]["webex"][1] in existing.inner_text()
    zoom = page.locator("#service-zoom")
    existing = zoom.locator(".mail-choice").nth(1)
    facts = existing.locator(".mail-facts").inner_text()
    assert join["Subject"] in facts and address in facts and "Zoom" in facts
    assert "Approve Request" in facts and "Confirm and Switch" in existing.inner_text()
    both_widths(page, f"s7-cards-{language}")

    # Our notice names the same mails, and goes as soon as it is queued.
    outbox.send_due()
    ours = [m for m in smtp_capture.messages[before:] if m["X-Sandbox-Mail-Id"] is None]
    text = "\n".join(m.get_body(("plain",)).get_content() for m in ours)
    flat = "".join(text.split())
    assert "ConverttoEnterpriseAccount" in flat and "invitedyoutojointheirZoomaccount" in flat
    assert "ApproveRequest" in flat and "ConfirmandSwitch" in flat

    # And the buttons named are the buttons there: Zoom's join request to the end.
    page.goto(link(join, "Approve Request"))
    page.get_by_role("button", name="Approve Request").click()
    page.get_by_role("button", name="Confirm and Switch").click()
    page.wait_for_selector("text=Account switched successfully")
    engine_settles(portal["zoom"])
    assert state_of(member, "zoom") == State.ACTIVE
    page.goto(link(convert, "Review"))
    page.get_by_role("button", name="Convert account").click()
    page.wait_for_selector("text=Your account was successfully converted")
    page.goto(f"{live_server.url}/my/")
    assert WORDS[language]["active"] in page.locator("#service-zoom").inner_text()
    both_widths(page, f"s7-after-{language}")
    page.locator("#service-zoom .next-step a.button").click()
    page.wait_for_url(f"{zoom_pages}/signin")
