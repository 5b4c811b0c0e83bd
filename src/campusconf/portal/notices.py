"""Mail notices to members, in their preferred language, as plain text and HTML.

This module says *what* a notice says. *When* one is due is decided elsewhere: state
changes queue theirs through ``portal.outbox`` (a lifecycle signal), other code calls
``queue_notice(kind, account, key=...)`` inside its own transaction, and the workers'
``notices`` schedule sends what is queued (``outbox.send_due``), retrying while the
mail server is down. ``send_notice`` sends at once and is for that sender and tests.
"""

import datetime
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from campusconf.accounts.models import Account
from campusconf.core import clock, sql
from campusconf.core.mail import Mail
from campusconf.portal.models import Notice as QueuedNotice
from campusconf.portal.vendor_mails import mail_lines
from campusconf.provisioning.verbs import announce
from campusconf.provisioning.verbs.licence_end import restored_by_renewal
from campusconf.services.models import Service


@dataclass(frozen=True)
class NoticeText:
    subject: str
    lines: list[str]


def _date(value: datetime.date | datetime.datetime | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value)
        # With the zone (JST): a member reading the mail abroad must not guess.
        return formats.date_format(value, "Y-m-d H:i T")
    return formats.date_format(value, "Y-m-d")


def _application_received(account: Account) -> NoticeText:
    service = account.service.name
    return NoticeText(
        _("We received your application for %(service)s") % {"service": service},
        [
            _("We received your application for a university %(service)s account.")
            % {"service": service},
            # Not "an invitation": a member who had an account gets a conversion or join
            # request instead (S7), which the next notice and the portal name.
            _(
                "The account is being created now. A mail from %(vendor)s will arrive at "
                "%(address)s shortly; we will tell you which one it is and what to press."
            )
            % {
                "vendor": account.service.get_vendor_display(),
                "address": account.member.mail_address,
            },
        ],
    )


def _invitation_sent(account: Account) -> NoticeText:
    # Queued when the vendor user exists, and sent at once: the vendor's mail is out.
    paragraphs = [
        *mail_lines(account),
        _("It is valid until %(until)s.") % {"until": _date(account.invitation_expires_at)},
        _("If it has not arrived within an hour, tell us from the portal: “I got no mail”."),
    ]
    return NoticeText(
        _("Your %(service)s invitation is on its way") % {"service": account.service.name},
        paragraphs,
    )


def _invitation_expiring(account: Account) -> NoticeText:
    return NoticeText(
        _("Your %(service)s invitation expires in 3 days") % {"service": account.service.name},
        [
            _("Your invitation expires on %(until)s. Please activate your account before then.")
            % {"until": _date(account.invitation_expires_at)},
            *mail_lines(account),
            _("Cannot find the mail? You can have it sent again from the portal."),
        ],
    )


def _invitation_expired(account: Account) -> NoticeText:
    return NoticeText(
        _("Your %(service)s invitation has expired") % {"service": account.service.name},
        [
            _("Your invitation expired before the account was activated."),
            _("You can have a new invitation sent from the portal with one click."),
        ],
    )


def _wrong_activation(account: Account) -> NoticeText:
    return NoticeText(
        _("Your %(service)s account has no university licence") % {"service": account.service.name},
        [
            _(
                "Your account was activated in a way that does not carry the university "
                "licence (for example with “Sign in with Google”, or after changing its "
                "mail address)."
            ),
            _(
                "To fix it, either press “Resend the activation mail” in the portal and "
                "follow the new mail (after a Google sign-in, Zoom's mail asks you to "
                "“Approve Request” and then “Confirm and Switch”); or, at the vendor, sign "
                "out, choose “Forgot password?”, enter %(address)s, and activate from the "
                "link that arrives with “Sign up with password”."
            )
            % {"address": account.member.mail_address},
        ],
    )


def _address_restored(account: Account) -> NoticeText:
    # One mail for the whole repair: the move to unlicensed before it sent none (S9).
    service = account.service.name
    return NoticeText(
        _("Your %(service)s account has its university licence again") % {"service": service},
        [
            _(
                "The mail address of your %(service)s account had been changed, and with it "
                "the account lost the university licence."
            )
            % {"service": service},
            _(
                "We have put %(address)s back as its address and given the licence back. "
                "Sign in with %(address)s and your password as before; you do not need to do "
                "anything else."
            )
            % {"address": account.member.mail_address},
            _("The university licence stays only with your university address: please keep it."),
        ],
    )


