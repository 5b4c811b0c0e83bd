"""The one next step, for every state an account can be in."""

import datetime

import pytest

from campusconf.accounts.reasons import Reason, Why
from campusconf.accounts.states import State
from campusconf.portal.next_step import next_step, unlicensed_cause

pytestmark = pytest.mark.django_db

ALLOWED = lambda account, now: (True, "")  # noqa: E731 - a tiny stand-in for the engine's limit
LIMITED = lambda account, now: (False, "wait 10 minutes")  # noqa: E731


def test_every_state_has_a_step(make_member, make_service, account_in, now):
    service = make_service()
    kinds = {}
    for state in State:
        member = make_member()
        account = account_in(member, service, state)
        kinds[state] = next_step(member, service, account, now, ALLOWED).kind
    assert kinds == {
        State.REQUESTED: "requested",
        State.INVITED: "invited",
        State.CONVERSION_PENDING: "conversion_pending",
        State.HELD_ELSEWHERE: "held_elsewhere",
        State.INVITATION_EXPIRED: "invitation_expired",
        State.ACTIVE: "active",
        State.UNLICENSED: "unlicensed",
        State.FAILED: "failed",
        State.SUSPENDED: "suspended",
        State.REMOVED: "apply",  # removed: the member may apply again
    }


def test_not_applied_and_eligible_offers_apply(make_member, make_service, now):
    member, service = make_member(), make_service()
    step = next_step(member, service, None, now, ALLOWED)
    assert step.kind == "apply" and step.can_apply


def test_not_eligible_by_role_says_who_may(make_member, make_service, now):
    step = next_step(
        make_member(student=True), make_service(eligible_roles="faculty staff"), None, now, ALLOWED
    )
    assert step.kind == "not_eligible" and not step.can_apply
    assert "faculty" in step.reason


def test_not_eligible_after_the_cut_off_date_names_both_dates(make_member, make_service, now):
    member = make_member(student=True, created_on=datetime.date(2026, 4, 1))
    service = make_service(roster_cutoff=datetime.date(2026, 3, 24))
    step = next_step(member, service, None, now, ALLOWED)
    assert step.kind == "not_eligible"
    assert "2026-03-24" in step.reason and "2026-04-01" in step.reason


def test_invited_names_the_mail_to_look_for(make_member, make_service, account_in, now):
    member, service = make_member(), make_service()
    account = account_in(member, service, State.INVITED, invitation_sent_at=now)
    step = next_step(member, service, account, now, ALLOWED)
    assert step.mail is not None
    assert step.mail.sender == "Cisco Webex"
    assert "has invited you to Cisco Webex" in step.mail.subject
    assert step.mail.address == member.mail_address
    assert step.can_resend and not step.offer_no_mail_inquiry


def test_zoom_invitation_mail(make_member, make_service, account_in, now):
    member, service = make_member(), make_service(slug="zoom", vendor="zoom")
    account = account_in(member, service, State.INVITED, vendor_address="alias@g.ecc.example.ac.jp")
    mail = next_step(member, service, account, now, ALLOWED).mail
    assert mail is not None
    assert (mail.sender, mail.subject) == ("Zoom", "Activate Zoom Account")
    assert mail.address == "alias@g.ecc.example.ac.jp"  # the address the vendor wrote to


def test_an_hour_without_activation_offers_i_got_no_mail(
    make_member, make_service, account_in, now, sent_long_ago
):
    member, service = make_member(), make_service()
    account = account_in(member, service, State.INVITED, **sent_long_ago)
    assert next_step(member, service, account, now, ALLOWED).offer_no_mail_inquiry
    fresh = account_in(make_member(), service, State.INVITED, invitation_sent_at=now)
    assert not next_step(fresh.member, service, fresh, now, ALLOWED).offer_no_mail_inquiry


