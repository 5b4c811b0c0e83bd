"""When mail notices go out: queued with the change that calls for them, sent later.

A notice is a ``Notice`` row written in the same transaction as the account change
(through ``accounts.lifecycle.account_transitioned`` and, for the engine's batches,
``accounts_transitioned``; the engine's announcements, ``provisioning.verbs.announce``; or a
caller's own ``queue_notice``), so a crash or a mail server that is down can lose neither. The
workers' ``notices`` schedule runs ``send_due``: it claims each due row, sends it over
SMTP (``notices.send_notice``) and marks it sent, or, on failure, tries again later
with growing pauses. The unique (account, kind, occasion) key keeps one occasion to
one mail.

The one gap no outbox closes: if a worker dies after the SMTP server accepted a mail
but before the row is marked sent, that mail goes again when the claim lapses. A
duplicate is the lesser harm than a notice never sent.
"""

from __future__ import annotations

import datetime
import logging
import smtplib
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef

from campusconf.accounts.models import Account, AccountEvent
from campusconf.accounts.reasons import Reason
from campusconf.accounts.states import Cause, State
from campusconf.core import clock
from campusconf.members.models import Member
from campusconf.portal import notices
from campusconf.portal.models import Notice
from campusconf.portal.notices import queue_notice, queue_notices
from campusconf.services.models import Service

log = logging.getLogger("campusconf.portal.notices")

# How long a worker holds a claimed row before another may try it (SMTP time-out ×3).
CLAIM = datetime.timedelta(minutes=2)
# Pauses between attempts while the mail server is down: 1, 2, 4 … minutes, at most 1 h.
FIRST_RETRY = datetime.timedelta(minutes=1)
LONGEST_RETRY = datetime.timedelta(hours=1)
# After this many failures the row stays pending but is logged as an error for staff.
ATTEMPTS_BEFORE_ALARM = 10
EXPIRING_WITHIN = datetime.timedelta(days=3)
# How a notice's last error starts when the member's mailbox refused it (mailbox_refuses).
MAILBOX_REFUSED = "mailbox refused"
# Refusals of one message; anything else (refused connection, time-out, a server that
# hangs up) means the server is out of reach, and the rest of the batch waits for the
# next run instead of each spending the SMTP time-out on it.
ONE_MESSAGE_REFUSED = (
    smtplib.SMTPRecipientsRefused,
    smtplib.SMTPSenderRefused,
    smtplib.SMTPDataError,
)

# The states in which each notice still makes sense when the sender gets to it; a
# notice whose moment has passed (the member activated meanwhile) is skipped, not sent.
STILL_APPLIES: dict[str, frozenset[str] | None] = {
    "application_received": None,
    "invitation_sent": frozenset({State.INVITED, State.CONVERSION_PENDING}),
    "invitation_expiring": frozenset({State.INVITED, State.CONVERSION_PENDING}),
    "invitation_expired": frozenset({State.INVITATION_EXPIRED}),
    "wrong_activation": frozenset({State.UNLICENSED}),
    "held_elsewhere": frozenset({State.HELD_ELSEWHERE}),
    "address_restored": frozenset({State.ACTIVE}),
    "address_not_restored": frozenset({State.UNLICENSED}),
    "licence_ending": frozenset({State.INVITED, State.CONVERSION_PENDING, State.ACTIVE}),
    # Requested too: a renewal restores a suspended account through requested, and the
    # notice may be sent before the job has reactivated it.
    "licence_renewed": frozenset(
        {State.REQUESTED, State.INVITED, State.CONVERSION_PENDING, State.ACTIVE}
    ),
    "licence_ended_suspended": frozenset({State.SUSPENDED}),
    "licence_ended_removed": None,  # the removal was decided; the job may not have run yet
    "seat_available": None,  # the seat was given; worth saying whatever happened since
}


# A changed address the engine is putting back (S9) is told once, by the mail of its
# outcome: "address_restored", or the engine's "address_not_restored".
QUIET_UNLICENSED = frozenset({Reason.ADDRESS_BEING_RESTORED, Reason.ADDRESS_NOT_RESTORED})


def _moment(value: datetime.datetime | None) -> str:
    return value.isoformat(timespec="seconds") if value else ""


