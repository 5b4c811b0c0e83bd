"""S12 → S13 on Zoom, judged by the single-account check Zoom's webhook triggers: after
the resend and the join request ("Approve Request" → "Confirm and Switch") the vendor
still reports the Google login, which is expected now. The demo trial saw the observe
job set the account back to unlicensed and mail the member a second time."""

import hashlib
import hmac
import json
import os
import time

import httpx
import pytest
from django.utils import timezone

from campusconf.accounts.lifecycle import transition
from campusconf.accounts.states import Cause, State
from campusconf.connectors.base import UserState, VendorUser
from campusconf.portal.models import Notice
from campusconf.provisioning import actions, observe, runner
from campusconf.provisioning.models import Job
from campusconf.provisioning.reconcile import run_pass
from tests.fixtures.sandbox import _CSRF

from .test_s12_detection import google_mistake, invited

pytestmark = pytest.mark.django_db(transaction=True)


def approve_join_request(vendor, address: str) -> None:
    """The member follows the join mail: "Approve Request", then "Confirm and Switch"."""
    mails = vendor.admin("GET", "mails", params={"to": address.lower()})["items"]
    url = next(m["links"]["Approve Request"] for m in mails if "Approve Request" in m["links"])
    with httpx.Client(follow_redirects=True, timeout=30) as client:
        for action in ("approve", "switch"):
            token = _CSRF.search(client.get(url).text)
            assert token, f"no form on {url}"
            page = client.post(url, data={"csrfmiddlewaretoken": token.group(1), "action": action})
            assert page.status_code == 200, page.text[:300]
    assert "Account switched successfully" in page.text


def zoom_says(client, event: str, vendor_id: str) -> int:
    """Zoom's signed webhook, as the view receives it."""
    body = json.dumps({"event": event, "payload": {"object": {"id": vendor_id}}})
    ts = str(int(time.time()))
    secret = os.environ["CAMPUSCONF_ZOOM_WEBHOOK_SECRET"].encode()
    sig = "v0=" + hmac.new(secret, f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    headers = {"HTTP_X_ZM_SIGNATURE": sig, "HTTP_X_ZM_REQUEST_TIMESTAMP": ts}
    return client.post("/webhooks/zoom", body, content_type="application/json", **headers)


def wrong_activation_notices(account) -> int:
    return Notice.objects.filter(account=account, kind="wrong_activation").count()


def test_the_webhook_check_after_the_s13_join_request_makes_the_account_active(
    client, make_member, zoom_service, vendor
):
    account = invited(make_member, zoom_service)
    address = account.member.mail_address
    google_mistake(vendor, address)
    run_pass(zoom_service)
    account.refresh_from_db()
    assert account.state == State.UNLICENSED
    assert wrong_activation_notices(account) == 1
    actions.resend_invitation(account, cause=Cause.MEMBER)
    runner.drain(max_seconds=60)
    account.refresh_from_db()
    assert account.state == State.INVITED

    approve_join_request(vendor, address)
    [user] = vendor.zoom_users()
    assert user["status"] == "active"  # the org user, still with its Google login
    assert zoom_says(client, "user.invitation_accepted", account.vendor_user_id).status_code == 204
    assert Job.objects.filter(account=account, kind=Job.Kind.OBSERVE).exists()
    runner.drain(max_seconds=60)

    account.refresh_from_db()
    assert account.state == State.ACTIVE
    assert "google" in account.observed_login_type
    assert wrong_activation_notices(account) == 1  # the S12 mail only, no second one
    # The regular pass agrees: nothing to change.
    assert run_pass(zoom_service).changes.get("to_unlicensed") is None
    account.refresh_from_db()
    assert account.state == State.ACTIVE


def test_a_google_login_is_expected_only_after_the_s13_resend(make_member, zoom_service):
    """The rule is narrow: the same active Google user is S12 (unlicensed) for an account
    never re-invited from unlicensed, and expected once the resend was sent."""
    account = invited(make_member, zoom_service)
    address = account.member.mail_address
    user = VendorUser(
        account.vendor_user_id,
        address,
        state=UserState.ACTIVE,
        licensed=True,
        login_types=("google",),
    )
    assert observe.judges_login(user)
    assert observe.personal_login_expected([account.pk]) == set()
    verdict = observe.judge(account, user, {address.lower()}, timezone.now())
    assert verdict.target == State.UNLICENSED and "(S12)" in verdict.reason

    transition(account, State.UNLICENSED, cause=Cause.RECONCILE, reason="S12 seen")
    actions.resend_invitation(account, cause=Cause.MEMBER)
    runner.drain(max_seconds=60)
    account.refresh_from_db()
    assert observe.personal_login_expected([account.pk]) == {account.pk}
    verdict = observe.judge(account, user, {address.lower()}, timezone.now(), True)
    assert verdict.target == State.ACTIVE
