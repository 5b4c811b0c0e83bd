"""The vendors' web pages, walked in Debian's chromium, each flow starting from the mail."""

from __future__ import annotations

import pytest

from tests.fixtures.browser import shot
from tests.fixtures.sandbox import SmtpCapture, link
from vendor_sandbox.launcher import Sandbox

# The sandbox's pages never touch the project's database (the SQLite pass checks them).
pytestmark = [pytest.mark.browser, pytest.mark.once]
GOOD = "Campus2020pass"


def _zoom_create(sandbox: Sandbox, email: str) -> str:
    with sandbox.zoom() as z:
        info = {"email": email, "type": 2, "first_name": "Hanako", "last_name": "Sato"}
        resp = z.post("/users", json={"action": "create", "user_info": info})
        assert resp.status_code == 201
        return str(resp.json()["id"])


def _zoom_user(sandbox: Sandbox, email: str) -> dict:
    # The admin dump, not GET /users/{email}: Zoom answers a pending user with its id
    # and the time of the call alone (Errata Z-c), no status.
    users = sandbox.admin_response("GET", "users", params={"vendor": "zoom"}).json()["zoom"]
    return dict(next(u for u in users if u["email"] == email))


def _webex_create(sandbox: Sandbox, email: str) -> dict:
    lic = sandbox.creds["webex"]["licenses"]["Meeting - Webex Enterprise Edition"]
    with sandbox.webex() as w:
        body = {"emails": [email], "displayName": "Taro Yamada", "licenses": [lic]}
        resp = w.post("/people", json=body)
        assert resp.status_code == 200
        return dict(resp.json())


def test_webex_activate_profile_signout(sandbox, smtp_capture: SmtpCapture, page) -> None:
    email = "s6@g.ecc.example.ac.jp"
    person = _webex_create(sandbox, email)
    mail = smtp_capture.wait_for(email, "has invited you to Cisco Webex")
    page.goto(link(mail, "Activate"))
    page.get_by_role("heading", name="Create a new password").wait_for()
    page.get_by_label("New password").fill("short")
    page.get_by_label("Confirm password").fill("short")
    page.get_by_role("button", name="Save & Sign in").click()
    page.get_by_text("8 to 32 characters").first.wait_for()
    shot(page, "webex_activate_policy_error")
    page.get_by_label("New password").fill(GOOD)
    page.get_by_label("Confirm password").fill(GOOD + "x")
    page.get_by_role("button", name="Save & Sign in").click()
    page.get_by_text("do not match").wait_for()
    page.get_by_label("New password").fill(GOOD)
    page.get_by_label("Confirm password").fill(GOOD)
    page.get_by_role("button", name="Save & Sign in").click()
    page.get_by_role("heading", name="Welcome, Taro Yamada").wait_for()
    page.get_by_text("Meeting - Webex Enterprise Edition").wait_for()
    shot(page, "webex_signed_in")
    with sandbox.webex() as w:
        assert w.get(f"/people/{person['id']}").json()["invitePending"] == "false"

    # S9: names are the member's to set; a new address loses the organisation's licence
    page.get_by_role("link", name="Edit profile").click()
    page.get_by_label("Display name").fill("Yamada Taro (Science)")
    page.get_by_label("First name").fill("Taro")
    page.get_by_label("Last name").fill("Yamada")
    page.get_by_label("Email address").fill("taro.private@example.com")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("license was removed").wait_for()
    shot(page, "webex_profile_email_changed")
    with sandbox.webex() as w:
        after = w.get(f"/people/{person['id']}").json()
    assert after["emails"] == ["taro.private@example.com"] and after["licenses"] == []
    assert after["firstName"] == "Taro" and after["displayName"] == "Yamada Taro (Science)"

    page.get_by_role("link", name="Sign out").first.click()
    page.get_by_text("You are signed out.").wait_for()
    page.get_by_label("Email address").fill("taro.private@example.com")
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Password").fill(GOOD)
    page.get_by_role("button", name="Sign In").click()
    page.get_by_role("heading", name="Welcome, Yamada Taro (Science)").wait_for()


