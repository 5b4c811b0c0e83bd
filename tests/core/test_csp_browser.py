"""The Content-Security-Policy in a real browser: every main page of the portal, the back
office and the admin loads with no violation, and what runs script still works (htmx
polling, the roster form's toggle, the charts and the help images)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from campusconf.accounts.lifecycle import open_account, transition
from campusconf.accounts.states import Cause, State
from campusconf.backoffice import campaigns
from campusconf.demo.sample import common_id_for, load_sample_data
from campusconf.members.models import Member
from campusconf.portal.inquiries import open_inquiry
from campusconf.portal.models import Inquiry
from campusconf.provisioning.models import Campaign
from campusconf.services.models import Service
from tests.fixtures.browser import shot

# The policy and the pages' scripts do not depend on the database (the SQLite pass checks them).
pytestmark = [pytest.mark.browser, pytest.mark.once, pytest.mark.django_db(transaction=True)]

WATCH_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""


@pytest.fixture
def university(live_server):
    """The demo's sample university, with an account in each main state, a running
    campaign and an inquiry."""
    load_sample_data("http://127.0.0.1:9", "campusconf-demo")
    webex = Service.objects.get(slug="webex")
    member = Member.objects.get(common_id=common_id_for(1))
    user = get_user_model().objects.create_user(member.common_id)
    member.user = user
    member.save(update_fields=["user"])
    account = open_account(member, webex, cause=Cause.MEMBER)
    transition(account, State.INVITED, cause=Cause.ENGINE)
    for index, state in ((2, State.ACTIVE), (3, State.FAILED)):
        other = open_account(
            Member.objects.get(common_id=common_id_for(index)), webex, cause=Cause.MEMBER
        )
        if state == State.ACTIVE:
            transition(other, State.INVITED, cause=Cause.ENGINE)
        transition(other, state, cause=Cause.ENGINE)
    staff = get_user_model().objects.create_user("helpdesk", is_staff=True)
    campaign = campaigns.start(
        webex,
        campaigns.Cohort(["student"], None, [], []),
        actor=staff,
        reason="CSP browser test",
    )
    # Running, so its page shows the progress bar and polls for more.
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.RUNNING)
    inquiry = open_inquiry(member, webex, Inquiry.Topic.NO_MAIL, "No mail came.")
    return {
        "member": user,
        "staff": staff,
        "admin": get_user_model().objects.get(username="admin"),
        "account": account,
        "campaign": campaign,
        "inquiry": inquiry,
    }


def signed_in(page, live_server, user) -> None:
    client = Client()
    client.force_login(user)
    cookie = client.cookies["sessionid"]
    page.context.add_cookies([{"name": "sessionid", "value": cookie.value, "url": live_server.url}])


def visit(page, live_server, path: str, name: str) -> list[str]:
    """Load a page; the CSP violations it caused (the event and the console's word)."""
    console: list[str] = []
    page.on(
        "console",
        lambda message: (
            console.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    answer = page.goto(live_server.url + path)
    assert answer is not None and answer.status == 200, (path, answer and answer.status)
    assert "default-src 'self'" in answer.headers["content-security-policy"]
    page.wait_for_load_state("load")
    shot(page, f"csp-{name}")
    return list(page.evaluate("window.__cspViolations")) + console


@pytest.fixture
def watched(page):
    page.add_init_script(WATCH_VIOLATIONS)
    return page


def test_public_and_member_pages_load_with_no_violation(watched, live_server, university):
    page = watched
    # The live server's first request imports the whole URLconf: seconds, on a busy machine.
    page.request.get(f"{live_server.url}/healthz", timeout=120_000)
    for path, name in [
        ("/", "home"),
        ("/signin/", "signin"),
        ("/staff/login/", "staff-login"),
        ("/admin/login/", "admin-login"),
    ]:
        assert visit(page, live_server, path, name) == [], path
    for slug in ("webex", "zoom"):
        assert visit(page, live_server, f"/help/{slug}/", f"help-{slug}") == []
        # Every help image is there (not blocked, not broken).
        # The pictures load lazily: bring each into view, as a reader scrolling does.
        for image in page.locator("main img").all():
            image.scroll_into_view_if_needed()
            image.evaluate("i => i.complete || new Promise(r => i.onload = i.onerror = r)")
        sizes = page.eval_on_selector_all("main img", "imgs => imgs.map(i => i.naturalWidth)")
        assert sizes and all(width > 0 for width in sizes), slug
    signed_in(page, live_server, university["member"])
    inquiry = university["inquiry"].pk
    for path, name in [
        ("/my/", "my-services"),
        ("/my/inquiries/", "my-inquiries"),
        ("/my/inquiries/new/", "my-inquiry-new"),
        (f"/my/inquiries/{inquiry}/", "my-inquiry"),
    ]:
        assert visit(page, live_server, path, name) == [], path


def test_staff_pages_load_with_no_violation_and_their_scripts_run(watched, live_server, university):
    page = watched
    # The live server's first request imports the whole URLconf: seconds, on a busy machine.
    page.request.get(f"{live_server.url}/healthz", timeout=120_000)
    signed_in(page, live_server, university["staff"])
    account = university["account"].pk
    inquiry = university["inquiry"].pk
    for path, name in [
        ("/staff/", "staff-home"),
        ("/staff/services/webex/", "staff-service"),
        ("/staff/services/webex/terms/", "staff-terms"),
        (f"/staff/accounts/?q={common_id_for(1)}", "staff-search"),
        (f"/staff/accounts/{account}/", "staff-account"),
        ("/staff/accounts/list/?filter=needs_person", "staff-account-list"),
        ("/staff/campaigns/", "staff-campaigns"),
        ("/staff/campaigns/new/", "staff-campaign-new"),
        ("/staff/audit/", "staff-audit"),
        ("/staff/directory/pending/", "staff-pending"),
        ("/staff/directory/scim-tokens/", "staff-scim"),
        ("/staff/api-tokens/", "staff-api-tokens"),
        ("/staff/inquiries/", "staff-inquiries"),
        (f"/staff/inquiries/{inquiry}/", "staff-inquiry"),
    ]:
        assert visit(page, live_server, path, name) == [], path
        if name == "staff-service":
            assert page.locator("svg.chart").count() >= 1

    # htmx loads from a static file and polls the campaign's progress.
    campaign = university["campaign"].pk
    with page.expect_request(lambda r: f"/campaigns/{campaign}/progress/" in r.url, timeout=15_000):
        violations = visit(page, live_server, f"/staff/campaigns/{campaign}/", "staff-campaign")
    assert violations == []
    assert page.locator("svg.bar").count() == 1
    assert page.evaluate("window.__cspViolations") == []

    # The roster form's toggle runs from its static file.
    assert visit(page, live_server, "/staff/directory/roster/", "staff-roster") == []
    assert page.locator("#mass-change").is_hidden()
    page.check("input[name=full]")
    assert page.locator("#mass-change").is_visible()


def test_the_admin_loads_with_no_violation(watched, live_server, university):
    page = watched
    # The live server's first request imports the whole URLconf: seconds, on a busy machine.
    page.request.get(f"{live_server.url}/healthz", timeout=120_000)
    signed_in(page, live_server, university["admin"])
    staff = university["staff"].pk
    for path, name in [
        ("/admin/", "admin-home"),
        ("/admin/auth/user/", "admin-users"),
        (f"/admin/auth/user/{staff}/change/", "admin-user"),
        ("/admin/members/member/", "admin-members"),
    ]:
        assert visit(page, live_server, path, name) == [], path
