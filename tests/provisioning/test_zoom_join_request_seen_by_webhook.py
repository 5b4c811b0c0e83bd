"""S12 → S13 on Zoom, judged by the single-account check Zoom's webhook triggers: after
the member's report, the resend and the join request ("Approve Request" → "Confirm and
Switch") the vendor reports an active, licensed user with a Google login, which is the
university's licence in use: active, and no second mail about a wrong activation."""

import hashlib
import hmac
import json
import os
import time

import pytest
from django.utils import timezone

from campusconf.accounts.states import State
from campusconf.connectors.base import UserState, VendorUser
from campusconf.portal.models import Notice
from campusconf.provisioning import worker
from campusconf.provisioning.engine import observe, webhook_events
from campusconf.provisioning.engine.reconcile import run_pass
from campusconf.provisioning.models import Job
from campusconf.provisioning.verbs import google_sign_in

from .test_zoom_google_sign_in import invited, latest_link, press, sign_in_with_google

pytestmark = pytest.mark.django_db(transaction=True)


def approve_join_request(vendor, address: str) -> None:
    """The member follows the join mail: "Approve Request", then "Confirm and Switch"."""
    press(latest_link(vendor, address, "Approve Request"), "approve")
    page = press(latest_link(vendor, address, "Approve Request"), "switch")
    assert "Account switched successfully" in page


def zoom_says(client, event: str, vendor_id: str, **headers: str):
    """Zoom's signed webhook, as the view receives it."""
    body = json.dumps({"event": event, "payload": {"object": {"id": vendor_id}}})
    ts = headers.pop("timestamp", str(int(time.time())))
    secret = os.environ["CAMPUSCONF_ZOOM_WEBHOOK_SECRET"].encode()
    sig = "v0=" + hmac.new(secret, f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    signed = {"HTTP_X_ZM_SIGNATURE": sig, "HTTP_X_ZM_REQUEST_TIMESTAMP": ts, **headers}
    return client.post("/webhooks/zoom", body, content_type="application/json", **signed)


def wrong_activation_notices(account) -> int:
    return Notice.objects.filter(account=account, kind="wrong_activation").count()


def test_the_webhook_check_after_the_s13_join_request_makes_the_account_active(
    client, make_member, zoom_service, vendor
):
    account = invited(make_member, zoom_service)
    address = account.member.mail_address
    sign_in_with_google(vendor, address)
    assert google_sign_in.report_google_sign_in(account)
    worker.drain(max_seconds=60)
    account.refresh_from_db()
    assert account.state == State.INVITED
    # The member told us: no mail tells them what they just said.
    assert wrong_activation_notices(account) == 0

    approve_join_request(vendor, address)
    [user] = vendor.zoom_users()
    assert user["status"] == "active" and user["login_types"] == [1]  # Google, in our account
    assert zoom_says(client, "user.invitation_accepted", account.vendor_user_id).status_code == 204
    assert webhook_events.process() == 1
    assert Job.objects.filter(account=account, kind=Job.Kind.OBSERVE).exists()
    worker.drain(max_seconds=60)

    account.refresh_from_db()
    assert account.state == State.ACTIVE
    assert "google" in account.observed_login_type and account.observed_licensed
    assert wrong_activation_notices(account) == 0
    # The regular pass agrees: nothing to change.
    assert run_pass(zoom_service).changes.get("to_unlicensed") is None
    account.refresh_from_db()
    assert account.state == State.ACTIVE


@pytest.mark.parametrize(("licensed", "target"), [(True, State.ACTIVE), (False, State.UNLICENSED)])
def test_a_google_login_is_judged_by_the_licence_it_carries(
    make_member, zoom_service, licensed, target
):
    account = invited(make_member, zoom_service)
    address = account.member.mail_address
    user = VendorUser(
        account.vendor_user_id,
        address,
        state=UserState.ACTIVE,
        licensed=licensed,
        login_types=("google",),
    )
    verdict = observe.judge(account, user, {address.lower()}, timezone.now())
    assert verdict.target == target
    assert licensed or verdict.reason == "google_sign_in"
