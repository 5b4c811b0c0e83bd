"""Members who leave: told first, then their accounts go back after the grace period.

``process_leavers(now)`` is periodic and idempotent; the engine's scheduler (or
``campusconf process-leavers``) calls it. A member who left on day L is told on
L + grace - notice days (or at once, if that is past), and their accounts are
deprovisioned through the engine on L + grace — never sooner than
CAMPUSCONF_LEAVER_NOTICE_DAYS after the notice, so nobody loses an account untold.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.template.loader import render_to_string
from django.utils import timezone, translation

from campusconf.accounts.models import Account
from campusconf.accounts.reasons import Reason, Why
from campusconf.accounts.states import Cause, DesiredState, State
from campusconf.core.mail import Mail
from campusconf.directory.models import LeaverNotice
from campusconf.members.models import Member
from campusconf.provisioning.verbs.actions import deprovision_account

logger = logging.getLogger(__name__)


@dataclass
class LeaverReport:
    notified: int = 0
    deprovisioned: int = 0
    mail_failures: int = 0


def grace_days() -> int:
    # The engine's setting: its reconcile pass and this function agree on the date.
    return int(getattr(settings, "CAMPUSCONF_ENGINE", {}).get("LEAVER_GRACE_DAYS", 30))


def _live_accounts(member: Member) -> list[Account]:
    return list(
        member.accounts.select_related("service")
        .filter(desired_state=DesiredState.PRESENT)
        .exclude(state=State.REMOVED)
    )


def process_leavers(now: datetime.datetime | None = None) -> LeaverReport:
    now = now or timezone.now()
    today = timezone.localdate(now)
    grace = datetime.timedelta(days=grace_days())
    notice = datetime.timedelta(days=settings.CAMPUSCONF_LEAVER_NOTICE_DAYS)
    report = LeaverReport()
    live = Account.objects.filter(desired_state=DesiredState.PRESENT).exclude(state=State.REMOVED)
    leavers = Member.objects.filter(
        status=Member.Status.LEFT,
        left_on__lte=today - grace + notice,
        pk__in=live.values("member_id"),
    ).order_by("pk")
    for member in leavers.iterator():
        assert member.left_on is not None
        accounts = _live_accounts(member)
        if not accounts:
            continue
        record = LeaverNotice.objects.filter(member=member, left_on=member.left_on).first()
        if record is None:
            due = max(member.left_on + grace, today + notice)
            if _tell(member, accounts, due):
                LeaverNotice.objects.create(
                    member=member, left_on=member.left_on, notified_at=now, deprovision_on=due
                )
                report.notified += 1
            else:
                report.mail_failures += 1
            continue
        if today >= record.deprovision_on:
            _deprovision(member, accounts)
            record.deprovisioned_at = now
            record.save(update_fields=["deprovisioned_at"])
            report.deprovisioned += 1
    logger.info(
        "leavers: notified=%d deprovisioned=%d mail_failures=%d",
        report.notified,
        report.deprovisioned,
        report.mail_failures,
    )
    return report


def _deprovision(member: Member, accounts: list[Account]) -> None:
    for account in accounts:
        with transaction.atomic():
            deprovision_account(
                account,
                cause=Cause.ENGINE,
                reason=Why(Reason.MEMBER_LEFT, date=member.left_on),
            )


def _tell(member: Member, accounts: list[Account], due: datetime.date) -> bool:
    """Mail the notice in the member's language; False (and logged) when it cannot go."""
    address = member.mail_address
    if not address:
        logger.warning("leaver %s has no address: not told", member.common_id)
        return False
    with translation.override(member.preferred_language):
        context = {
            "member": member,
            "services": [a.service for a in accounts],
            "due": due,
            "university": settings.CAMPUSCONF_UNIVERSITY_NAME,
            "helpdesk": settings.CAMPUSCONF_HELPDESK_ADDRESS,
            "language": member.preferred_language,
        }
        subject = render_to_string("directory/leaver_notice_subject.txt", context).strip()
        text = render_to_string("directory/leaver_notice.txt", context)
        html = render_to_string("directory/leaver_notice.html", context)
    message = Mail(subject, text, to=[address])
    message.attach_alternative(html, "text/html")
    try:
        message.send()
    except OSError:  # SMTP down or refusing: told on the next run, nothing removed meanwhile
        logger.exception("leaver notice to %s not sent", member.common_id)
        return False
    return True


def told_and_due(today: datetime.date) -> Exists:
    """Members told of this departure whose accounts' date has come by ``today``: the
    rule the engine's reconcile applies (registered in ``DirectoryConfig.ready``)."""
    return Exists(
        LeaverNotice.objects.filter(
            member=OuterRef("pk"), left_on=OuterRef("left_on"), deprovision_on__lte=today
        )
    )
