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

from campusconf.accounts.models import Account
from campusconf.accounts.states import State
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
    # The account desk's remedy the text says was done: sending the reply does it, and
    # the reply is offered only where the remedy is possible.
    remedy: str = ""
    # The states the text is true in, for a reply that reports a fact ("is active").
    states: frozenset[str] = frozenset()


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
            remedy="resend",
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
            remedy="retry",
        ),
        Canned(
            "resolved",
            _("Resolved"),
            "アカウントが有効になっていることを確認しました。このお問い合わせを解決済みとします。",
            "We have checked that your account is active. We are closing this inquiry.",
            states=frozenset({State.ACTIVE}),
        ),
    ]
}


def canned_offered(account: Account | None) -> list[Canned]:
    """The canned replies that are true for this account as it is now."""
    from campusconf.backoffice.remedies import REMEDIES, legal

    def fits(c: Canned) -> bool:
        if c.remedy:
            return account is not None and legal(account, REMEDIES[c.remedy])
        if c.states:
            return account is not None and account.state in c.states
        return True

    return [c for c in CANNED.values() if fits(c)]


class CannedRefused(Exception):
    """The canned reply's action is not possible now; nothing was sent or changed."""


def reply_canned(
    inquiry: Inquiry, key: str, *, actor: AbstractBaseUser, body: str, status: str
) -> InquiryReply:
    """Send a canned reply and do what it says, in one transaction: the member is never
    told "we have sent it again" when nothing was sent. Raises CannedRefused."""
    from campusconf.backoffice.remedies import RemedyQueued, RemedyRefused, apply_remedy

    canned = CANNED[key]
    account = inquiry.account
    if canned not in canned_offered(account):
        raise CannedRefused(gettext("this reply does not fit the account as it is now"))
    with transaction.atomic():
        if canned.remedy and account is not None:
            try:
                apply_remedy(
                    account,
                    canned.remedy,
                    actor=actor,
                    reason=gettext("Inquiry #%(n)s") % {"n": inquiry.pk},
                    origin="helpdesk",
                    inquiry=inquiry.pk,
                    canned=key,
                )
            except (RemedyRefused, RemedyQueued) as refusal:
                # Queued for a seat is not "sent again" either: leaving the block by the
                # exception undoes the queue entry too, and the staff member is told why.
                raise CannedRefused(str(refusal)) from refusal
        return reply(inquiry, actor=actor, body=body, status=status)


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
