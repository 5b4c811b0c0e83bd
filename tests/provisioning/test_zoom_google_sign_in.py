"""S12 on Zoom, detected with what Zoom really shows (docs/vendors.md, "Sign in with Google").

Each choice of the sandbox's ``zoom_google_activation`` variant is one plausible outcome:
the organisation's user stays pending beside a personal account (no vendor signal: the
member tells the portal, S12 → S13), or the invitation is accepted with a Google login,
as a Basic user (the licence is missing: reconcile sees it) or licensed (nothing wrong).
None of them is judged by ``GET /users/email`` any more.
"""

import httpx
import pytest

from campusconf.accounts.models import AccountEvent
from campusconf.accounts.states import Cause, State
from campusconf.provisioning import worker
from campusconf.provisioning.engine.reconcile import run_pass
from campusconf.provisioning.verbs import actions, google_sign_in
from tests.fixtures.sandbox import _CSRF

pytestmark = pytest.mark.django_db(transaction=True)


def invited(make_member, service):
    account = actions.apply_for_service(make_member(), service)
    worker.drain(max_seconds=60)
    account.refresh_from_db()
    assert account.state == State.INVITED
    return account


def latest_link(vendor, address: str, label: str) -> str:
    mails = vendor.admin("GET", "mails", params={"to": address.lower()})["items"]
    return str(next(m["links"][label] for m in mails if label in m["links"]))


def press(url: str, action: str) -> str:
    """A button on a sandbox page, as a browser presses it (with the page's CSRF token)."""
    with httpx.Client(follow_redirects=True, timeout=30) as client:
        token = _CSRF.search(client.get(url).text)
        assert token, f"no form on {url}"
        page = client.post(url, data={"csrfmiddlewaretoken": token.group(1), "action": action})
        assert page.status_code == 200, page.text[:300]
        return page.text


def sign_in_with_google(vendor, address: str) -> None:
    """The member presses "Sign in with Google" on Zoom's activation page."""
    press(latest_link(vendor, address, "Activate Zoom Account"), "google")


def email_checks(vendor) -> int:
    requests = vendor.admin("GET", "counters")["requests"]
    return sum(n for key, n in requests.items() if "users.email" in key)


def test_the_organisations_user_left_pending_shows_nothing_so_the_pass_changes_nothing(
    make_member, zoom_service, vendor
):
    account = invited(make_member, zoom_service)
    sign_in_with_google(vendor, account.member.mail_address)
    assert [u["status"] for u in vendor.zoom_users()] == ["pending"]
    record = run_pass(zoom_service)
    account.refresh_from_db()
    assert account.state == State.INVITED and not record.changes.get("to_unlicensed")
    assert email_checks(vendor) == 0  # existed_email is no signal (Errata Z-b)


def test_the_members_word_repairs_it_in_one_step_with_a_join_request(
    make_member, zoom_service, vendor
):
    account = invited(make_member, zoom_service)
    address = account.member.mail_address
    sign_in_with_google(vendor, address)
    first_id = account.vendor_user_id
    assert google_sign_in.report_google_sign_in(account) is True
    events = list(AccountEvent.objects.filter(account=account).order_by("pk"))
    assert [(e.from_state, e.to_state, e.cause) for e in events[-2:]] == [
        (State.INVITED, State.UNLICENSED, Cause.MEMBER),
        (State.UNLICENSED, State.REQUESTED, Cause.MEMBER),
    ]
    assert events[-2].reason_code == "member_reports_google"
    worker.drain(max_seconds=60)
    account.refresh_from_db()
    assert account.state == State.INVITED and account.vendor_user_id != first_id
    # Zoom read the pending user back as its id alone (Z-c): invited again as intended.
    [user] = vendor.zoom_users()
    assert (user["type"], user["first_name"]) == (2, account.member.given_name_latin)
    # The personal account the Google sign-in made is asked to join the university's.
    press(latest_link(vendor, address, "Approve Request"), "approve")
    assert "Account switched successfully" in press(
        latest_link(vendor, address, "Approve Request"), "switch"
    )
    run_pass(zoom_service)
    account.refresh_from_db()
    # Active and licensed, still with its Google login: nothing wrong with that.
    assert account.state == State.ACTIVE and account.observed_licensed


def test_a_report_within_the_resend_limit_is_recorded_and_waits(make_member, zoom_service, vendor):
    account = invited(make_member, zoom_service)
    run_pass(zoom_service)
    actions.resend_invitation(account, cause=Cause.MEMBER)
    worker.drain(max_seconds=60)
    account.refresh_from_db()
    # The resend limit holds: the report is recorded, the fresh mail waits for the button.
    assert google_sign_in.report_google_sign_in(account) is False
    account.refresh_from_db()
    assert account.state == State.UNLICENSED
    with pytest.raises(actions.IllegalTransition):
        google_sign_in.report_google_sign_in(account)  # no longer invited


def test_a_google_login_without_the_licence_is_seen_and_the_resend_gives_it_back(
    make_member, zoom_service, vendor
):
    vendor.admin("PUT", "variants", json={"zoom_google_activation": "joined_basic"})
    account = invited(make_member, zoom_service)
    sign_in_with_google(vendor, account.member.mail_address)
    [user] = vendor.zoom_users()
    assert (user["status"], user["type"], user["login_types"]) == ("active", 1, [1])
    record = run_pass(zoom_service)
    account.refresh_from_db()
    assert account.state == State.UNLICENSED and record.changes.get("to_unlicensed") == 1
    assert AccountEvent.objects.filter(account=account).last().reason_code == "no_licence"
    # The member's one click: the job finds the user active without the licence.
    actions.resend_invitation(account, cause=Cause.MEMBER)
    worker.drain(max_seconds=60)
    account.refresh_from_db()
    assert account.state == State.ACTIVE
    [user] = vendor.zoom_users()
    assert (user["status"], user["type"]) == ("active", 2)
    assert len(vendor.zoom_users()) == 1  # the same user: no second invitation


def test_a_google_login_that_kept_the_licence_is_simply_active(make_member, zoom_service, vendor):
    vendor.admin("PUT", "variants", json={"zoom_google_activation": "joined_licensed"})
    account = invited(make_member, zoom_service)
    sign_in_with_google(vendor, account.member.mail_address)
    run_pass(zoom_service)
    account.refresh_from_db()
    assert account.state == State.ACTIVE and account.observed_licensed
