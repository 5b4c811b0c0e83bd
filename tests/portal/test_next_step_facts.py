"""The facts behind the next step, each pinned where a wrong one would mislead a member.

What the member is told comes from their own account's history only; the mails are the
vendors' exact senders, subjects and buttons; the time limits hold at their edges.
Expected values are written out by hand (docs/vendors.md, docs/portal.md).
"""

import datetime

import pytest
from django.utils import timezone, translation

from campusconf.accounts.lifecycle import transition
from campusconf.accounts.models import Account
from campusconf.accounts.reasons import Reason
from campusconf.accounts.states import Cause, State
from campusconf.portal.next_step import (
    InvitationMail,
    next_step,
    unlicensed_cause,
    zoom_join_expected,
)
from campusconf.provisioning.queueing import rate_limits

pytestmark = pytest.mark.django_db

ALLOWED = lambda account, now: (True, "")  # noqa: E731 - the engine's limit, always yes
UNIVERSITY = "CampusConf University"  # settings.CAMPUSCONF_UNIVERSITY_NAME in the tests


def unlicensed_by(account, reason):
    transition(account, State.UNLICENSED, cause=Cause.RECONCILE, reason=reason)


def test_another_members_google_report_is_not_this_members_cause(
    make_member, make_service, account_in
):
    zoom = make_service(slug="zoom", vendor="zoom")
    theirs = account_in(make_member(), zoom, State.INVITED)
    unlicensed_by(theirs, Reason.GOOGLE_SIGN_IN)
    mine = account_in(make_member(), zoom, State.INVITED)
    unlicensed_by(mine, "licence removed by an administrator")
    assert unlicensed_cause(theirs) == "google"
    assert unlicensed_cause(mine) == "unknown"


def test_the_same_members_other_service_does_not_speak_for_this_one(
    make_member, make_service, account_in
):
    member = make_member()
    webex = account_in(member, make_service(), State.INVITED)
    unlicensed_by(webex, Reason.GOOGLE_SIGN_IN)
    zoom = account_in(member, make_service(slug="zoom", vendor="zoom"), State.INVITED)
    unlicensed_by(zoom, "licence removed by an administrator")
    assert unlicensed_cause(zoom) == "unknown"


def test_another_accounts_google_history_asks_no_join_request(
    make_member, make_service, account_in, now
):
    zoom = make_service(slug="zoom", vendor="zoom")
    theirs = account_in(make_member(), zoom, State.INVITED)
    unlicensed_by(theirs, Reason.MEMBER_REPORTS_GOOGLE)
    member = make_member()
    mine = account_in(member, zoom, State.INVITED)
    assert not zoom_join_expected(zoom, mine)
    step = next_step(member, zoom, mine, now, ALLOWED)
    assert not step.join_request and step.mail.button == "Activate Zoom Account"


def test_the_latest_move_to_unlicensed_decides(make_member, make_service, account_in):
    account = account_in(make_member(), make_service(slug="zoom", vendor="zoom"), State.INVITED)
    unlicensed_by(account, Reason.MEMBER_REPORTS_GOOGLE)
    transition(account, State.ACTIVE, cause=Cause.RECONCILE)
    transition(account, State.UNLICENSED, cause=Cause.RECONCILE, reason="licence lost (S9)")
    assert unlicensed_cause(account) == "unknown"


def test_an_activation_since_the_google_sign_in_means_an_ordinary_invitation(
    make_member, make_service, account_in
):
    zoom = make_service(slug="zoom", vendor="zoom")
    account = account_in(make_member(), zoom, State.INVITED)
    unlicensed_by(account, Reason.MEMBER_REPORTS_GOOGLE)
    transition(account, State.ACTIVE, cause=Cause.RECONCILE)
    transition(account, State.REQUESTED, cause=Cause.STAFF)
    transition(account, State.INVITED, cause=Cause.ENGINE)
    assert not zoom_join_expected(zoom, account)


def test_a_google_login_among_several_is_the_cause(make_member, make_service, account_in):
    account = account_in(
        make_member(),
        make_service(slug="zoom", vendor="zoom"),
        State.UNLICENSED,
        observed_login_type="SSO,Google",
    )
    assert unlicensed_cause(account) == "google"