def test_webex_convert_then_forgot_password(sandbox, smtp_capture: SmtpCapture, page) -> None:
    email = "s7@g.ecc.example.ac.jp"
    sandbox.seed_personal("webex", email, display_name="Old personal", password="Personal123")
    person = _webex_create(sandbox, email)
    mail = smtp_capture.wait_for(email, "Convert to Enterprise Account")
    assert (
        "Convert to CampusConf University’s enterprise account."
        in mail.get_body(("plain",)).get_content()
    )
    page.goto(link(mail, "Review"))
    page.get_by_role("heading", name="Join the enterprise account").wait_for()
    shot(page, "webex_join_enterprise")
    page.get_by_role("button", name="Convert account").click()
    page.get_by_role("heading", name="Your account was successfully converted").wait_for()
    shot(page, "webex_converted")
    page.get_by_role("link", name="Sign in").last.click()
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Password").fill("Personal123")
    page.get_by_role("button", name="Sign In").click()
    page.get_by_text("No password is set").wait_for()
    before = smtp_capture.count()
    page.get_by_role("link", name="Forgot password").click()
    page.get_by_role("button", name="Send").click()
    page.get_by_role("heading", name="Check your email").wait_for()
    reset = smtp_capture.wait_for(email, "Reset your Cisco Webex password", after=before)
    page.goto(link(reset, "Reset Password"))
    page.get_by_label("New password").fill(GOOD)
    page.get_by_label("Confirm password").fill(GOOD)
    page.get_by_role("button", name="Save & Sign in").click()
    page.get_by_role("heading", name="Welcome, Taro Yamada").wait_for()
    with sandbox.webex() as w:
        assert w.get(f"/people/{person['id']}").json()["invitePending"] == "false"
    assert sandbox.admin_response("GET", "personal-accounts").json()["items"] == []


def test_webex_invitation_expires_after_15_days(sandbox, smtp_capture: SmtpCapture, page) -> None:
    email = "s4@g.ecc.example.ac.jp"
    _webex_create(sandbox, email)
    url = link(smtp_capture.wait_for(email, "invited you"), "Activate")
    sandbox.move_clock(days=15.01)
    page.goto(url)
    page.get_by_role("heading", name="This link has expired").wait_for()
    shot(page, "webex_expired")


def test_zoom_sign_up_with_password(sandbox, smtp_capture: SmtpCapture, page) -> None:
    email = "zs@g.ecc.example.ac.jp"
    _zoom_create(sandbox, email)
    mail = smtp_capture.wait_for(email, "Activate Zoom Account")
    page.goto(link(mail, "Activate Zoom Account"))
    page.get_by_role("button", name="Sign in with Google").wait_for()
    shot(page, "zoom_activate_choice")
    page.get_by_role("link", name="Sign up with password").click()
    page.get_by_label("First Name").fill("Hanako")
    page.get_by_label("Last Name").fill("Sato")
    page.get_by_label("Password", exact=True).fill(GOOD)
    page.get_by_label("Confirm Password").fill("different1")
    page.get_by_role("button", name="Continue").click()
    page.get_by_text("do not match").wait_for()
    shot(page, "zoom_signup_error")
    page.get_by_label("Password", exact=True).fill(GOOD)
    page.get_by_label("Confirm Password").fill(GOOD)
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("heading", name="Your account has been activated").wait_for()
    shot(page, "zoom_activated")
    user = _zoom_user(sandbox, email)
    assert user["status"] == "active" and user["type"] == 2 and 100 in user["login_types"]
    page.get_by_role("link", name="My Account").last.click()
    page.get_by_text("Licensed").wait_for()
    page.get_by_role("link", name="Sign out").click()
    page.get_by_role("link", name="Sign in").first.wait_for()


