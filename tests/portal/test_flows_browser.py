"""The seed flows end to end: the portal, the engine, the vendor sandbox and its mail.

The member acts in chromium; the engine runs in this process (``runner.drain``) and
notices activations with a reconcile pass, as the scheduled worker would. On the way
they save the sandbox's pages and mails the help pages show (``help_shot``/``mail_shot``).
"""

import datetime

import httpx
import pytest

from campusconf.accounts.models import Account
from campusconf.accounts.states import State
from campusconf.provisioning import worker
from campusconf.provisioning.engine import schedules, vendors
from campusconf.provisioning.engine.reconcile import run_pass
from tests.fixtures.browser import shot
from tests.fixtures.sandbox import browse_against_sandbox, link
from tests.portal.help_images import help_shot, mail_shot
from tests.portal.screens import shot_both
from vendor_sandbox.launcher import connector_settings

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def portal(live_server, settings, sandbox, monkeypatch, make_service):
    browse_against_sandbox(settings, monkeypatch, sandbox.creds)
    services = {
        "webex": make_service(connector_settings=connector_settings("webex", sandbox.creds)),
        "zoom": make_service(
            slug="zoom",
            vendor="zoom",
            name_ja="Zoom",
            name_en="Zoom",
            plan_name="Pro",
            max_participants=500,
            webinars=True,
            end_to_end_encryption=False,
            connector_settings=connector_settings("zoom", sandbox.creds),
        ),
    }
    httpx.get(f"{live_server.url}/healthz", timeout=60)
    yield services
    vendors.close_all()


@pytest.fixture
def sample_member():
    """Members as the demo's sample university has them (高橋 美咲, 2600000411, …): these
    flows take the help pages' pictures, which must show no test leftovers (issue #22).
    ``sample_member(language, index)``; by default the next faculty member with no
    account elsewhere (index 3 holds the demo's personal accounts, 5 a paid Zoom)."""
    from campusconf.demo.sample import sample_members
    from campusconf.members.actions import register_member

    rows = sample_members(10)
    unused = iter(i for i in range(10) if i not in (3, 5))

    def make(language, index=None):
        row = {**rows[next(unused) if index is None else index], "preferred_language": language}
        return register_member(**row)

    return make


def sign_in(page, live_server, member):
    page.goto(f"{live_server.url}/dev-login/?q={member.common_id}")
    page.locator(f"button[value='{member.common_id}']").click()
    page.wait_for_url(f"{live_server.url}/my/")


def engine_settles(service=None):
    worker.drain(max_seconds=60)
    if service is not None:
        run_pass(service)
        worker.drain(max_seconds=60)


def state_of(member, slug):
    return Account.objects.get(member=member, service__slug=slug).state


def test_s1_s3_s6_apply_invitation_activate_active(
    page, live_server, portal, smtp_capture, sample_member, settings
):
    member = sample_member("en")
    sign_in(page, live_server, member)
    page.get_by_role("button", name="Apply for Webex").click()
    page.wait_for_selector("text=We received your application")
    before = smtp_capture.count()
    engine_settles()
    assert state_of(member, "webex") == State.INVITED
    # Our own notices, queued with those two changes, go out when the workers' schedule
    # runs, to the same mailbox as the vendor's invitation.
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", smtp_capture.port
    schedules.run("notices")
    smtp_capture.wait_for(member.mail_address, "We received your application", after=before)
    smtp_capture.wait_for(member.mail_address, "invitation is on its way", after=before)
    page.reload()
    card = page.locator("#service-webex")
    assert "has invited you to Cisco Webex" in card.inner_text()
    shot_both(page, "flow-webex-invited")
    mail = smtp_capture.wait_for(
        member.mail_address, "has invited you to Cisco Webex", after=before
    )
    mail_shot(page, mail, "webex-mail-invitation")
    page.goto(link(mail, "Activate"))
    shot(page, "flow-webex-sandbox-new-password")
    help_shot(page, "webex-new-password")
    page.fill("input[name=password]", "Activate2024")
    page.fill("input[name=confirm]", "Activate2024")
    page.get_by_role("button", name="Save & Sign in").click()
    page.wait_for_load_state()
    engine_settles(portal["webex"])
    assert state_of(member, "webex") == State.ACTIVE
    page.goto(f"{live_server.url}/my/")
    assert "Active since" in page.locator("#service-webex").inner_text()
    shot_both(page, "flow-webex-active")


