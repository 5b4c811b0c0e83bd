"""The portal picks the recovery for an unlicensed account from the stored reason code,
never from the words: the expected causes below are written out by hand."""

import pytest

from campusconf.accounts.lifecycle import transition
from campusconf.accounts.models import AccountEvent
from campusconf.accounts.reasons import Reason
from campusconf.accounts.states import Cause, State
from campusconf.portal.next_step import next_step, unlicensed_cause

pytestmark = pytest.mark.django_db


def ALLOWED(account, now):
    return True, ""


@pytest.mark.parametrize(
    ("reason", "cause"),
    [
        (Reason("google_sign_in"), "google"),  # reconcile saw the Google login
        (Reason("member_reports_google"), "google"),  # the member said so (Zoom)
        (Reason("no_licence"), "unknown"),
        (Reason("sign_in_disabled"), "unknown"),
        # A person's words that mention S12 are a note: text decides nothing.
        ("activated with Sign in with Google (S12), the member told us", "unknown"),
    ],
)
def test_the_unlicensed_cause_comes_from_the_code(
    make_member, make_service, account_in, now, reason, cause
):
    member, service = make_member(), make_service(slug="zoom", vendor="zoom")
    account = account_in(member, service, State.INVITED)
    transition(account, State.UNLICENSED, cause=Cause.RECONCILE, reason=reason)
    assert unlicensed_cause(account) == cause
    assert next_step(member, service, account, now, ALLOWED).unlicensed_cause == cause


def test_the_join_request_follows_a_google_code_and_not_a_note(
    make_member, make_service, account_in, now
):
    service = make_service(slug="zoom", vendor="zoom")
    shown = {}
    for label, reason in [
        ("code", Reason("google_sign_in")),
        ("note", "(S12) said on the phone"),
    ]:
        member = make_member()
        account = account_in(member, service, State.INVITED)
        transition(account, State.UNLICENSED, cause=Cause.RECONCILE, reason=reason)
        transition(account, State.REQUESTED, cause=Cause.MEMBER)
        transition(account, State.INVITED, cause=Cause.ENGINE)
        shown[label] = next_step(member, service, account, now, ALLOWED).join_request
    assert shown == {"code": True, "note": False}
    stored = AccountEvent.objects.filter(to_state=State.UNLICENSED).order_by("pk")
    assert [(e.reason_code, e.reason_params) for e in stored] == [
        ("google_sign_in", {}),
        ("note", {"text": "(S12) said on the phone"}),
    ]
