"""Licence end (S16) on a moved clock, in a real browser, against the vendor sandbox.

The staff sets the end date and the policy on the licence terms page; the clock of
CampusConf (``django.utils.timezone.now``, which the live server shares with this
process) and the sandbox's clock move together: to 30 days before the end (the
notice reaches a local SMTP server), then past it (the workers' schedules suspend the
accounts at the sandbox; the portal and the dashboard show it). The workers are run
in this process, as the scheduled worker would run them.
"""

import datetime

import httpx
import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from campusconf.accounts.models import Account
from campusconf.accounts.states import State
from campusconf.provisioning import worker
from campusconf.provisioning.engine import schedules, vendors
from campusconf.provisioning.engine.reconcile import run_pass
from campusconf.provisioning.verbs import actions
from campusconf.services.models import Service
from tests.fixtures.browser import shot
from tests.fixtures.sandbox import activate_webex, browse_against_sandbox, html_part, text_part
from tests.signin.browser_session import sign_in_browser_as
from vendor_sandbox.launcher import connector_settings

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


class Clock:
    """CampusConf's clock, moved forward; the sandbox's moves with it."""

    def __init__(self, sandbox, monkeypatch):
        self.offset = datetime.timedelta()
        self.sandbox = sandbox
        real_now = timezone.now
        monkeypatch.setattr(timezone, "now", lambda: real_now() + self.offset)

    def move(self, days: int) -> None:
        self.offset += datetime.timedelta(days=days)
        self.sandbox.move_clock(days=days)


@pytest.fixture
def webex(live_server, settings, sandbox, smtp_capture, monkeypatch, make_service):
    browse_against_sandbox(settings, monkeypatch, sandbox.creds)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = smtp_capture.port
    settings.EMAIL_USE_TLS = False
    service = make_service(seats=50, connector_settings=connector_settings("webex", sandbox.creds))
    httpx.get(f"{live_server.url}/healthz", timeout=60)
    yield service
    vendors.close_all()


def engine_settles(service):
    worker.drain(max_seconds=60)
    run_pass(service)
    worker.drain(max_seconds=60)


def workers_run(*names):
    """What the scheduled worker runs when these schedules fall due."""
    for name in names:
        schedules.run(name)


def sign_in_member(page, live_server, member):
    page.context.clear_cookies()  # a fresh visit: the member's own language, no staff session
    page.goto(f"{live_server.url}/dev-login/?q={member.common_id}")
    page.locator(f"button[value='{member.common_id}']").click()
    page.wait_for_url(f"{live_server.url}/my/")


def sign_in_staff(page, live_server):
    """The session the university's sign-in leaves a staff member (tests/signin)."""
    page.context.clear_cookies()
    staff = get_user_model().objects.get(username="staff")
    sign_in_browser_as(page, live_server.url, staff)
    page.goto(f"{live_server.url}/staff/")