def test_s12_google_mistake_then_s13_one_click_resend(
    page, live_server, portal, sandbox, smtp_capture, sample_member
):
    member = sample_member("ja")
    sign_in(page, live_server, member)
    page.get_by_role("button", name="Zoomを申請する").click()
    before = smtp_capture.count()
    engine_settles()
    mail = smtp_capture.wait_for(member.mail_address, "Activate Zoom Account", after=before)
    mail_shot(page, mail, "zoom-mail-activate")
    page.goto(link(mail, "Activate Zoom Account"))
    shot(page, "flow-zoom-sandbox-activate")
    help_shot(page, "zoom-activate-choose")
    page.get_by_role("button", name="Sign in with Google").click()
    page.wait_for_load_state()
    engine_settles(portal["zoom"])
    # Zoom shows the university's user still pending, as if nothing had happened.
    assert state_of(member, "zoom") == State.INVITED
    page.goto(f"{live_server.url}/my/")
    card = page.locator("#service-zoom")
    assert (
        "「Googleでサインイン」（Sign in with Google）を間違えて選びましたか？" in card.inner_text()
    )
    shot_both(page, "flow-zoom-ask-google")
    before = smtp_capture.count()
    card.get_by_role("button", name="「Googleでサインイン」を選んだ").click()
    page.wait_for_selector("text=Zoom から")
    shot(page, "flow-zoom-ask-google-answered-ja")
    engine_settles()
    assert state_of(member, "zoom") == State.INVITED
    # The address now holds a personal account, so Zoom sends the "join" request (S13),
    # and the card names that mail ("Activate Zoom Account" only as the fallback).
    page.goto(f"{live_server.url}/my/")
    text = page.locator("#service-zoom").inner_text()
    assert "invited you to join their Zoom account" in text and "Confirm and Switch" in text
    facts = page.locator("#service-zoom .mail-facts").inner_text()
    assert "join their Zoom account" in facts and "Activate Zoom Account" not in facts
    shot_both(page, "flow-zoom-join-request")
    mail = smtp_capture.wait_for(
        member.mail_address, "invited you to join their Zoom account", after=before
    )
    mail_shot(page, mail, "zoom-mail-join")
    page.goto(link(mail, "Approve Request"))
    help_shot(page, "zoom-join-approve")
    page.get_by_role("button", name="Approve Request").click()
    page.wait_for_selector("text=Switch to the new account")
    help_shot(page, "zoom-join-confirm")
    page.get_by_role("button", name="Confirm and Switch").click()
    page.wait_for_selector("text=Account switched successfully")
    shot(page, "flow-zoom-sandbox-switched")
    engine_settles(portal["zoom"])
    assert state_of(member, "zoom") == State.ACTIVE
    page.goto(f"{live_server.url}/my/")
    assert "有効です" in page.locator("#service-zoom").inner_text()
    shot_both(page, "flow-zoom-recovered")


