"""Jobs and reconcile against the real vendor sandbox, run in this process."""

import datetime

import httpx
import pytest
from django.utils import timezone

from campusconf.accounts.models import Account
from campusconf.accounts.states import Cause, DesiredState, State
from campusconf.directory.models import LeaverNotice
from campusconf.members.actions import mark_left
from campusconf.provisioning import worker
from campusconf.provisioning.engine.reconcile import run_pass
from campusconf.provisioning.models import Job, ReconcilePass, UnmatchedVendorUser
from campusconf.provisioning.verbs import actions

pytestmark = pytest.mark.django_db(transaction=True)


def settle():
    worker.drain(max_seconds=60)
    assert not Job.objects.filter(status__in=["queued", "running"]).exists()


@pytest.mark.parametrize("vendor_name", ["zoom", "webex"])
def test_apply_creates_one_vendor_user_and_the_account_is_invited(
    request, make_member, vendor_name
):
    service = request.getfixturevalue(f"{vendor_name}_service")
    sandbox = request.getfixturevalue("vendor")
    member = make_member()
    account = actions.apply_for_service(member, service)
    settle()
    account.refresh_from_db()
    assert account.state == State.INVITED
    assert account.vendor_user_id
    assert account.invitation_expires_at - account.invitation_sent_at == datetime.timedelta(
        days=service.invitation_validity_days
    )
    users = sandbox.zoom_users() if vendor_name == "zoom" else sandbox.webex_people()
    assert [u["email"] for u in users] == [member.mail_address.lower()]


def test_resend_on_zoom_replaces_the_pending_user(make_member, zoom_service, vendor):
    account = actions.apply_for_service(make_member(), zoom_service)
    settle()
    account.refresh_from_db()
    first_id = account.vendor_user_id
    actions.resend_invitation(account, cause=Cause.MEMBER)
    settle()
    account.refresh_from_db()
    assert account.state == State.INVITED
    assert account.vendor_user_id != first_id
    assert len(vendor.zoom_users()) == 1


def test_a_user_created_before_a_lost_answer_is_linked_not_created_again(
    make_member, zoom_service, vendor
):
    vendor.faults(lost_response_rate=1.0, scope="zoom")
    account = actions.apply_for_service(make_member(), zoom_service)
    job = Job.objects.get(account=account)
    claimed = worker.job_queue.claim("w")
    worker.run_one(claimed, "w")
    vendor.faults()
    job.refresh_from_db()
    assert job.status == Job.Status.QUEUED and job.attempts == 1
    Job.objects.filter(pk=job.pk).update(run_after=timezone.now())
    settle()
    account.refresh_from_db()
    assert account.state == State.INVITED
    assert len(vendor.zoom_users()) == 1


def test_the_vendor_refusing_fails_the_account_with_its_reason(make_member, zoom_service):
    zoom_service.connector_settings["base_url"] += "/nowhere"
    zoom_service.save()
    account = actions.apply_for_service(make_member(), zoom_service)
    settle()
    account.refresh_from_db()
    assert account.state == State.FAILED
    assert account.last_error_message
    actions.retry_account(account, cause=Cause.STAFF)
    assert account.state == State.REQUESTED


def test_deprovision_removes_the_vendor_user(make_member, webex_service, vendor):
    account = actions.apply_for_service(make_member(), webex_service)
    settle()
    actions.deprovision_account(account, cause=Cause.STAFF)
    settle()
    account.refresh_from_db()
    assert account.state == State.REMOVED
    assert vendor.webex_people() == []


