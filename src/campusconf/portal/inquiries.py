"""Opening a help-desk inquiry with the facts the seeds' mail template asked for (S5, S13)."""

from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from campusconf.accounts.models import Account
from campusconf.audit.log import record
from campusconf.members.models import Member
from campusconf.portal.inquiry_mail import NEW, REPLY, notify_help_desk
from campusconf.portal.models import Inquiry, InquiryReply
from campusconf.services.models import Service


def account_facts(account: Account | None) -> dict[str, object]:
    if account is None:
        return {}
    return {
        "state": account.state,
        "vendor_address": account.vendor_address,
        "invitation_sent_at": account.invitation_sent_at.isoformat()
        if account.invitation_sent_at
        else None,
        "invitation_expires_at": account.invitation_expires_at.isoformat()
        if account.invitation_expires_at
        else None,
        "observed_login_type": account.observed_login_type,
        "observed_licensed": account.observed_licensed,
        "last_error_code": account.last_error_code,
    }


def suggested_text(member: Member, service: Service | None, topic: str) -> str:
    """The first lines of the seeds' template, in the member's words, ready to send."""
    # The name as the text's language writes it: kanji in an English sentence read oddly.
    japanese = (translation.get_language() or "ja").startswith("ja")
    name = (member.display_name_ja if japanese else "") or member.display_name_latin
    lines = [
        _("I am %(name)s of %(affiliation)s.")
        % {"name": name, "affiliation": member.affiliation_label or _("(affiliation)")},
        _("My common ID is %(common_id)s.") % {"common_id": member.common_id},
    ]
    service_name = service.name if service else ""
    if topic == Inquiry.Topic.NO_MAIL:
        lines.append(
            _(
                "More than an hour has passed since my %(service)s invitation was sent, "
                "but it has not arrived in my university mailbox."
            )
            % {"service": service_name}
        )
    elif topic == Inquiry.Topic.WRONG_ACTIVATION:
        lines.append(
            _(
                "I activated my %(service)s account the wrong way. Please resend the activation mail."
            )
            % {"service": service_name}
        )
    elif topic == Inquiry.Topic.USER_DOES_NOT_EXIST:
        lines.append(
            _("When I activate my %(service)s account, I am told the user does not exist.")
            % {"service": service_name}
        )
    return "\n".join(lines)


def open_inquiry(
    member: Member, service: Service | None, topic: str, what_happened: str
) -> Inquiry:
    account = Account.objects.filter(member=member, service=service).first() if service else None
    with transaction.atomic():
        inquiry = Inquiry.objects.create(
            member=member,
            service=service,
            account=account,
            topic=topic,
            account_state=account.state if account else "",
            account_facts=account_facts(account),
            affiliation=member.affiliation,
            affiliation_ja=member.affiliation_ja,
            common_id=member.common_id,
            what_happened=what_happened.strip(),
        )
        record(member.user, "inquiry.open", inquiry, inquiry.what_happened, topic=topic)
        notify_help_desk(inquiry, NEW, inquiry.what_happened)
    return inquiry


def member_reply(inquiry: Inquiry, body: str) -> InquiryReply:
    """The member writes back: stored, the turn passes to the help desk, and it is told."""
    with transaction.atomic():
        locked = Inquiry.objects.select_for_update().get(pk=inquiry.pk)
        before = locked.status
        answer = InquiryReply.objects.create(
            inquiry=locked, author=locked.member.user, from_staff=False, body=body.strip()
        )
        locked.status = Inquiry.Status.OPEN
        locked.save(update_fields=["status", "updated_at"])
        record(
            locked.member.user,
            "inquiry.member_reply",
            locked,
            answer.body,
            status_before=before,
            status_after=locked.status,
            reply_id=answer.pk,
        )
        notify_help_desk(locked, REPLY, answer.body)
    inquiry.refresh_from_db()
    return answer