def _event_key(event: AccountEvent) -> str:
    # The event's id names the occasion; an event written in bulk on a database that
    # returns no ids falls back to its own time, which is as unique per account.
    if event.pk is not None:
        return str(event.pk)
    return event.created_at.isoformat() if event.created_at else ""


def _due(event: AccountEvent, expires_at: datetime.datetime | None) -> tuple[str, str] | None:
    """The notice a state change calls for, as (kind, occasion key); None for most.

    ``expires_at`` is the account's invitation expiry after the change."""
    target = event.to_state
    if (
        target == State.REQUESTED
        and event.from_state in ("", State.REMOVED)
        and event.cause == Cause.MEMBER
    ):
        # The member applied (or applied again). A campaign or the staff opening it for
        # them is no application of theirs: those members hear of the invitation only.
        # A resend also passes through requested, quietly.
        return "application_received", _event_key(event)
    if target in (State.INVITED, State.CONVERSION_PENDING) and event.from_state == State.REQUESTED:
        return "invitation_sent", _event_key(event)
    if target == State.INVITATION_EXPIRED:
        return "invitation_expired", _moment(expires_at)
    if target == State.UNLICENSED and event.reason_code in QUIET_UNLICENSED:
        return None
    if target == State.UNLICENSED and event.cause != Cause.MEMBER:
        # (A member who reported the wrong activation needs no mail saying so.)
        return "wrong_activation", _event_key(event)
    if target == State.ACTIVE and event.reason_code == Reason.ADDRESS_RESTORED:
        return "address_restored", _event_key(event)
    if target == State.HELD_ELSEWHERE:
        return "held_elsewhere", _event_key(event)
    return None


def _send_soon() -> None:
    """Bring the workers' ``notices`` schedule forward to now.

    The vendor sends its own mail as its API call returns; ours, naming that mail, must
    not trail it by the schedule's interval. Run after the commit, in a statement of its
    own, so that busy transactions never wait on the schedule's row."""
    from campusconf.provisioning.models import Schedule

    now = clock.now()
    Schedule.objects.filter(name="notices", next_run_at__gt=now).update(next_run_at=now)


def on_transition(sender: Any, account: Account, event: AccountEvent, **kwargs: Any) -> None:
    """One state change (connected in PortalConfig.ready)."""
    due = _due(event, account.invitation_expires_at)
    if due is not None and queue_notice(due[0], account, key=due[1]) is not None:
        transaction.on_commit(_send_soon)


def on_transitions(sender: Any, events: list[AccountEvent], **kwargs: Any) -> None:
    """A batch of state changes (the engine's settle): the same notices as one
    ``on_transition`` per event, written with one INSERT for the whole batch."""
    expired = [e.account_id for e in events if e.to_state == State.INVITATION_EXPIRED]
    expiry = (
        dict(Account.objects.filter(pk__in=expired).values_list("pk", "invitation_expires_at"))
        if expired
        else {}
    )
    due = []
    for event in events:
        found = _due(event, expiry.get(event.account_id))
        if found is not None:
            due.append((found[0], event.account_id, found[1]))
    queue_notices(due)
    if due:
        transaction.on_commit(_send_soon)


def on_told(sender: Any, *, kind: str, account: Account, key: str, **kwargs: Any) -> bool:
    """The engine's ``announce.member_told``: queue the notice it announced."""
    return queue_notice(kind, account, key=key) is not None


def on_renewal_told(sender: Any, *, service: Service, ended: datetime.date, **kwargs: Any) -> int:
    """The engine's ``announce.renewal_told``: ``licence_renewed`` to whoever was told the
    licence would end on ``ended`` (only the portal's notices know who that was)."""
    told = Notice.objects.filter(
        kind="licence_ending", key=f"licence-end:{ended}", account__service=service
    ).select_related("account__service", "account__member")
    count = 0
    for notice in told:
        if queue_notice("licence_renewed", notice.account, key=f"licence-renewed:{ended}"):
            count += 1
    return count


