"""Answering members' inquiries: replies (stored for the portal and mailed), status
changes, and the canned replies the help desk sends most, in both languages."""

import logging
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from campusconf.audit.log import record
from campusconf.core.mail import Mail
from campusconf.portal.models import Inquiry, InquiryReply

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Canned:
    key: str
    label: Promise
    ja: str
    en: str


# Both languages at once: the member reads the reply in the language they chose,
# whatever language the staff member's own screen is in.
CANNED: dict[str, Canned] = {
    c.key: c
    for c in [
        Canned(
            "resent",
            _("Activation mail resent"),
            "アクティベーションメールを再送しました。大学のメールボックスを確認し、"
            "メール内の「Activate」から、パスワードを設定してください。"
            "Zoom の場合は「Sign in with Google」ではなく「Sign up with password」を選んでください。",
            "We have sent the activation mail again. Please check your university mailbox and "
            "follow “Activate” in the mail to set a password. For Zoom, choose “Sign up with "
            "password”, not “Sign in with Google”.",
        ),
        Canned(
            "forgot_password",
            _("Use “forgot password”"),
            "一度サインアウトし、サインイン画面の「パスワードを忘れた場合」から大学のメールアドレスを"
            "入力してください。新しいアクティベーションのリンクが届きます。",
            "Please sign out, then use “forgot password” on the sign-in page with your "
            "university address. A new activation link will arrive.",
        ),
        Canned(
            "retrying",
            _("We are retrying the account"),
            "アカウント作成を再実行しています。完了すると招待メールが届きます。"
            "1時間以内に届かない場合はこのお問い合わせに返信してください。",
            "We are creating your account again. The invitation mail will arrive when it is "
            "done; if it has not arrived within an hour, please reply to this inquiry.",
        ),
        Canned(
            "resolved",
            _("Resolved"),
            "アカウントが有効になっていることを確認しました。このお問い合わせを解決済みとします。",
            "We have checked that your account is active. We are closing this inquiry.",
        ),
    ]
}


def canned_text(key: str, language: str) -> str:
    canned = CANNED.get(key)
    if canned is None:
        return ""
    return canned.ja if language == "ja" else canned.en


def _mail(inquiry: Inquiry, body: str) -> None:
    member = inquiry.member
    address = member.mail_address
    if not address:
        return
    # The same "[University]" prefix as every other notice (portal/notices.py).
    subject = (
        f"[{settings.CAMPUSCONF_UNIVERSITY_NAME}] お問い合わせ #{inquiry.pk} への回答"
        f" / Reply to your inquiry #{inquiry.pk}"
    )
    url = settings.CAMPUSCONF_PUBLIC_URL.rstrip("/") + reverse(
        "portal:inquiry_detail", args=[inquiry.pk]
    )
    # The menu item's own words, in each language, so the member finds it as named.
    with translation.override("ja"):
        menu_ja = gettext("My inquiries")
    with translation.override("en"):
        menu_en = gettext("My inquiries")
    footer = (
        "\n\n--\n"
        f"このお問い合わせはポータルのメニュー「{menu_ja}」でも読めます：{url}\n"
        f"You can also read this inquiry in the portal, under “{menu_en}” in the menu: {url}\n"
        f"{settings.CAMPUSCONF_HELPDESK_ADDRESS}"
    )
    message = Mail(
        subject,
        body + footer,
        to=[address],
        reply_to=[settings.CAMPUSCONF_HELPDESK_ADDRESS],
    )
    # After commit: a rolled-back reply must not have been mailed.
    transaction.on_commit(lambda: _send(message))


def _send(message: Mail) -> None:
    try:
        message.send()
    except OSError:
        # The reply is stored and shown in the portal; a mail outage must not lose it.
        logger.exception("could not mail the reply to %s", message.to)


def reply(inquiry: Inquiry, *, actor: AbstractBaseUser, body: str, status: str) -> InquiryReply:
    """Store a reply (shown in the portal), mail it, and set the inquiry's status."""
    with transaction.atomic():
        locked = Inquiry.objects.select_for_update().get(pk=inquiry.pk)
        before = locked.status
        answer = InquiryReply.objects.create(
            inquiry=locked, author_id=actor.pk, from_staff=True, body=body.strip()
        )
        locked.status = status
        locked.save(update_fields=["status", "updated_at"])
        # The reply itself says why; it is the reason recorded.
        record(
            actor,
            "inquiry.reply",
            locked,
            body,
            status_before=before,
            status_after=status,
            reply_id=answer.pk,
        )
        _mail(locked, body.strip())
    inquiry.refresh_from_db()
    return answer


def set_status(inquiry: Inquiry, *, actor: AbstractBaseUser, status: str, reason: str) -> None:
    with transaction.atomic():
        locked = Inquiry.objects.select_for_update().get(pk=inquiry.pk)
        before = locked.status
        locked.status = status
        locked.save(update_fields=["status", "updated_at"])
        record(actor, "inquiry.status", locked, reason, status_before=before, status_after=status)
    inquiry.refresh_from_db()