def test_s12_google_mistake_then_s14_self_service_recovery(
    page, live_server, portal, sandbox, smtp_capture, sample_member
):
    member = sample_member("en")
    sign_in(page, live_server, member)
    page.get_by_role("button", name="Apply for Zoom").click()
    before = smtp_capture.count()
    engine_settles()
    mail = smtp_capture.wait_for(member.mail_address, "Activate Zoom Account", after=before)
    page.goto(link(mail, "Activate Zoom Account"))
    page.get_by_role("button", name="Sign in with Google").click()
    page.wait_for_load_state()
    engine_settles(portal["zoom"])
    assert state_of(member, "zoom") == State.INVITED  # Zoom cannot show it
    page.goto(f"{live_server.url}/my/")
    card = page.locator("#service-zoom")
    text = card.inner_text()
    assert "Did you choose “Sign in with Google” by mistake?" in text
    assert "Or fix it yourself at Zoom" in text and "Forgot password?" in text
    # S14, as the card says: at Zoom, sign out, "Forgot password?", the university address.
    page.goto(f"{sandbox.url}/zoom/")
    page.get_by_role("main").get_by_role("link", name="My Account").click()
    assert "Google" in page.inner_text("main")  # signed in to the personal account
    help_shot(page, "zoom-my-account-sign-out")
    page.get_by_role("main").get_by_role("link", name="Sign out").click()
    page.get_by_role("main").get_by_role("link", name="Sign in").click()
    page.get_by_role("main").get_by_role("link", name="Forgot password?").click()
    page.fill("input[name=email]", member.mail_address)
    help_shot(page, "zoom-forgot-password")
    before = smtp_capture.count()
    page.get_by_role("button", name="Send").click()
    page.wait_for_selector("text=Check your email")
    # A pending member gets a fresh activation link; this time with a password.
    mail = smtp_capture.wait_for(member.mail_address, "Activate Zoom Account", after=before)
    page.goto(link(mail, "Activate Zoom Account"))
    page.get_by_role("link", name="Sign up with password").click()
    page.fill("input[name=first_name]", member.given_name_latin)
    page.fill("input[name=last_name]", member.family_name_latin)
    page.fill("input[name=password]", "Recover2024")
    page.fill("input[name=confirm]", "Recover2024")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_selector("text=Your account has been activated")
    shot(page, "flow-zoom-sandbox-recovered-s14")
    # Nobody pressed anything in the portal: the engine notices the repair by itself.
    engine_settles(portal["zoom"])
    assert state_of(member, "zoom") == State.ACTIVE
    page.goto(f"{live_server.url}/my/")
    assert "Active since" in page.locator("#service-zoom").inner_text()
    shot_both(page, "flow-zoom-recovered-s14")


def test_s4_expired_invitation_resent_then_active(
    page, live_server, portal, sandbox, smtp_capture, sample_member
):
    member = sample_member("en")
    sign_in(page, live_server, member)
    page.get_by_role("button", name="Apply for Webex").click()
    engine_settles()
    # 16 days pass: at the vendor (its links die) and for us (the invitation's expiry).
    sandbox.move_clock(days=16)
    account = Account.objects.get(member=member, service__slug="webex")
    Account.objects.filter(pk=account.pk).update(
        invitation_sent_at=account.invitation_sent_at - datetime.timedelta(days=16),
        invitation_expires_at=account.invitation_expires_at - datetime.timedelta(days=16),
    )
    engine_settles(portal["webex"])
    assert state_of(member, "webex") == State.INVITATION_EXPIRED
    page.goto(f"{live_server.url}/my/")
    card = page.locator("#service-webex")
    assert "Your invitation has expired" in card.inner_text()
    shot_both(page, "flow-webex-expired")
    before = smtp_capture.count()
    card.get_by_role("button", name="Send a new invitation").click()
    page.wait_for_selector("text=is on its way")
    engine_settles()
    assert state_of(member, "webex") == State.INVITED
    mail = smtp_capture.wait_for(
        member.mail_address, "has invited you to Cisco Webex", after=before
    )
    page.goto(link(mail, "Activate"))
    page.fill("input[name=password]", "Activate2024")
    page.fill("input[name=confirm]", "Activate2024")
    page.get_by_role("button", name="Save & Sign in").click()
    page.wait_for_load_state()
    engine_settles(portal["webex"])
    assert state_of(member, "webex") == State.ACTIVE
    page.goto(f"{live_server.url}/my/")
    # The resend limit is shown while it applies, and the account is active.
    assert "Active since" in page.locator("#service-webex").inner_text()
    shot_both(page, "flow-webex-resent-active")