def test_zoom_google_mistake_recovered_by_forgot_password(
    sandbox, smtp_capture: SmtpCapture, page
) -> None:
    email = "zg@g.ecc.example.ac.jp"
    _zoom_create(sandbox, email)
    first = smtp_capture.wait_for(email, "Activate Zoom Account")
    page.goto(link(first, "Activate Zoom Account"))
    page.get_by_role("button", name="Sign in with Google").click()
    page.get_by_role("heading", name="My Account").wait_for()
    page.get_by_text("Personal account (not part of any organization)").wait_for()
    shot(page, "zoom_google_personal_basic")
    assert _zoom_user(sandbox, email)["status"] == "pending"  # S12: still pending

    # S14: sign out, "Forgot password" with the university address → new activation link
    page.get_by_role("link", name="Sign out").click()
    page.get_by_role("link", name="Sign in").first.click()
    page.get_by_role("link", name="Forgot password?").click()
    page.get_by_role("heading", name="Did you forget your password?").wait_for()
    before = smtp_capture.count()
    page.get_by_label("Email Address").fill(email)
    page.get_by_role("button", name="Send").click()
    page.get_by_role("heading", name="Check your email").wait_for()
    again = smtp_capture.wait_for(email, "Activate Zoom Account", after=before)
    page.goto(link(again, "Activate Zoom Account"))
    page.get_by_role("link", name="Sign up with password").click()
    page.get_by_label("First Name").fill("Hanako")
    page.get_by_label("Last Name").fill("Sato")
    page.get_by_label("Password", exact=True).fill(GOOD)
    page.get_by_label("Confirm Password").fill(GOOD)
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("heading", name="Your account has been activated").wait_for()
    assert _zoom_user(sandbox, email)["status"] == "active"
    page.goto(link(first, "Activate Zoom Account"))  # the older link no longer works
    page.get_by_role("heading", name="This invitation has expired").wait_for()


def test_zoom_existing_account_switch(sandbox, smtp_capture: SmtpCapture, page) -> None:
    email = "zx@g.ecc.example.ac.jp"
    sandbox.seed_personal("zoom", email, display_name="Hanako", password="Personal123")
    _zoom_create(sandbox, email)
    mail = smtp_capture.wait_for(email, "invited you to join their Zoom account")
    page.goto(link(mail, "Approve Request"))
    page.get_by_role("button", name="Approve Request").click()
    page.get_by_role("button", name="Confirm and Switch").click()
    page.get_by_role("heading", name="Account switched successfully").wait_for()
    shot(page, "zoom_switched")
    user = _zoom_user(sandbox, email)
    assert user["status"] == "active" and user["type"] == 2
    page.get_by_role("link", name="My Account").last.click()
    page.get_by_role("link", name="Sign out").click()
    page.get_by_role("link", name="Sign in").first.click()
    page.get_by_label("Email Address").fill(email)
    page.get_by_label("Password").fill("Personal123")  # the personal password carried over
    page.get_by_role("button", name="Sign In").click()
    page.get_by_text("Licensed").wait_for()


def test_zoom_user_does_not_exist_right_after_creation(
    sandbox, smtp_capture: SmtpCapture, page
) -> None:
    sandbox.set_faults(consistency_delay_seconds=60, scope="zoom")
    email = "s15@g.ecc.example.ac.jp"
    _zoom_create(sandbox, email)
    url = link(smtp_capture.wait_for(email, "Activate Zoom Account"), "Activate Zoom Account")
    page.goto(url)
    page.get_by_text(f"User does not exist: {email}.").wait_for()
    shot(page, "zoom_user_does_not_exist")
    sandbox.move_clock(seconds=61)
    page.goto(url)
    page.get_by_role("button", name="Sign in with Google").wait_for()


def test_admin_page_shows_users_and_faults(sandbox, page) -> None:
    _zoom_create(sandbox, "adm@g.ecc.example.ac.jp")
    sandbox.set_faults(error_rate=0.1)
    page.goto(sandbox.url + "/")
    page.get_by_role("heading", name="Users per state").wait_for()
    page.get_by_text("adm@g.ecc.example.ac.jp").first.wait_for()
    shot(page, "sandbox_admin_page")
