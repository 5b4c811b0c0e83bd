import re

import pytest
from django.core import mail

from campusconf.accounts.states import State
from campusconf.audit.models import AuditEntry
from campusconf.portal.inquiries import open_inquiry
from campusconf.portal.models import Inquiry

pytestmark = pytest.mark.django_db


@pytest.fixture
def inquiry(make_member, make_service, make_account):
    service = make_service()
    member = make_member(language="en")
    make_account(member, service, State.UNLICENSED)
    return open_inquiry(member, service, Inquiry.Topic.WRONG_ACTIVATION, "I used Google.")


def test_the_queue_lists_open_inquiries(staff_client, inquiry):
    page = staff_client.get("/staff/inquiries/").content.decode()
    assert f"/staff/inquiries/{inquiry.pk}/" in page
    resolved = staff_client.get("/staff/inquiries/", {"status": "resolved"}).content.decode()
    assert f"/staff/inquiries/{inquiry.pk}/" not in resolved


def test_the_inquiry_shows_the_account_and_remedies(staff_client, inquiry):
    page = staff_client.get(f"/staff/inquiries/{inquiry.pk}/").content.decode()
    assert "I used Google." in page
    assert "unlicensed" in page
    assert f"/staff/accounts/{inquiry.account_id}/resend/?inquiry={inquiry.pk}" in page


def test_canned_reply_in_the_members_language(staff_client, inquiry):
    page = staff_client.get(f"/staff/inquiries/{inquiry.pk}/", {"canned": "resent"}).content
    assert "Sign up with password" in page.decode()


def test_a_remedy_from_the_help_desk_returns_there_and_names_the_inquiry(staff_client, inquiry):
    url = f"/staff/accounts/{inquiry.account_id}/resend/?inquiry={inquiry.pk}"
    confirm = staff_client.get(url).content.decode()
    assert f"Inquiry #{inquiry.pk}" in confirm  # the reason is filled in
    response = staff_client.post(url, {"reason": f"Inquiry #{inquiry.pk}", "inquiry": inquiry.pk})
    assert response["Location"] == f"/staff/inquiries/{inquiry.pk}/"
    inquiry.account.refresh_from_db()
    assert inquiry.account.state == State.REQUESTED
    entry = AuditEntry.objects.get(action="account.resend")
    assert entry.details["inquiry"] == inquiry.pk
    assert entry.details["origin"] == "helpdesk"


def test_a_reply_reaches_the_member_by_mail_and_in_the_portal(
    staff_client, inquiry, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            f"/staff/inquiries/{inquiry.pk}/reply/",
            {"body": "We resent the mail.", "status": "waiting"},
        )
    assert response.status_code == 302
    inquiry.refresh_from_db()
    assert inquiry.status == "waiting"
    assert inquiry.replies.get().body == "We resent the mail."
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [inquiry.member.mail_address]
    assert "We resent the mail." in mail.outbox[0].body
    assert AuditEntry.objects.get(action="inquiry.reply").details["status_after"] == "waiting"


def test_the_reply_mail_is_titled_like_the_notices_and_leads_to_the_inquiry(
    staff_client, inquiry, django_capture_on_commit_callbacks, settings
):
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(
            f"/staff/inquiries/{inquiry.pk}/reply/", {"body": "Done.", "status": "waiting"}
        )
    message = mail.outbox[0]
    assert message.subject.startswith(f"[{settings.CAMPUSCONF_UNIVERSITY_NAME}] ")
    assert (
        f"{settings.CAMPUSCONF_PUBLIC_URL.rstrip('/')}/my/inquiries/{inquiry.pk}/" in message.body
    )
    # The menu item as the menu shows it (core/base.html), in both languages.
    assert "「お問い合わせ履歴」" in message.body and "“My inquiries”" in message.body


def test_status_change_needs_a_reason(staff_client, inquiry):
    url = f"/staff/inquiries/{inquiry.pk}/status/"
    assert staff_client.post(url, {"status": "resolved"}).status_code == 200
    inquiry.refresh_from_db()
    assert inquiry.status == "open"
    staff_client.post(url, {"status": "resolved", "reason": "member confirmed by phone"})
    inquiry.refresh_from_db()
    assert inquiry.status == "resolved"
    assert AuditEntry.objects.get(action="inquiry.status").reason == "member confirmed by phone"


@pytest.mark.parametrize("language", ["en", "ja"])
def test_the_canned_replies_carry_no_specification_numbers(staff_client, inquiry, language):
    staff_client.cookies["django_language"] = language
    page = staff_client.get(f"/staff/inquiries/{inquiry.pk}/").content.decode()
    expected = (
        "Activation mail resent" if language == "en" else "アクティベーションメールを再送しました"
    )
    assert expected in page
    assert re.search(r"[(（]S\d+[)）]", page) is None


def test_canned_replies_are_offered_only_where_they_are_true(staff_client, inquiry):
    # An unlicensed account: the invitation can be sent again; it is not active, and
    # there is nothing to retry.
    page = staff_client.get(f"/staff/inquiries/{inquiry.pk}/").content.decode()
    assert "?canned=resent" in page
    assert "?canned=resolved" not in page and "?canned=retrying" not in page
    asked = staff_client.get(f"/staff/inquiries/{inquiry.pk}/", {"canned": "resolved"})
    assert "We have checked that your account is active" not in asked.content.decode()


def test_sending_the_resent_reply_resends(
    staff_client, inquiry, django_capture_on_commit_callbacks
):
    page = staff_client.get(f"/staff/inquiries/{inquiry.pk}/", {"canned": "resent"})
    assert 'id="canned-action"' in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            f"/staff/inquiries/{inquiry.pk}/reply/",
            {
                "body": "We have sent the activation mail again.",
                "status": "waiting",
                "canned": "resent",
            },
        )
    assert response.status_code == 302
    inquiry.account.refresh_from_db()
    assert inquiry.account.state == State.REQUESTED  # the engine sends it again
    entry = AuditEntry.objects.get(action="account.resend")
    assert (entry.details["inquiry"], entry.details["canned"]) == (inquiry.pk, "resent")
    assert inquiry.replies.count() == 1


def test_a_canned_reply_whose_action_is_impossible_sends_nothing(
    staff_client, make_member, make_service, make_account
):
    service = make_service()
    member = make_member(language="en")
    account = make_account(member, service, State.ACTIVE)
    asked = open_inquiry(member, service, Inquiry.Topic.OTHER, "All fine?")
    page = staff_client.get(f"/staff/inquiries/{asked.pk}/").content.decode()
    assert "?canned=resent" not in page and "?canned=resolved" in page
    response = staff_client.post(
        f"/staff/inquiries/{asked.pk}/reply/",
        {
            "body": "We have sent the activation mail again.",
            "status": "waiting",
            "canned": "resent",
        },
        follow=True,
    )
    assert "Nothing was sent or changed" in response.content.decode()
    account.refresh_from_db()
    assert account.state == State.ACTIVE
    assert asked.replies.count() == 0
    assert not AuditEntry.objects.filter(action__in=["account.resend", "inquiry.reply"]).exists()