def test_resend_limits_are_shown(make_member, make_service, account_in, now):
    member, service = make_member(), make_service()
    account = account_in(member, service, State.INVITATION_EXPIRED)
    step = next_step(member, service, account, now, LIMITED)
    assert step.kind == "invitation_expired"
    assert not step.can_resend and step.resend_refusal == "wait 10 minutes"


def test_conversion_pending_points_at_the_conversion_mail(
    make_member, make_service, account_in, now
):
    member, service = make_member(), make_service()
    account = account_in(member, service, State.CONVERSION_PENDING)
    step = next_step(member, service, account, now, ALLOWED)
    assert step.mail is not None and step.mail.subject == "Convert to Enterprise Account"
    assert step.mail.button == "Review"


@pytest.mark.parametrize(
    ("facts", "cause"),
    [
        ({"observed_login_type": "google"}, "google"),
        ({"observed_login_type": "password", "vendor_address": "me@gmail.example"}, "address"),
        ({}, "unknown"),
    ],
)
def test_unlicensed_says_what_went_wrong(make_member, make_service, account_in, now, facts, cause):
    member, service = make_member(), make_service(slug="zoom", vendor="zoom")
    account = account_in(member, service, State.UNLICENSED, **facts)
    assert unlicensed_cause(account) == cause
    step = next_step(member, service, account, now, ALLOWED)
    assert step.kind == "unlicensed" and step.unlicensed_cause == cause and step.can_resend


def test_an_alias_is_not_a_changed_address(make_member, make_service, account_in):
    member = make_member(aliases=("taro.yamada@g.ecc.example.ac.jp",))
    account = account_in(
        member, make_service(), State.UNLICENSED, vendor_address="Taro.Yamada@g.ecc.example.ac.jp"
    )
    assert unlicensed_cause(account) == "unknown"


def test_active_flags_a_licence_ending_within_30_days(make_member, make_service, account_in, now):
    member = make_member()
    service = make_service(valid_until=now.date() + datetime.timedelta(days=20))
    account = account_in(member, service, State.ACTIVE, activated_at=now)
    step = next_step(member, service, account, now, ALLOWED)
    assert step.kind == "active" and step.facts["ending_soon"]
    later = make_service(
        slug="zoom", vendor="zoom", valid_until=now.date() + datetime.timedelta(days=90)
    )
    other = account_in(member, later, State.ACTIVE)
    assert not next_step(member, later, other, now, ALLOWED).facts["ending_soon"]


def test_the_30_days_are_counted_in_the_university_s_own_days(
    make_member, make_service, account_in
):
    # 20:00 UTC on 12 December is 05:00 on the 13th in Tokyo: 30 days before the end
    # on 12 January, though the date in UTC is still the 12th (31 days before).
    evening_utc = datetime.datetime(2026, 12, 12, 20, tzinfo=datetime.UTC)
    member = make_member()
    service = make_service(valid_until=datetime.date(2027, 1, 12))
    account = account_in(member, service, State.ACTIVE, activated_at=evening_utc)
    assert next_step(member, service, account, evening_utc, ALLOWED).facts["ending_soon"]
    a_day_earlier = evening_utc - datetime.timedelta(days=1)
    assert not next_step(member, service, account, a_day_earlier, ALLOWED).facts["ending_soon"]


def test_the_engine_limit_is_asked_by_default(make_member, make_service, account_in, now):
    member, service = make_member(), make_service()
    account = account_in(member, service, State.INVITATION_EXPIRED)
    step = next_step(member, service, account, now)
    assert step.can_resend  # never resent: the engine allows it


def test_zoom_conversion_is_a_join_request(make_member, make_service, account_in, now):
    member, service = make_member(), make_service(slug="zoom", vendor="zoom")
    account = account_in(member, service, State.CONVERSION_PENDING)
    mail = next_step(member, service, account, now, ALLOWED).mail
    assert mail is not None
    assert mail.subject.endswith("invited you to join their Zoom account")
    assert mail.button == "Approve Request"


