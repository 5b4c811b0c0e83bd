"""Which one next step a member sees for a service, from the account's state and facts.

Plain data in, plain data out: the views render the step, the tests check every
state. The words live in the templates (portal/steps/<kind>.html).
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import timezone

from campusconf.accounts.models import Account, AccountEvent
from campusconf.accounts.reasons import Reason
from campusconf.accounts.states import State
from campusconf.members.models import Member
from campusconf.provisioning.queueing import rate_limits
from campusconf.provisioning.verbs import actions
from campusconf.provisioning.verbs.seats import place_in_queue
from campusconf.services.eligibility import check_eligibility
from campusconf.services.models import Service

# S5: after this long without activation, "I got no mail" is offered.
NO_MAIL_AFTER = datetime.timedelta(hours=1)
# Accounts ending within this many days are flagged on the page.
ENDING_SOON = datetime.timedelta(days=30)
# The reasons of a move to unlicensed that mean "signed in with Google" (S12): the
# vendor saw it, or the member said so where Zoom cannot show it.
GOOGLE_REASONS = frozenset({Reason.GOOGLE_SIGN_IN, Reason.MEMBER_REPORTS_GOOGLE})
# The reasons of a move to unlicensed that mean "the address was changed" (S9).
ADDRESS_REASONS = frozenset(
    {Reason.ADDRESS_CHANGED, Reason.ADDRESS_BEING_RESTORED, Reason.ADDRESS_NOT_RESTORED}
)


@dataclass(frozen=True)
class InvitationMail:
    """The vendor's mail a member should look for (S3)."""

    sender: str
    subject: str
    button: str
    address: str


@dataclass(frozen=True)
class NextStep:
    kind: str
    service: Service
    account: Account | None
    reason: str = ""
    mail: InvitationMail | None = None
    can_apply: bool = False
    can_resend: bool = False
    resend_refusal: str = ""
    offer_no_mail_inquiry: bool = False
    unlicensed_cause: str = ""
    # The other mail the vendor may have sent instead when the address already had an
    # account of its own (S7): Webex's conversion request, Zoom's join request. Neither
    # API shows it apart from an invitation, so the card names both mails.
    other_mail: InvitationMail | None = None
    # Zoom, after an S13 resend: the mail is a join request for the personal account the
    # Google sign-in made (Approve Request → Confirm and Switch), not an activation.
    join_request: bool = False
    # Zoom, invited: ask "I chose Sign in with Google?" — Zoom's API cannot tell (S12).
    ask_google: bool = False
    # Unlicensed, but the user is active in the university's account at the member's
    # address: the resend gives the licence back, no mail is needed.
    licence_only: bool = False
    # Unlicensed after a changed address (S9) that the vendor would not let us put back:
    # only the member can, on their profile at the vendor.
    address_refused: bool = False
    facts: dict[str, object] = field(default_factory=dict)


def invitation_mail(service: Service, account: Account, *, conversion: bool) -> InvitationMail:
    address = account.vendor_address or account.member.mail_address
    university = settings.CAMPUSCONF_UNIVERSITY_NAME
    if service.vendor == Service.Vendor.WEBEX:
        if conversion:
            return InvitationMail("Cisco Webex", "Convert to Enterprise Account", "Review", address)
        return InvitationMail(
            "Cisco Webex", f"{university} has invited you to Cisco Webex", "Activate", address
        )
    if service.vendor == Service.Vendor.ZOOM:
        if conversion:
            # Zoom asks the owner of an existing account to join the university's.
            return InvitationMail(
                "Zoom",
                f"{university} invited you to join their Zoom account",
                "Approve Request",
                address,
            )
        return InvitationMail("Zoom", "Activate Zoom Account", "Activate Zoom Account", address)
    return InvitationMail(service.name, "", "", address)


def unlicensed_cause(account: Account) -> str:
    """'google' (S12), 'address' (S9) or 'unknown': from the sign-in method the vendor
    reported, or the reason of the move to unlicensed (the member's own report, when
    Zoom showed only a pending user; docs/vendors.md)."""
    if "google" in account.observed_login_type.lower().split(","):
        return "google"
    why = (
        AccountEvent.objects.filter(account=account, to_state=State.UNLICENSED)
        .order_by("-created_at", "-pk")
        .values_list("reason_code", flat=True)
        .first()
    )
    if why in GOOGLE_REASONS:
        return "google"
    if why in ADDRESS_REASONS or account.last_error_reason == Reason.ADDRESS_NOT_RESTORED:
        return "address"
    member_addresses = {
        account.member.mail_address.lower(),
        *map(str.lower, account.member.alias_addresses),
    }
    if account.vendor_address and account.vendor_address.lower() not in member_addresses:
        return "address"
    return "unknown"


