"""A member's new inquiry and each member reply reach the help desk by mail, over a real
SMTP server, and the staff member who answered last in their own language."""

import pytest

from campusconf.audit.models import AuditEntry
from campusconf.backoffice.helpdesk import reply
from campusconf.portal.inquiries import member_reply, open_inquiry
from campusconf.portal.models import Inquiry
from campusconf.signin.members import user_for

pytestmark = pytest.mark.django_db(transaction=True)


def _wait_for(smtp, n):
    while len(smtp.messages) < n:
        smtp.arrived.clear()
        assert smtp.arrived.wait(5), f"only {len(smtp.messages)} of {n} mails arrived"


def test_a_new_inquiry_mails_the_help_desk_in_both_languages(
    smtp, settings, signed_in, make_service
):
    settings.CAMPUSCONF_HELPDESK_ADDRESS = "desk@example.ac.jp"
    make_service()
    response = signed_in.post(
        "/my/inquiries/new/",
        {"service": "webex", "topic": "no_mail", "what_happened": "No mail since Monday."},
    )
    assert response.status_code == 302
    _wait_for(smtp, 1)
    message = smtp.messages[0]
    assert message["To"] == "desk@example.ac.jp"
    assert message["Reply-To"] == signed_in.member.mail_address
    text = message.get_content()
    inquiry = Inquiry.objects.get()
    assert "No mail since Monday." in text
    assert f"/staff/inquiries/{inquiry.pk}/" in text
    assert "新しいお問い合わせ" in message["Subject"]
    assert "Answer it in the back office" in text and "管理画面" in text
    entry = AuditEntry.objects.get(action="inquiry.open")
    assert entry.actor_name == signed_in.member.common_id


def test_a_member_reply_mails_the_desk_and_the_staff_member_who_answered(
    smtp, settings, make_member, make_service
):
    settings.CAMPUSCONF_HELPDESK_ADDRESS = "desk@example.ac.jp"
    asker = make_member(language="en")
    staff_member = make_member(staff=True, language="ja")
    staff_user = user_for(staff_member)
    staff_user.is_staff = True
    staff_user.save()
    inquiry = open_inquiry(asker, make_service(), Inquiry.Topic.OTHER, "Help, please.")
    reply(inquiry, actor=staff_user, body="Which browser?", status=Inquiry.Status.WAITING)
    _wait_for(smtp, 2)  # the desk's copy of the inquiry, the member's copy of the reply
    smtp.messages.clear()

    member_reply(inquiry, "Firefox.")

    _wait_for(smtp, 2)
    by_recipient = {m["To"]: m for m in smtp.messages}
    assert set(by_recipient) == {"desk@example.ac.jp", staff_member.mail_address}
    to_staff = by_recipient[staff_member.mail_address]
    assert "返信" in to_staff["Subject"]  # the staff member reads Japanese
    assert "Firefox." in to_staff.get_content()
    inquiry.refresh_from_db()
    assert inquiry.status == Inquiry.Status.OPEN  # the help desk's turn again
    assert AuditEntry.objects.filter(action="inquiry.member_reply").count() == 1


def test_the_member_replies_in_the_portal(smtp, settings, signed_in, make_service):
    inquiry = open_inquiry(signed_in.member, make_service(), Inquiry.Topic.OTHER, "Hello?")
    Inquiry.objects.filter(pk=inquiry.pk).update(status=Inquiry.Status.WAITING)
    page = signed_in.get(f"/my/inquiries/{inquiry.pk}/").content.decode()
    assert 'id="member-reply"' in page
    assert "waiting for the member" in page
    response = signed_in.post(f"/my/inquiries/{inquiry.pk}/", {"body": "Still nothing."})
    assert response.status_code == 302
    page = signed_in.get(f"/my/inquiries/{inquiry.pk}/").content.decode()
    assert "Still nothing." in page
    assert "waiting for the help desk" in page


def test_an_empty_member_reply_changes_nothing(signed_in, make_service):
    inquiry = open_inquiry(signed_in.member, make_service(), Inquiry.Topic.OTHER, "Hello?")
    response = signed_in.post(f"/my/inquiries/{inquiry.pk}/", {"body": ""})
    assert response.status_code == 200
    assert "This field is required" in response.content.decode()
    assert inquiry.replies.count() == 0