def zoom_after_google(make_member, make_service, account_in, reason):
    from campusconf.accounts.lifecycle import transition
    from campusconf.accounts.states import Cause

    member, service = make_member(), make_service(slug="zoom", vendor="zoom")
    account = account_in(member, service, State.INVITED)
    transition(account, State.UNLICENSED, cause=Cause.RECONCILE, reason=reason)
    transition(account, State.REQUESTED, cause=Cause.MEMBER, reason=Reason.RESEND)
    transition(account, State.INVITED, cause=Cause.ENGINE)
    return member, service, account


def test_after_an_s13_resend_zoom_sends_a_join_request(make_member, make_service, account_in, now):
    member, service, account = zoom_after_google(
        make_member, make_service, account_in, Reason.GOOGLE_SIGN_IN
    )
    step = next_step(member, service, account, now, ALLOWED)
    assert step.kind == "invited" and step.join_request
    assert step.mail.button == "Approve Request"
    assert step.mail.subject.endswith("invited you to join their Zoom account")


def test_a_plain_zoom_resend_is_still_an_activation(make_member, make_service, account_in, now):
    member, service, account = zoom_after_google(
        make_member, make_service, account_in, Why(Reason.ADDRESS_CHANGED, address="x@gmail.com")
    )
    Account = type(account)
    Account.objects.filter(pk=account.pk).update(vendor_address="")
    account.refresh_from_db()
    step = next_step(member, service, account, now, ALLOWED)
    assert not step.join_request and step.mail.button == "Activate Zoom Account"
    fresh = account_in(make_member(), service, State.INVITED)
    assert not next_step(fresh.member, service, fresh, now, ALLOWED).join_request


def test_the_members_own_report_names_google_and_the_join_request(
    make_member, zoom_google_reported, now
):
    member = make_member()
    account = zoom_google_reported(member)
    assert unlicensed_cause(account) == "google"
    step = next_step(member, account.service, account, now, ALLOWED)
    assert step.kind == "unlicensed" and step.unlicensed_cause == "google"
    assert not step.licence_only  # the university's user is still pending


def test_zoom_asks_about_google_only_where_an_activation_mail_is_awaited(
    make_member, make_service, account_in, now
):
    member, zoom, joining = zoom_after_google(
        make_member, make_service, account_in, Reason.MEMBER_REPORTS_GOOGLE
    )
    # After the report's resend the mail is a join request: no Google button there.
    assert not next_step(member, zoom, joining, now, ALLOWED).ask_google
    fresh = make_member()
    assert next_step(fresh, zoom, account_in(fresh, zoom, State.INVITED), now, ALLOWED).ask_google
    third = make_member()
    converting = account_in(third, zoom, State.CONVERSION_PENDING)
    assert not next_step(third, zoom, converting, now, ALLOWED).ask_google
    webex, other = make_service(), make_member()
    invited = account_in(other, webex, State.INVITED)
    assert not next_step(other, webex, invited, now, ALLOWED).ask_google


def test_an_active_user_without_the_licence_gets_it_back_not_a_mail(
    make_member, make_service, account_in, now
):
    member, service = make_member(), make_service(slug="zoom", vendor="zoom")
    account = account_in(
        member,
        service,
        State.UNLICENSED,
        observed_state="active",
        observed_licensed=False,
        observed_login_type="google",
    )
    step = next_step(member, service, account, now, ALLOWED)
    assert step.unlicensed_cause == "google" and step.licence_only
    changed = make_member()
    moved = account_in(
        changed,
        service,
        State.UNLICENSED,
        observed_state="active",
        observed_licensed=False,
        vendor_address="me@gmail.example",
    )
    assert not next_step(changed, service, moved, now, ALLOWED).licence_only  # S9: no


def test_a_password_login_is_no_google_cause(make_member, make_service, account_in):
    member, service = make_member(), make_service(slug="zoom", vendor="zoom")
    account = account_in(member, service, State.UNLICENSED, observed_login_type="zoom")
    assert unlicensed_cause(account) == "unknown"