def test_the_mails_each_vendor_sends(make_member, make_service, account_in, now):
    member = make_member()
    address = member.mail_address
    webex, zoom = make_service(), make_service(slug="zoom", vendor="zoom")
    invited = next_step(member, webex, account_in(member, webex, State.INVITED), now, ALLOWED)
    assert invited.mail == InvitationMail(
        "Cisco Webex", f"{UNIVERSITY} has invited you to Cisco Webex", "Activate", address
    )
    # Webex's API shows a conversion request like an invitation: both mails are named.
    assert invited.other_mail == InvitationMail(
        "Cisco Webex", "Convert to Enterprise Account", "Review", address
    )
    other = make_member()
    zoom_step = next_step(other, zoom, account_in(other, zoom, State.INVITED), now, ALLOWED)
    assert zoom_step.mail == InvitationMail(
        "Zoom", "Activate Zoom Account", "Activate Zoom Account", other.mail_address
    )
    # Zoom's API shows a join request (an address with its own account, S7) like an
    # invitation too: both mails are named.
    assert zoom_step.other_mail == InvitationMail(
        "Zoom",
        f"{UNIVERSITY} invited you to join their Zoom account",
        "Approve Request",
        other.mail_address,
    )
    third = make_member()
    joining = account_in(third, zoom, State.CONVERSION_PENDING, vendor_address="t@example.jp")
    assert next_step(third, zoom, joining, now, ALLOWED).mail == InvitationMail(
        "Zoom",
        f"{UNIVERSITY} invited you to join their Zoom account",
        "Approve Request",
        "t@example.jp",
    )


def test_a_scim_service_names_no_mail_but_the_address(make_member, make_service, account_in, now):
    member = make_member()
    service = make_service(slug="scim", vendor="scim", name_en="Box")
    step = next_step(member, service, account_in(member, service, State.INVITED), now, ALLOWED)
    assert (step.mail.subject, step.mail.button, step.mail.address) == ("", "", member.mail_address)
    assert step.other_mail is None and not step.ask_google


@pytest.mark.parametrize(
    ("sent_ago", "offered"),
    [(None, False), (datetime.timedelta(minutes=59), False), (datetime.timedelta(hours=1), True)],
)
def test_i_got_no_mail_is_offered_after_one_hour(
    make_member, make_service, account_in, now, sent_ago, offered
):
    member, service = make_member(), make_service()
    sent = None if sent_ago is None else now - sent_ago
    account = account_in(member, service, State.INVITED, invitation_sent_at=sent)
    assert next_step(member, service, account, now, ALLOWED).offer_no_mail_inquiry is offered


@pytest.mark.parametrize("state", [State.INVITED, State.INVITATION_EXPIRED, State.UNLICENSED])
def test_the_resend_refusal_is_passed_on(make_member, make_service, account_in, now, state):
    member, service = make_member(), make_service()
    account = account_in(member, service, state)
    step = next_step(member, service, account, now, lambda a, n: (False, "wait 10 minutes"))
    assert (step.can_resend, step.resend_refusal) == (False, "wait 10 minutes")


def test_held_elsewhere_asks_the_engine_how_often_the_member_may_say_released(
    make_member, make_service, account_in, now
):
    member, service = make_member(), make_service(slug="zoom", vendor="zoom")
    account = account_in(member, service, State.HELD_ELSEWHERE)
    step = next_step(member, service, account, now, ALLOWED)
    assert (step.kind, step.can_resend, step.resend_refusal) == ("held_elsewhere", True, "")
    transition(account, State.REQUESTED, cause=Cause.MEMBER)
    transition(account, State.HELD_ELSEWHERE, cause=Cause.ENGINE)
    with translation.override("en"):
        again = next_step(member, service, account, timezone.now(), ALLOWED)
    assert again.can_resend is False
    assert again.resend_refusal == "We asked the vendor a few minutes ago; please wait 5 minutes."


def test_a_requested_account_shows_when_the_vendor_takes_creates_again(
    make_member, make_service, account_in, now
):
    member, service = make_member(), make_service(slug="zoom", vendor="zoom")
    account = account_in(member, service, State.REQUESTED)
    assert next_step(member, service, account, now, ALLOWED).facts == {"paused_until": None}
    until = now + datetime.timedelta(hours=5)
    rate_limits.pause_creates(service, until, "daily cap")
    assert next_step(member, service, account, now, ALLOWED).facts == {"paused_until": until}


@pytest.mark.parametrize(("days_left", "soon"), [(30, True), (31, False), (0, True)])
def test_ending_soon_is_thirty_days_inclusive(
    make_member, make_service, account_in, days_left, soon
):
    noon = datetime.datetime(2026, 6, 1, 3, tzinfo=datetime.UTC)  # 12:00 in Tokyo
    member = make_member()
    service = make_service(
        valid_from=datetime.date(2026, 1, 1),
        valid_until=datetime.date(2026, 6, 1) + datetime.timedelta(days=days_left),
    )
    account = account_in(member, service, State.ACTIVE)
    assert next_step(member, service, account, noon, ALLOWED).facts == {"ending_soon": soon}


