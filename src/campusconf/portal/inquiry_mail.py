"""Telling the help desk that a member wrote: a new inquiry or a member's reply goes
by mail to the help-desk address and to the staff member the member is talking to
(the one who answered last), each in a language that reader can read."""

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from campusconf.core.mail import Mail
from campusconf.members.models import Member
from campusconf.portal.models import Inquiry

logger = logging.getLogger(__name__)

NEW = "new"
REPLY = "reply"


def assigned_staff(inquiry: Inquiry) -> Member | None:
    """The staff member who answered the inquiry last, as a member (for the address and
    the language); None before anyone has answered."""
    author_id = (
        inquiry.replies.filter(from_staff=True, author__isnull=False)
        .order_by("-created_at", "-id")
        .values_list("author_id", flat=True)
        .first()
    )
    if author_id is None:
        return None
    user = get_user_model().objects.filter(pk=author_id, is_staff=True).first()
    if user is None:
        return None
    return Member.objects.filter(user=user).first()


def _text(inquiry: Inquiry, event: str, body: str, language: str) -> tuple[str, str]:
    url = settings.CAMPUSCONF_PUBLIC_URL.rstrip("/") + reverse(
        "backoffice:inquiry", args=[inquiry.pk]
    )
    member = inquiry.member
    with translation.override(language):
        if event == NEW:
            subject = gettext("New inquiry #%(n)s from %(id)s") % {
                "n": inquiry.pk,
                "id": inquiry.common_id,
            }
        else:
            subject = gettext("Member replied to inquiry #%(n)s (%(id)s)") % {
                "n": inquiry.pk,
                "id": inquiry.common_id,
            }
        lines = [
            gettext("Member: %(id)s %(name)s, %(affiliation)s")
            % {
                "id": inquiry.common_id,
                "name": member.display_name_ja or member.display_name_latin,
                "affiliation": inquiry.affiliation_label or "—",
            },
            gettext("Service: %(service)s") % {"service": inquiry.service or "—"},
            gettext("Topic: %(topic)s") % {"topic": inquiry.get_topic_display()},
            "",
            body,
            "",
            gettext("Answer it in the back office: %(url)s") % {"url": url},
        ]
    return f"[{settings.CAMPUSCONF_UNIVERSITY_NAME}] {subject}", "\n".join(lines)


def _messages(inquiry: Inquiry, event: str, body: str) -> list[Mail]:
    desk = settings.CAMPUSCONF_HELPDESK_ADDRESS
    member_address = inquiry.member.mail_address
    reply_to = [member_address] if member_address else []
    out: list[Mail] = []
    if desk:
        # A shared mailbox has no language of its own: both, Japanese first.
        subject_ja, text_ja = _text(inquiry, event, body, "ja")
        subject_en, text_en = _text(inquiry, event, body, "en")
        subject = f"{subject_ja} / {subject_en.split('] ', 1)[-1]}"
        out.append(Mail(subject, f"{text_ja}\n\n----\n\n{text_en}", to=[desk], reply_to=reply_to))
    staff = assigned_staff(inquiry)
    staff_address = staff.mail_address if staff else ""
    if staff is not None and staff_address and staff_address.lower() != desk.lower():
        subject, text = _text(inquiry, event, body, staff.preferred_language)
        out.append(Mail(subject, text, to=[staff_address], reply_to=reply_to))
    return out


def notify_help_desk(inquiry: Inquiry, event: str, body: str) -> None:
    """Queue the mails for after the commit: a rolled-back inquiry was never written."""
    messages = _messages(inquiry, event, body)
    transaction.on_commit(lambda: _send(inquiry.pk, messages))


def _send(pk: int, messages: list[Mail]) -> None:
    for message in messages:
        try:
            message.send()
        except OSError:
            # The inquiry is stored and listed in the back office; a mail outage must not
            # turn the member's question into an error page.
            logger.exception("could not mail inquiry #%s to %s", pk, message.to)