def test_licence_end_notice_then_suspension_on_a_moved_clock(
    page, live_server, webex, sandbox, smtp_capture, make_member, monkeypatch
):
    clock = Clock(sandbox, monkeypatch)
    get_user_model().objects.create_user("staff", is_staff=True)
    english, japanese = make_member(language="en"), make_member(language="ja")
    for member in (english, japanese):
        actions.apply_for_service(member, webex)
    worker.drain(max_seconds=60)
    activate_webex(sandbox, english.mail_address)  # the other stays invited
    engine_settles(webex)
    assert Account.objects.get(member=english).state == State.ACTIVE
    assert Account.objects.get(member=japanese).state == State.INVITED
    workers_run("notices")  # the application and invitation notices go out first

    # The staff sets the end 40 days ahead and chooses to suspend at the end.
    end = timezone.localdate() + datetime.timedelta(days=40)
    sign_in_staff(page, live_server)
    page.click("form.langswitch button[value=en]")
    page.goto(f"{live_server.url}/staff/services/{webex.slug}/terms/")
    page.fill("input[name=valid_until]", end.isoformat())
    page.select_option("select[name=licence_end_policy]", "suspend")
    page.fill("textarea[name=reason]", "the contract ends; renewal not yet decided")
    shot(page, "licence-end-terms-filled-en")
    page.click("form.staffform button[type=submit]")
    page.wait_for_url(f"{live_server.url}/staff/services/{webex.slug}/")
    page.goto(f"{live_server.url}/staff/services/{webex.slug}/terms/")
    status = page.inner_text("#licence-status")
    notice_day = (end - datetime.timedelta(days=30)).isoformat()
    assert f"will be told on {notice_day}" in status
    assert "From the day after: suspend the accounts" in status
    shot(page, "licence-end-terms-saved-en")

    # Nine days later nothing is sent; ten days later (30 before the end) both are told.
    clock.move(9)
    before = smtp_capture.count()
    workers_run("licence-end", "notices")
    assert [m["Subject"] for m in smtp_capture.messages[before:]] == []
    clock.move(1)
    workers_run("licence-end", "notices")
    mail = smtp_capture.wait_for(english.mail_address, "licence ends in 30 days", after=before)
    assert end.isoformat() in text_part(mail)
    ja_mail = smtp_capture.wait_for(japanese.mail_address, after=before)
    assert "30日" in ja_mail["Subject"]
    workers_run("licence-end", "notices")  # again: nobody is told twice
    told = [m["To"] for m in smtp_capture.messages[before:]]
    assert sorted(told) == sorted([english.mail_address, japanese.mail_address])
    page.set_content(html_part(mail))
    shot(page, "licence-end-notice-mail-en")
    # Ten days on, the staff session is long over (sessions last 12 hours at most).
    sign_in_staff(page, live_server)
    page.click("form.langswitch button[value=en]")
    page.goto(f"{live_server.url}/staff/services/{webex.slug}/terms/")
    assert "have been told" in page.inner_text("#licence-status")

    sign_in_member(page, live_server, english)
    card = page.locator("#service-webex")
    assert "The licence ends within 30 days" in card.inner_text()
    shot(page, "licence-end-member-warned-en")

    # The last day is still covered; the day after, the accounts are suspended.
    clock.move(30)
    workers_run("licence-end")
    assert Account.objects.get(member=english).state == State.ACTIVE
    clock.move(1)
    workers_run("licence-end")
    worker.drain(max_seconds=60)  # the suspension jobs reach the vendor
    for member in (english, japanese):
        assert Account.objects.get(member=member).state == State.SUSPENDED
    account = Account.objects.get(member=english)
    with sandbox.webex() as api:
        person = api.get(f"/people/{account.vendor_user_id}").json()
    assert person["loginEnabled"] == "false"  # typed as Cisco's spec types it (W-a)
    # The 30-day mail promised to write again: each suspended member is told, once.
    before = smtp_capture.count()
    workers_run("notices")
    ja_mail = smtp_capture.wait_for(japanese.mail_address, "停止", after=before)
    assert "更新されなかった" in text_part(ja_mail)
    smtp_capture.wait_for(english.mail_address, "account has been suspended", after=before)
    workers_run("licence-end", "notices")
    assert sorted(m["To"] for m in smtp_capture.messages[before:]) == sorted(
        [english.mail_address, japanese.mail_address]
    )
    page.set_content(html_part(ja_mail))
    shot(page, "licence-end-suspended-mail-ja")

    sign_in_member(page, live_server, japanese)
    card = page.locator("#service-webex")
    assert "停止" in card.locator("[data-testid=state-webex]").inner_text()
    assert f"{end.isoformat()}で終了" in card.inner_text()
    shot(page, "licence-end-member-suspended-ja")

    sign_in_staff(page, live_server)
    page.click("form.langswitch button[value=en]")
    page.goto(f"{live_server.url}/staff/services/{webex.slug}/")
    rows = {
        r.locator("td").nth(0).inner_text(): r.locator("td").nth(1).inner_text()
        for r in page.locator("table.states tbody tr").all()
    }
    assert rows.get("suspended") == "2"
    shot(page, "licence-end-dashboard-en")
    page.goto(f"{live_server.url}/staff/services/{webex.slug}/terms/")
    assert "its policy was applied" in page.inner_text("#licence-status")
    # Renewing after the fact is the staff's move; the end already applied stays done.
    assert Service.objects.get(pk=webex.pk).licence_end_applied_for == end


def test_a_member_waits_for_a_seat_then_leaves_the_queue(
    page, live_server, settings, make_member, make_service
):
    from campusconf.provisioning.verbs.seats import WaitingForSeat, place_in_queue

    settings.DEBUG = True
    settings.CAMPUSCONF_DEV_LOGIN = True
    service = make_service(seats=1)
    actions.apply_for_service(make_member(), service)
    with pytest.raises(WaitingForSeat):
        actions.apply_for_service(make_member(), service)  # first in line
    member = make_member(language="en")
    sign_in_member(page, live_server, member)
    page.get_by_role("button", name="Apply for Webex").click()
    card = page.locator("#service-webex")
    card.get_by_text("You are number 2 in the queue.").wait_for()
    assert "waiting for a licence" in card.locator("[data-testid=state-webex]").inner_text()
    assert "You are number 2 in the queue" in page.inner_text(".flash, .messages, main")
    shot(page, "seat-queue-waiting-en")
    assert place_in_queue(member, service) == 2
    page.click("form.langswitch button[value=ja]")
    page.wait_for_selector("html[lang=ja]")
    assert "あなたは順番待ちの2番目です" in page.locator("#service-webex").inner_text()
    shot(page, "seat-queue-waiting-ja")
    page.get_by_role("button", name="順番待ちをやめる").click()
    page.get_by_role("button", name="ウェベックスを申請する").wait_for()
    assert place_in_queue(member, service) is None
    assert not Account.objects.filter(member=member).exists()