def zoom_join_expected(service: Service, account: Account) -> bool:
    """After an S13 resend on Zoom, the mail is a join request, not an activation.

    The Google sign-in (S12) left a personal Zoom account at the member's address, and
    Zoom answers a new invitation to an address with an account by asking that account
    to join the university's ("Approve Request" → "Confirm and Switch"). The account's
    history says so: it went unlicensed through Google and has not been active since.
    """
    if service.vendor != Service.Vendor.ZOOM or account.state != State.INVITED:
        return False
    last = (
        AccountEvent.objects.filter(account=account, to_state__in=[State.UNLICENSED, State.ACTIVE])
        .order_by("-created_at", "-pk")
        .values_list("to_state", flat=True)
        .first()
    )
    return last == State.UNLICENSED and unlicensed_cause(account) == "google"


def licence_only(service: Service, account: Account, cause: str) -> bool:
    """The vendor user is active at the member's address and only lacks the licence
    (Zoom's Google sign-in as a Basic user): the resend job gives the licence back."""
    return (
        service.vendor == Service.Vendor.ZOOM
        and cause != "address"
        and account.observed_state == Account.Observed.ACTIVE
        and account.observed_licensed is False
    )


ResendCheck = Callable[[Account, datetime.datetime], tuple[bool, str]]


def engine_resend_allowed(account: Account, now: datetime.datetime) -> tuple[bool, str]:
    # The engine owns the limits (once per 10 minutes, a few a day); the page only asks.
    allowed, reason = actions.resend_allowed(account, now)
    return bool(allowed), str(reason)


def engine_released_allowed(account: Account, now: datetime.datetime) -> tuple[bool, str]:
    # The engine limits how often the vendor is asked again; the page only asks.
    allowed, reason = actions.released_allowed(account, now)
    return bool(allowed), str(reason)


def creates_paused_until(service: Service, now: datetime.datetime) -> datetime.datetime | None:
    """When the vendor lets new accounts be created again, if it does not now (Zoom's
    daily cap, Z-e): the member then waits until the vendor's reset, not minutes."""
    return rate_limits.creates_paused_until(service, now)


def next_step(
    member: Member,
    service: Service,
    account: Account | None,
    now: datetime.datetime,
    resend_allowed: ResendCheck = engine_resend_allowed,
) -> NextStep:
    if account is None or account.state == State.REMOVED:
        eligibility = check_eligibility(member, service)
        if not eligibility.eligible:
            return NextStep("not_eligible", service, account, reason=eligibility.reason)
        if service.seats is not None:
            # The engine owns the seat queue (S16); the page only shows the place.
            place = place_in_queue(member, service)
            if place is not None:
                return NextStep("waiting", service, account, facts={"place": place})
        return NextStep("apply", service, account, can_apply=True)

    state = account.state
    if state == State.REQUESTED:
        paused = creates_paused_until(service, now)
        return NextStep("requested", service, account, facts={"paused_until": paused})
    if state == State.HELD_ELSEWHERE:
        allowed, refusal = engine_released_allowed(account, now)
        return NextStep(
            "held_elsewhere",
            service,
            account,
            can_resend=allowed,
            resend_refusal=refusal,
        )
    if state in (State.INVITED, State.CONVERSION_PENDING):
        conversion = state == State.CONVERSION_PENDING
        join = zoom_join_expected(service, account)
        can_resend, refusal = resend_allowed(account, now)
        sent = account.invitation_sent_at
        return NextStep(
            "conversion_pending" if conversion else "invited",
            service,
            account,
            mail=invitation_mail(service, account, conversion=conversion or join),
            join_request=join,
            ask_google=service.vendor == Service.Vendor.ZOOM and not conversion and not join,
            can_resend=can_resend,
            resend_refusal=refusal,
            offer_no_mail_inquiry=sent is not None and now - sent >= NO_MAIL_AFTER,
            other_mail=(
                invitation_mail(service, account, conversion=True)
                if not conversion
                and not join
                and service.vendor in (Service.Vendor.WEBEX, Service.Vendor.ZOOM)
                else None
            ),
        )
    if state == State.INVITATION_EXPIRED:
        can_resend, refusal = resend_allowed(account, now)
        return NextStep(
            "invitation_expired", service, account, can_resend=can_resend, resend_refusal=refusal
        )
    if state == State.UNLICENSED:
        can_resend, refusal = resend_allowed(account, now)
        cause = unlicensed_cause(account)
        return NextStep(
            "unlicensed",
            service,
            account,
            can_resend=can_resend,
            resend_refusal=refusal,
            unlicensed_cause=cause,
            licence_only=licence_only(service, account, cause),
            address_refused=account.last_error_reason == Reason.ADDRESS_NOT_RESTORED,
            mail=invitation_mail(service, account, conversion=False),
        )
    if state == State.ACTIVE:
        # The university's day (Tokyo), as the licence's end date and the notice are:
        # from 15:00 UTC on, now.date() was still yesterday there.
        ending = service.valid_until is not None and (
            service.valid_until - timezone.localdate(now) <= ENDING_SOON
        )
        return NextStep(
            "active",
            service,
            account,
            mail=invitation_mail(service, account, conversion=False),
            facts={"ending_soon": ending},
        )
    if state == State.FAILED:
        return NextStep("failed", service, account)
    # Suspended: say so plainly when the licence's end (S16) is the reason.
    ended = service.valid_until is not None and service.valid_until < timezone.localdate(now)
    return NextStep("suspended", service, account, facts={"licence_ended": ended})
