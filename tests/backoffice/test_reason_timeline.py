"""The account's timeline shows each reason in the staff member's language."""

import pytest

from campusconf.accounts.lifecycle import open_account, transition
from campusconf.accounts.reasons import Reason, Why
from campusconf.accounts.states import Cause, State

pytestmark = pytest.mark.django_db

GOOGLE_EN = "activated with Sign in with Google (S12): the vendor user holds no licence"
GOOGLE_JA = "「Googleでサインイン」でアクティベートされました（S12）"
CREATED_EN = "vendor user created; invitation sent"
CREATED_JA = "ベンダーのユーザーを作成し、招待を送信しました"
SEAT_EN = "seat freed; waiting since 2027-04-01 09:30"
SEAT_JA = "空きが出ました（2027-04-01 09:30 から待機）"


@pytest.fixture
def account(make_member, make_service):
    account = open_account(
        make_member(), make_service(slug="zoom", vendor="zoom"), cause=Cause.MEMBER
    )
    transition(account, State.INVITED, cause=Cause.ENGINE, reason=Reason.VENDOR_USER_CREATED)
    transition(account, State.UNLICENSED, cause=Cause.RECONCILE, reason=Reason.GOOGLE_SIGN_IN)
    transition(
        account,
        State.REQUESTED,
        cause=Cause.STAFF,
        reason=Why(Reason.SEAT_FREED, since="2027-04-01 09:30"),
    )
    transition(account, State.FAILED, cause=Cause.ENGINE, reason="問い合わせ #12 による")
    return account


def test_the_japanese_back_office_shows_japanese_reasons(staff_client, account):
    staff_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "ja"
    page = staff_client.get(f"/staff/accounts/{account.pk}/").content.decode()
    timeline = page[page.index('class="timeline"') :]
    assert GOOGLE_JA in timeline and CREATED_JA in timeline and SEAT_JA in timeline
    assert GOOGLE_EN not in timeline and CREATED_EN not in timeline and SEAT_EN not in timeline
    assert "問い合わせ #12 による" in timeline  # staff's own words, as written


def test_the_english_back_office_shows_english_reasons(staff_client, account):
    page = staff_client.get(f"/staff/accounts/{account.pk}/").content.decode()
    timeline = page[page.index('class="timeline"') :]
    assert GOOGLE_EN in timeline and CREATED_EN in timeline and SEAT_EN in timeline
    assert GOOGLE_JA not in timeline


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "the vendor refused: User is disabled [tracking Z1]"),
        ("ja", "ベンダーが拒否しました: User is disabled [tracking Z1]"),
    ],
)
def test_the_api_gives_the_last_error_in_the_callers_language_and_its_code(
    client, staff_user, make_member, make_service, language, message
):
    from campusconf.backoffice.tokens import issue_token
    from campusconf.provisioning.engine.steps import give_up_account

    account = open_account(make_member(), make_service(), cause=Cause.MEMBER)
    give_up_account(account.pk, "User is disabled [tracking Z1]", "1120")
    token = issue_token(staff_user, "tests", reason="test suite")[1]
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}", "HTTP_ACCEPT_LANGUAGE": language}
    [row] = client.get("/staff/api/v1/accounts", {"state": "failed"}, **headers).json()["results"]
    assert row["last_error_reason"] == "vendor_refused" and row["last_error_code"] == "1120"
    assert row["last_error_message"] == message
    # The timeline's event carries the same reason.
    assert account.events.last().reason_code == "vendor_refused"
