"""Done-when of issue #22 for staff, in a real chromium, in Japanese and English, at
laptop and phone widths: the dashboard's counts match the lists they link to, and a
campaign preview's CSV lists every member with "invited" or the reason left out."""

import csv
import datetime
import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from campusconf.accounts.models import Account
from campusconf.accounts.states import State
from campusconf.audit.models import AuditEntry
from campusconf.members.models import Member
from campusconf.portal.inquiries import open_inquiry
from campusconf.portal.models import Inquiry
from tests.fixtures.browser import shot
from tests.signin.browser_session import sign_in_browser_as

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = {"laptop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


@pytest.fixture
def staff_page(live_server, page):
    page.request.get(f"{live_server.url}/healthz", timeout=120_000)
    staff = get_user_model().objects.create_user("staff", is_staff=True)
    sign_in_browser_as(page, live_server.url, staff)
    return page


def _language(page, live_server, language):
    page.goto(f"{live_server.url}/staff/")
    page.locator(f"form.langswitch button[value='{language}']").click()
    page.locator(f"html[lang='{language}']").wait_for(state="attached")


@pytest.fixture
def busy(make_member, make_service, make_account):
    now = timezone.now()
    webex = make_service(seats=20)
    zoom = make_service(slug="zoom", vendor="zoom", name_en="Zoom", name_ja="Zoom")
    for service in (webex, zoom):
        make_account(
            make_member(),
            service,
            State.FAILED,
            last_error_reason="vendor_refused",
            last_error_params={"detail": "vendor said 500"},
        )
        make_account(make_member(), service, State.ACTIVE)
        for age in (datetime.timedelta(hours=3), datetime.timedelta(days=2)):
            make_account(make_member(), service, State.INVITED, invitation_sent_at=now - age)
    make_account(make_member(), zoom, State.UNLICENSED)
    stuck = make_account(make_member(), zoom, State.REQUESTED)
    Account.objects.filter(pk=stuck.pk).update(created_at=now - datetime.timedelta(hours=2))
    open_inquiry(make_member(), webex, Inquiry.Topic.NO_MAIL, "No mail.")
    return webex, zoom


@pytest.mark.parametrize(("language", "size"), [("ja", "laptop"), ("en", "phone")])
def test_the_dashboards_counts_match_the_lists_they_link_to(
    staff_page, live_server, busy, language, size
):
    page = staff_page
    page.set_viewport_size(SIZES[size])
    _language(page, live_server, language)
    page.goto(f"{live_server.url}/staff/")
    page.wait_for_selector("#overview-total svg.chart, svg.chart")
    shot(page, f"backoffice-morning-dashboard-{language}-{size}")
    links = page.locator("#main a[data-filter]")
    figures = [
        (
            links.nth(i).get_attribute("data-filter"),
            links.nth(i).get_attribute("href"),
            int(links.nth(i).inner_text()),
        )
        for i in range(links.count())
    ]
    assert len(figures) == 3 * 9  # two services and the total, nine numbers each
    assert any(n for _key, _href, n in figures)
    for key, href, n in figures:
        page.goto(f"{live_server.url}{href}")
        if key == "inquiries":
            rows = page.locator("table.results tbody a[href^='/staff/inquiries/']").count()
        else:
            assert re.match(rf"{n}\D", page.inner_text("#account-count")), href
            rows = page.locator("#account-rows tbody a").count()
        assert rows == n, href
    page.goto(f"{live_server.url}/staff/accounts/list/?filter=needs_person")
    shot(page, f"backoffice-needs-a-person-{language}-{size}")


@pytest.mark.parametrize(("language", "size"), [("en", "laptop"), ("ja", "phone")])
def test_a_campaign_previews_csv_lists_every_member_with_the_outcome(
    staff_page, live_server, make_member, make_service, make_account, language, size
):
    page = staff_page
    page.set_viewport_size(SIZES[size])
    service = make_service()
    invited = [make_member(student=True, created_on=datetime.date(2025, 4, 1)) for _ in range(4)]
    late = make_member(student=True, created_on=datetime.date(2026, 4, 1))
    active = make_member(student=True, created_on=datetime.date(2025, 4, 1))
    make_account(active, service, State.ACTIVE)
    gone = make_member(student=True, created_on=datetime.date(2025, 4, 1))
    Member.objects.filter(pk=gone.pk).update(
        status=Member.Status.LEFT, left_on=datetime.date(2026, 3, 31)
    )
    _language(page, live_server, language)
    page.goto(f"{live_server.url}/staff/campaigns/new/")
    shot(page, f"backoffice-campaign-form-{language}-{size}")
    page.select_option("select[name=service]", service.slug)
    page.check("input[name=roles][value=student]")
    page.fill("input[name=created_before]", "2026-03-24")
    page.click("button[name=preview]")
    page.wait_for_selector("#preview-rows")
    assert page.locator("#preview-rows tbody tr").count() == 7
    shot(page, f"backoffice-campaign-preview-list-{language}-{size}")

    # The other language: the same preview, not an empty form.
    other = "en" if language == "ja" else "ja"
    page.locator(f"form.langswitch button[value='{other}']").click()
    page.locator(f"html[lang='{other}']").wait_for(state="attached")
    assert page.locator("#preview-rows tbody tr").count() == 7
    shot(page, f"backoffice-campaign-preview-list-{other}-{size}-switched")

    with page.expect_download() as download:
        page.click("#preview-csv")
    body = download.value.path().read_text(encoding="utf-8")
    table = {row["common_id"]: row for row in csv.DictReader(io.StringIO(body))}
    assert set(table) == {m.common_id for m in [*invited, late, active, gone]}
    assert {c for c, r in table.items() if r["outcome"] == "invited"} == {
        m.common_id for m in invited
    }
    for left_out in (late, active, gone):
        row = table[left_out.common_id]
        assert row["outcome"] == "left_out" and row["reason"], row
    assert "2026-03-24" in table[late.common_id]["reason"]
    assert AuditEntry.objects.filter(action="campaign.export_preview").count() == 1


@pytest.mark.parametrize(("language", "size"), [("ja", "phone"), ("en", "laptop")])
def test_the_audit_log_by_kind_of_actor_and_staff_pages_without_member_footer(
    staff_page, live_server, make_member, make_service, language, size
):
    from campusconf.audit.log import record
    from campusconf.provisioning.verbs import actions
    from campusconf.signin.members import user_for

    page = staff_page
    page.set_viewport_size(SIZES[size])
    member = make_member()
    actions.apply_for_service(
        member, make_service(), cause=actions.Cause.MEMBER, actor=user_for(member)
    )
    record("scim:entra-id", "directory.deactivate", None, "scim said so")
    _language(page, live_server, language)
    page.goto(f"{live_server.url}/staff/audit/")
    page.select_option("select[name=kind]", "member")
    page.locator("form.filterform button[type=submit]").click()
    page.wait_for_url("**kind=member**")
    table = page.inner_text("table.audit")
    assert "member.apply" in table and "directory.deactivate" not in table
    shot(page, f"backoffice-audit-members-{language}-{size}")
    page.goto(f"{live_server.url}/staff/directory/roster/")
    assert "docs/" not in page.inner_text("main")
    assert "common_id" in page.inner_text("main")  # the columns, told on the page
    assert page.locator("footer.foot").count() == 0
    shot(page, f"backoffice-roster-{language}-{size}")