def test_s7_a_personal_account_is_converted(
    page, live_server, portal, sandbox, smtp_capture, sample_member
):
    member = sample_member("ja", 3)  # the demo's own S7 member
    sandbox.seed_personal("webex", member.mail_address)
    sign_in(page, live_server, member)
    page.get_by_role("button", name="ウェベックスを申請する").click()
    before = smtp_capture.count()
    engine_settles()
    # Webex's API shows a conversion request exactly like an invitation: the account is
    # invited, and its next step also tells what to do with the conversion mail.
    assert state_of(member, "webex") == State.INVITED
    page.reload()
    card = page.locator("#service-webex")
    text = card.inner_text()
    assert "Convert to Enterprise Account" in text
    assert "アカウントの変換" in text and "パスワードを忘れた場合" in text
    shot_both(page, "flow-webex-conversion")
    mail = smtp_capture.wait_for(member.mail_address, "Convert to Enterprise Account", after=before)
    mail_shot(page, mail, "webex-mail-conversion")
    page.goto(link(mail, "Review"))
    help_shot(page, "webex-convert")
    page.get_by_role("button", name="Convert account").click()
    page.wait_for_selector("text=Your account was successfully converted")
    shot(page, "flow-webex-sandbox-converted")
    # The conversion sets no password: sign in → "Forgot password" → the reset mail.
    page.get_by_role("main").get_by_role("link", name="Sign in").click()
    page.get_by_role("button", name="Next").click()
    page.get_by_role("main").get_by_role("link", name="Forgot password").click()
    help_shot(page, "webex-forgot-password")
    before = smtp_capture.count()
    page.get_by_role("button", name="Send").click()
    page.wait_for_selector("text=Check your email")
    reset = smtp_capture.wait_for(
        member.mail_address, "Reset your Cisco Webex password", after=before
    )
    page.goto(link(reset, "Reset Password"))
    page.fill("input[name=password]", "Convert2024")
    page.fill("input[name=confirm]", "Convert2024")
    page.get_by_role("button", name="Save & Sign in").click()
    page.wait_for_load_state()
    engine_settles(portal["webex"])
    assert state_of(member, "webex") == State.ACTIVE
    page.goto(f"{live_server.url}/my/")
    assert "有効です" in page.locator("#service-webex").inner_text()
    shot_both(page, "flow-webex-converted-active")


def test_s15_user_does_not_exist_at_first_then_active(
    page, live_server, portal, sandbox, smtp_capture, sample_member
):
    sandbox.set_faults(consistency_delay_seconds=600, consistency_rate=1.0)
    member = sample_member("en")
    sign_in(page, live_server, member)
    page.get_by_role("button", name="Apply for Zoom").click()
    before = smtp_capture.count()
    engine_settles()
    assert state_of(member, "zoom") == State.INVITED
    page.reload()
    shot_both(page, "flow-zoom-invited")
    mail = smtp_capture.wait_for(member.mail_address, "Activate Zoom Account", after=before)
    activation = link(mail, "Activate Zoom Account")
    page.goto(activation)
    assert "User does not exist" in page.inner_text("body")
    shot(page, "flow-zoom-sandbox-user-does-not-exist")
    help_shot(page, "zoom-user-does-not-exist")
    # The portal still says what to do, and the help page names the known error.
    page.goto(f"{live_server.url}/help/zoom/")
    assert "User does not exist" in page.inner_text("main")
    sandbox.move_clock(seconds=601)  # the vendor catches up
    page.goto(f"{activation}?method=password")
    help_shot(page, "zoom-sign-up-with-password")
    page.fill("input[name=first_name]", member.given_name_latin)
    page.fill("input[name=last_name]", member.family_name_latin)
    page.fill("input[name=password]", "Activate2024")
    page.fill("input[name=confirm]", "Activate2024")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_selector("text=Your account has been activated")
    engine_settles(portal["zoom"])
    assert state_of(member, "zoom") == State.ACTIVE
    page.goto(f"{live_server.url}/my/")
    assert "Active since" in page.locator("#service-zoom").inner_text()
    shot_both(page, "flow-zoom-active-after-s15")