def _address_not_restored(account: Account) -> NoticeText:
    service = account.service.name
    return NoticeText(
        _("Your %(service)s account has no university licence") % {"service": service},
        [
            _(
                "The mail address of your %(service)s account was changed to %(changed)s, so "
                "it no longer carries the university licence, and %(service)s would not let "
                "us change it back."
            )
            % {"service": service, "changed": account.vendor_address},
            _(
                "Only you can: sign in to %(service)s, open “Edit profile”, enter %(address)s "
                "as the email address and press “Save”. Then press “I changed it back” in the "
                "portal, and we give the licence back."
            )
            % {"service": service, "address": account.member.mail_address},
        ],
    )


def _held_elsewhere(account: Account) -> NoticeText:
    # The invitation the member waits for will not come until they act (Z-d, W-f).
    if account.service.vendor == Service.Vendor.ZOOM:
        why = _(
            "Zoom cannot add %(address)s: another Zoom account (paid, or another organisation's) uses it."
        )
    else:
        why = _("Webex cannot add %(address)s: a free Webex account already uses it.")
    step = _("The portal says how to release it; then press “Done: ask the vendor again” there.")
    subject = _("%(service)s: your address is used by another account")
    return NoticeText(
        subject % {"service": account.service.name},
        [why % {"address": account.member.mail_address}, step],
    )


def _licence_ending(account: Account) -> NoticeText:
    return NoticeText(
        _("Your %(service)s licence ends in 30 days") % {"service": account.service.name},
        [
            _("The university licence for %(service)s is valid until %(until)s.")
            % {"service": account.service.name, "until": _date(account.service.valid_until)},
            _("Whether it is renewed has not been decided yet. We will write to you again."),
        ],
    )


# The follow-ups that keep licence_ending's promise (provisioning.verbs.licence_end queues them).
def _licence_renewed(account: Account) -> NoticeText:
    service = account.service
    if restored_by_renewal(account):
        # The account the licence end suspended is coming back (the same vendor user).
        text = _(
            "The university licence for %(service)s has been renewed. Your account, "
            "suspended when the licence ended, works again as it was: your meetings, "
            "recordings and settings are kept."
        )
    else:
        text = _(
            "The university licence for %(service)s has been renewed. Your account stays as it is."
        )
    lines = [text % {"service": service.name}]
    if service.valid_until is not None:
        lines.append(_("It is now valid until %(until)s.") % {"until": _date(service.valid_until)})
    return NoticeText(
        _("Your %(service)s licence has been renewed") % {"service": service.name}, lines
    )


def _licence_ended_suspended(account: Account) -> NoticeText:
    return NoticeText(
        _("Your %(service)s account has been suspended") % {"service": account.service.name},
        [
            _(
                "The university licence for %(service)s has ended and was not renewed, so "
                "your account has been suspended: you cannot sign in to it for now."
            )
            % {"service": account.service.name},
            _(
                "The account is kept, with your meetings, recordings and settings. If the "
                "licence is renewed later, it works again as it was, and we will write to you."
            ),
        ],
    )


def _licence_ended_removed(account: Account) -> NoticeText:
    return NoticeText(
        _("Your %(service)s account is being removed") % {"service": account.service.name},
        [
            _(
                "The university licence for %(service)s has ended and was not renewed, so "
                "your university account at %(service)s is being removed."
            )
            % {"service": account.service.name},
            _("If you still need it, ask the help desk from the portal."),
        ],
    )


def _seat_available(account: Account) -> NoticeText:
    # Sent by the engine's seat queue (provisioning.verbs.seats) when a waiting member gets a seat.
    service = account.service.name
    return NoticeText(
        _("A %(service)s licence is now yours") % {"service": service},
        [
            _("You were waiting for a university %(service)s licence, and one is now free for you.")
            % {"service": service},
            _("Your account is being created. An invitation will arrive at %(address)s shortly.")
            % {"address": account.member.mail_address},
        ],
    )


KINDS: dict[str, Callable[[Account], NoticeText]] = {
    "application_received": _application_received,
    "invitation_sent": _invitation_sent,
    "invitation_expiring": _invitation_expiring,
    "invitation_expired": _invitation_expired,
    "wrong_activation": _wrong_activation,
    "held_elsewhere": _held_elsewhere,
    "address_restored": _address_restored,
    "address_not_restored": _address_not_restored,
    "licence_ending": _licence_ending,
    "licence_renewed": _licence_renewed,
    "licence_ended_suspended": _licence_ended_suspended,
    "licence_ended_removed": _licence_ended_removed,
    "seat_available": _seat_available,
}