def queue_expiring(now: datetime.datetime | None = None) -> int:
    """The daily sweep: invitations that expire within 3 days get one reminder each."""
    now = now or clock.now()
    count = 0
    for account in Account.objects.filter(
        state__in=[State.INVITED, State.CONVERSION_PENDING],
        invitation_expires_at__gt=now,
        invitation_expires_at__lte=now + EXPIRING_WITHIN,
    ).iterator():
        # Keyed by the expiry time: a resent invitation expires later and gets its own.
        if queue_notice("invitation_expiring", account, key=_moment(account.invitation_expires_at)):
            count += 1
    return count


def mailbox_refused(exc: BaseException) -> bool:
    """The university's mail server refused the member's address for good (5xx): a
    mailbox not activated yet. The vendors' invitations go to the same mailbox and are
    lost there without a word, so the member must be told on the portal."""
    if not isinstance(exc, smtplib.SMTPRecipientsRefused) or not exc.recipients:
        return False
    return all(code >= 500 for code, _ in exc.recipients.values())


def mailbox_refuses(member: Member) -> bool:
    """Whether a notice to the member waits because their mailbox refused it; the
    next attempt (within the hour) that goes through clears it."""
    return Notice.objects.filter(
        account__member=member,
        status=Notice.Status.PENDING,
        last_error__startswith=MAILBOX_REFUSED,
    ).exists()


def refused_for_account() -> Exists:
    """``mailbox_refuses`` for one account, as an annotation of an Account query: /my/
    reads the member's accounts anyway, and a notice always belongs to an account, so
    the page learns it without a statement of its own."""
    return Exists(
        Notice.objects.filter(
            account=OuterRef("pk"),
            status=Notice.Status.PENDING,
            last_error__startswith=MAILBOX_REFUSED,
        )
    )


def _claim(notice: Notice, now: datetime.datetime) -> bool:
    """Compare-and-set on next_attempt_at: only one worker wins a row."""
    return bool(
        Notice.objects.filter(
            pk=notice.pk, status=Notice.Status.PENDING, next_attempt_at=notice.next_attempt_at
        ).update(next_attempt_at=now + CLAIM)
    )


def _retry_after(attempts: int) -> datetime.timedelta:
    # The doubling stops at the longest pause: a mailbox refused for days would otherwise
    # reach 2**40 minutes, past what a timedelta holds, and stop every notice's sending.
    doublings = min(max(attempts - 1, 0), 16)
    return min(FIRST_RETRY * (1 << doublings), LONGEST_RETRY)


def send_due(now: datetime.datetime | None = None, limit: int = 200) -> int:
    """Send the notices that are due; returns how many went out."""
    now = now or clock.now()
    sent = 0
    due = list(
        Notice.objects.filter(status=Notice.Status.PENDING, next_attempt_at__lte=now)
        .select_related("account__member", "account__service")
        .order_by("next_attempt_at", "id")[:limit]
    )
    for notice in due:
        if not _claim(notice, now):
            continue
        applies = STILL_APPLIES[notice.kind]
        if applies is not None and notice.account.state not in applies:
            Notice.objects.filter(pk=notice.pk).update(status=Notice.Status.SKIPPED)
            log.info(
                "notice %s for account %s skipped: account is now %s",
                notice.kind,
                notice.account_id,
                notice.account.state,
            )
            continue
        try:
            notices.send_notice(notice.kind, notice.account)
        except Exception as exc:  # SMTP down, refused, timed out: all mean "later".
            attempts = notice.attempts + 1
            refused = mailbox_refused(exc)
            Notice.objects.filter(pk=notice.pk).update(
                attempts=attempts,
                next_attempt_at=clock.now() + _retry_after(attempts),
                last_error=(
                    f"{MAILBOX_REFUSED}: {exc}" if refused else f"{type(exc).__name__}: {exc}"
                )[:1000],
            )
            level = logging.ERROR if attempts >= ATTEMPTS_BEFORE_ALARM else logging.WARNING
            log.log(
                level,
                "notice %s to member %s not sent (attempt %d), will retry: %s",
                notice.kind,
                notice.account.member.common_id,
                attempts,
                exc,
            )
            if isinstance(exc, ONE_MESSAGE_REFUSED):
                continue
            break
        Notice.objects.filter(pk=notice.pk).update(
            status=Notice.Status.SENT,
            sent_at=clock.now(),
            attempts=notice.attempts + 1,
            last_error="",
        )
        sent += 1
    return sent