def test_no_end_date_is_never_ending_soon(make_member, make_service, account_in, now):
    member, service = make_member(), make_service(valid_until=None)
    account = account_in(member, service, State.ACTIVE)
    assert next_step(member, service, account, now, ALLOWED).facts == {"ending_soon": False}


@pytest.mark.parametrize(
    ("valid_until", "ended"),
    [(datetime.date(2026, 5, 31), True), (datetime.date(2026, 6, 1), False), (None, False)],
)
def test_a_suspension_names_the_licence_end_only_once_it_has_passed(
    make_member, make_service, account_in, valid_until, ended
):
    noon = datetime.datetime(2026, 6, 1, 3, tzinfo=datetime.UTC)
    member = make_member()
    service = make_service(valid_from=datetime.date(2026, 1, 1), valid_until=valid_until)
    account = account_in(member, service, State.SUSPENDED)
    step = next_step(member, service, account, noon, ALLOWED)
    assert (step.kind, step.facts) == ("suspended", {"licence_ended": ended})


def test_a_failed_account_offers_nothing(make_member, make_service, account_in, now):
    member, service = make_member(), make_service()
    step = next_step(member, service, account_in(member, service, State.FAILED), now, ALLOWED)
    assert (step.kind, step.can_apply, step.can_resend, step.mail) == ("failed", False, False, None)


def test_licence_only_needs_an_active_zoom_user_known_to_lack_the_licence(
    make_member, make_service, account_in, now
):
    zoom, webex = make_service(slug="zoom", vendor="zoom"), make_service()

    def only(service, **facts):
        member = make_member()
        account = account_in(member, service, State.UNLICENSED, **facts)
        return next_step(member, service, account, now, ALLOWED).licence_only

    assert only(zoom, observed_state="active", observed_licensed=False)
    assert not only(zoom, observed_state="active", observed_licensed=None)  # not known
    assert not only(zoom, observed_state="pending", observed_licensed=False)
    assert not only(webex, observed_state="active", observed_licensed=False)


def test_the_unlicensed_step_names_the_activation_mail(make_member, make_service, account_in, now):
    member, service = make_member(), make_service(slug="zoom", vendor="zoom")
    account = account_in(member, service, State.UNLICENSED)
    step = next_step(member, service, account, now, ALLOWED)
    assert step.mail == InvitationMail(
        "Zoom", "Activate Zoom Account", "Activate Zoom Account", member.mail_address
    )
    assert Account.objects.get(pk=account.pk).state == "unlicensed"  # asking changes nothing


def test_a_join_request_needs_this_accounts_own_last_move_to_be_the_google_one(
    make_member, make_service, account_in, now
):
    zoom = make_service(slug="zoom", vendor="zoom")
    member = make_member()
    mine = account_in(member, zoom, State.INVITED)
    unlicensed_by(mine, Reason.MEMBER_REPORTS_GOOGLE)
    transition(mine, State.ACTIVE, cause=Cause.RECONCILE)  # licensed since: an old story
    transition(mine, State.REQUESTED, cause=Cause.STAFF)
    transition(mine, State.INVITED, cause=Cause.ENGINE)
    theirs = account_in(make_member(), zoom, State.INVITED)
    unlicensed_by(theirs, "licence removed")  # the latest move to unlicensed anywhere
    assert not zoom_join_expected(zoom, mine)
    assert not next_step(member, zoom, mine, now, ALLOWED).join_request


def test_webex_never_expects_a_join_request(make_member, make_service, account_in, now):
    webex = make_service()
    member = make_member()
    account = account_in(member, webex, State.INVITED)
    unlicensed_by(account, Reason.GOOGLE_SIGN_IN)
    transition(account, State.REQUESTED, cause=Cause.MEMBER)
    transition(account, State.INVITED, cause=Cause.ENGINE)
    assert not zoom_join_expected(webex, account)
    step = next_step(member, webex, account, now, ALLOWED)
    assert not step.join_request and step.mail.button == "Activate"


def test_the_engines_yes_carries_no_refusal(make_member, make_service, account_in, now):
    member, service = make_member(), make_service()
    account = account_in(member, service, State.INVITATION_EXPIRED)
    step = next_step(member, service, account, now)
    assert (step.can_resend, step.resend_refusal) == (True, "")


def test_the_pause_is_judged_at_the_time_asked_about(make_member, make_service, account_in):
    member, service = make_member(), make_service(slug="zoom", vendor="zoom")
    account = account_in(member, service, State.REQUESTED)
    until = timezone.now() - datetime.timedelta(hours=1)
    rate_limits.pause_creates(service, until, "daily cap")
    earlier = until - datetime.timedelta(hours=1)
    assert next_step(member, service, account, earlier, ALLOWED).facts == {"paused_until": until}