def test_reconcile_repairs_drift_reports_strangers_and_writes_nothing_when_in_step(
    make_member, zoom_service, vendor, django_assert_max_num_queries
):
    kept, vanished = make_member(), make_member()
    a = actions.apply_for_service(kept, zoom_service)
    b = actions.apply_for_service(vanished, zoom_service)
    settle()
    b.refresh_from_db()
    # A stranger made in the vendor's console, and one of ours deleted there.
    base = zoom_service.connector_settings["base_url"]
    from campusconf.provisioning.engine.vendors import connector_for

    conn = connector_for(zoom_service)
    from campusconf.connectors.base import UserSpec

    conn.create_user(UserSpec("stranger@example.org", "S", "T", "S T"))
    assert conn.delete(b.vendor_user_id).__class__.__name__ == "Ok"
    record = run_pass(zoom_service)
    assert record.status == ReconcilePass.Status.DONE, record.message
    b.refresh_from_db()
    assert b.state == State.REQUESTED  # gone at the vendor but wanted: made again
    assert UnmatchedVendorUser.objects.filter(email="stranger@example.org").exists()
    settle()
    b.refresh_from_db()
    assert b.state == State.INVITED
    run_pass(zoom_service)  # settles observed fields after the re-creation
    before = {x.pk: x.updated_at for x in Account.objects.all()}
    again = run_pass(zoom_service)
    assert again.changes == {}
    assert {x.pk: x.updated_at for x in Account.objects.all()} == before
    assert base and a.pk


def test_the_mass_deprovision_guard_holds_the_pass(make_member, zoom_service, settings):
    settings.CAMPUSCONF_ENGINE = {**settings.CAMPUSCONF_ENGINE, "GUARD_MAX": 1}
    members = [make_member() for _ in range(3)]
    for m in members:
        actions.apply_for_service(m, zoom_service)
    settle()
    for m in members[:2]:
        mark_left(m, datetime.date(2020, 1, 1))
        # They were told (directory.leavers), and the date to let them go has come.
        LeaverNotice.objects.create(
            member=m,
            left_on=m.left_on,
            notified_at=timezone.now(),
            deprovision_on=timezone.localdate(),
        )
    held = run_pass(zoom_service)
    assert held.status == ReconcilePass.Status.HELD
    assert not Account.objects.filter(desired_state=DesiredState.ABSENT).exists()
    approved = run_pass(zoom_service, approve=True)
    assert approved.changes.get("deprovision") == 2
    settle()
    assert Account.objects.filter(state=State.REMOVED).count() == 2


def test_metrics_and_status_report_the_queue(client, make_member, zoom_service):
    actions.apply_for_service(make_member(), zoom_service)
    settle()
    body = client.get("/metrics").content.decode()
    assert 'campusconf_jobs{service="zoom",status="done"} 1' in body
    assert "campusconf_vendor_calls_total" in body


def test_zoom_webhook_checks_signature_and_acts_on_a_replay_once(client, make_member, zoom_service):
    import hashlib
    import hmac
    import json
    import os
    import time

    account = actions.apply_for_service(make_member(), zoom_service)
    settle()
    account.refresh_from_db()
    secret = os.environ["CAMPUSCONF_ZOOM_WEBHOOK_SECRET"]
    body = json.dumps(
        {"event": "user.activated", "payload": {"object": {"id": account.vendor_user_id}}}
    )
    ts = str(int(time.time()))
    sig = "v0=" + hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    headers = {"HTTP_X_ZM_SIGNATURE": sig, "HTTP_X_ZM_REQUEST_TIMESTAMP": ts}
    post = lambda h: client.post("/webhooks/zoom", body, content_type="application/json", **h)  # noqa: E731
    from campusconf.provisioning.engine import webhook_events

    assert post(headers).status_code == 204
    assert webhook_events.process() == 1
    assert Job.objects.filter(account=account, kind=Job.Kind.OBSERVE).exists()
    # Zoom counts anything but a 2xx as a failure and retries: a replay is answered 2xx
    # and acted on no more.
    assert post(headers).status_code == 204
    assert webhook_events.process() == 0
    assert post({**headers, "HTTP_X_ZM_SIGNATURE": "v0=bad"}).status_code == 401
    old = str(int(time.time()) - 3600)
    assert post({**headers, "HTTP_X_ZM_REQUEST_TIMESTAMP": old}).status_code == 400
    assert httpx  # the sandbox is reached over HTTP only