@contextmanager
def withheld(*kinds: str) -> Iterator[None]:
    """``announce.withheld`` for kinds this module knows (a typo fails here, loudly)."""
    unknown = set(kinds) - set(KINDS)
    if unknown:
        raise ValueError(f"unknown notice kind {', '.join(sorted(unknown))}")
    with announce.withheld(*kinds):
        yield


def queue_notice(kind: str, account: Account, *, key: str = "") -> QueuedNotice | None:
    """Queue one notice of ``kind`` about ``account``; None if this occasion is queued already.

    Call it inside the transaction that makes the notice due, so both commit together.
    ``key`` names the occasion (for ``licence_ending``, the licence's end date): the same
    kind, account and key is queued once, however often this is called. Also None when
    the kind is withheld (``announce.withheld``) here.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown notice kind {kind!r}; known: {', '.join(KINDS)}")
    if kind in announce.withheld_now():
        return None
    try:
        # A savepoint, so a duplicate leaves the caller's transaction usable.
        with transaction.atomic():
            return QueuedNotice.objects.create(
                account=account, kind=kind, key=key[:64], next_attempt_at=clock.now()
            )
    except IntegrityError:
        return None


def queue_notices(due: Sequence[tuple[str, int, str]]) -> None:
    """Queue many notices at once, each (kind, account id, key): ``queue_notice`` for a
    batch (the engine settles its creates in batches).

    One INSERT for them all; an occasion queued already is skipped by the database
    (the same unique key), so no savepoint per row is needed. Call it inside the
    transaction that makes them due. Kinds withheld here are not queued.
    """
    unknown = {kind for kind, _, _ in due} - set(KINDS)
    if unknown:
        raise ValueError(f"unknown notice kind {', '.join(sorted(unknown))}")
    withheld_now = announce.withheld_now()
    rows = [
        (account_id, kind, key[:64]) for kind, account_id, key in due if kind not in withheld_now
    ]
    if rows:
        _insert_pending(rows)


def _insert_pending(rows: list[tuple[int, str, str]]) -> None:
    """Pending notices (account id, kind, key) in one multi-row INSERT that skips an
    occasion already queued. What ``bulk_create(ignore_conflicts=True)`` writes, without
    preparing every value of every row through its field (the engine's CPU per job)."""
    names: tuple[str, ...] = ("account", "kind", "key", "status", "created_at")
    names += ("next_attempt_at", "attempts", "last_error", "sent_at")
    stamp = sql.stamp(clock.now())
    pending = str(QueuedNotice.Status.PENDING)
    values = [(pk, kind, key, pending, stamp, stamp, 0, "", None) for pk, kind, key in rows]
    sql.insert(QueuedNotice, names, values, "ON CONFLICT DO NOTHING")


def send_notice(kind: str, account: Account) -> int:
    """Send one notice about ``account`` to its member; returns the number of mails sent."""
    member = account.member
    if not member.mail_address:
        return 0
    with translation.override(member.preferred_language):
        notice = KINDS[kind](account)
        context = {
            "notice": notice,
            "member": member,
            "name": member.display_name_ja
            if member.preferred_language == "ja" and member.display_name_ja
            else member.display_name_latin,
            "language": member.preferred_language,
            "service": account.service,
            "portal_url": settings.CAMPUSCONF_PUBLIC_URL.rstrip("/")
            + reverse("portal:my_services"),
            "university_name": settings.CAMPUSCONF_UNIVERSITY_NAME,
            "helpdesk": settings.CAMPUSCONF_HELPDESK_ADDRESS,
        }
        text = render_to_string("portal/mail/notice.txt", context)
        html = render_to_string("portal/mail/notice.html", context)
        subject = f"[{settings.CAMPUSCONF_UNIVERSITY_NAME}] {notice.subject}"
    message = Mail(subject, text, settings.DEFAULT_FROM_EMAIL, [member.mail_address])
    message.attach_alternative(html, "text/html")
    return message.send()


def application_received(account: Account) -> int:
    return send_notice("application_received", account)


def invitation_sent(account: Account) -> int:
    return send_notice("invitation_sent", account)


def invitation_expiring(account: Account) -> int:
    return send_notice("invitation_expiring", account)


def invitation_expired(account: Account) -> int:
    return send_notice("invitation_expired", account)


def wrong_activation(account: Account) -> int:
    return send_notice("wrong_activation", account)


def licence_ending(account: Account) -> int:
    return send_notice("licence_ending", account)
