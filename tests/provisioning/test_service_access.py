"""A refused credential or a missing scope is the service's problem, not a member's: the
service's jobs pause (nothing failed, nothing retried in a storm), the dashboard and one
staff mail say what to fix, and the jobs resume by themselves once it works again."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from campusconf.accounts.models import Account
from campusconf.accounts.states import State
from campusconf.provisioning import worker
from campusconf.provisioning.engine import service_access, vendors
from campusconf.provisioning.models import Job, ServiceProblem, VendorToken
from campusconf.provisioning.verbs import actions
from vendor_sandbox.launcher import Sandbox

pytestmark = pytest.mark.django_db(transaction=True)
WEBEX_SCOPES = ["spark-admin:people_read", "spark-admin:people_write", "spark-admin:licenses_read"]


def apply(make_member: Any, service: Any, count: int) -> list[Account]:
    return [actions.apply_for_service(make_member(), service) for _ in range(count)]


def app(vendor: Sandbox, name: str, **changes: Any) -> None:
    vendor.admin("PUT", "credentials", json={"vendor": name, **changes})


def token_requests(vendor: Sandbox, name: str) -> int:
    import time

    time.sleep(1.1)  # each sandbox process flushes its counts every 0.5 s
    requests = vendor.admin("GET", "counters")["requests"]
    return sum(n for key, n in requests.items() if key.startswith(f"{name} POST oauth.token"))


def probe_now() -> None:
    """The schedule's probe, without waiting the minute for it."""
    ServiceProblem.objects.update(next_probe_at=timezone.now())
    service_access.run()


def assert_waiting(accounts: list[Account]) -> None:
    for account in accounts:
        account.refresh_from_db()
        assert account.state == State.REQUESTED and not account.last_error_code
    jobs = Job.objects.filter(account__in=accounts)
    assert {(j.status, j.attempts) for j in jobs} == {(Job.Status.QUEUED, 0)}, [
        (j.status, j.attempts, j.last_error) for j in jobs
    ]


def assert_invited(accounts: list[Account]) -> None:
    for account in accounts:
        account.refresh_from_db()
        assert account.state == State.INVITED, account.last_error_message


def dashboard(client: Any) -> str:
    staff, _ = get_user_model().objects.get_or_create(username="ops", defaults={"is_staff": True})
    client.force_login(staff)
    return str(client.get("/staff/", HTTP_ACCEPT_LANGUAGE="en").content.decode())


def test_a_revoked_zoom_app_pauses_the_service_and_it_resumes_by_itself(
    make_member, zoom_service, vendor, mailoutbox, client
):
    app(vendor, "zoom", disabled=True)
    accounts = apply(make_member, zoom_service, 8)
    worker.drain(max_seconds=3)
    assert_waiting(accounts)
    problem = ServiceProblem.objects.get(service=zoom_service)
    assert problem.is_open and problem.kind == ServiceProblem.Kind.CREDENTIAL
    assert "The app has been disabled" in problem.detail
    assert service_access.paused(zoom_service.pk)
    # The vendor was asked a handful of times (once, or again after a time-out on a busy
    # machine), not once per job and attempt.
    assert token_requests(vendor, "zoom") <= 3

    service_access.run()  # not due for a probe yet: only the staff mail goes
    probe_now()  # still refused: no second mail
    [mail] = mailoutbox
    assert mail.to == ["helpdesk@example.ac.jp"]
    assert "一時停止" in mail.subject and "paused" in mail.subject
    assert "Zoom App Marketplace" in mail.body and "Zoom App Marketplace で" in mail.body
    assert reverse("backoffice:service", args=["zoom"]) in mail.body
    problem.refresh_from_db()
    assert problem.is_open and "disabled" in problem.last_probe_result

    page = dashboard(client)
    assert "is paused: the vendor refuses CampusConf" in page
    assert "Server-to-Server OAuth app is activated" in page

    app(vendor, "zoom", disabled=False)
    probe_now()
    problem.refresh_from_db()
    assert not problem.is_open
    worker.drain()
    assert_invited(accounts)
    assert len(vendor.zoom_users()) == len(accounts) and len(mailoutbox) == 1
    assert "is paused" not in dashboard(client)


def test_a_missing_zoom_scope_is_named_and_a_new_token_picks_it_up(
    make_member, zoom_service, vendor, client
):
    app(vendor, "zoom", scopes=["user:read:admin"])
    accounts = apply(make_member, zoom_service, 2)
    worker.drain(max_seconds=3)
    assert_waiting(accounts)
    problem = ServiceProblem.objects.get(service=zoom_service)
    assert problem.kind == ServiceProblem.Kind.PERMISSION
    assert problem.scope_list == ["user:write:user:admin", "user:write:admin"]
    page = dashboard(client)
    assert "add the scope user:write:user:admin or user:write:admin" in page

    app(vendor, "zoom", scopes=["user:read:admin", "user:write:admin"])
    # The stored token was issued without the scope; the probe asks for a new one.
    probe_now()
    problem.refresh_from_db()
    assert not problem.is_open, problem.last_probe_result
    assert "user:write:admin" in VendorToken.objects.get(service=zoom_service).scopes
    worker.drain()
    assert_invited(accounts)


def test_a_webex_write_scope_missing_pauses_and_comes_back_until_it_is_granted(
    make_member, webex_service, vendor, mailoutbox
):
    app(vendor, "webex", scopes=["spark-admin:people_read", "spark-admin:licenses_read"])
    accounts = apply(make_member, webex_service, 2)
    worker.drain(max_seconds=3)
    assert_waiting(accounts)
    problem = ServiceProblem.objects.get(service=webex_service)
    assert problem.kind == ServiceProblem.Kind.PERMISSION
    assert problem.scope_list == ["spark-admin:people_write"]
    # Reading works, and a read cannot show a write scope: the probe lets the work try
    # again, and the refusal comes back — later probes are spaced out, no second mail.
    probe_now()
    worker.drain(max_seconds=3)
    problem.refresh_from_db()
    assert problem.is_open and problem.probe_seconds == 2 * service_access.FIRST_PROBE
    assert_waiting(accounts)
    service_access.run()
    assert len(mailoutbox) == 1

    app(vendor, "webex", scopes=WEBEX_SCOPES)
    probe_now()
    worker.drain()
    assert_invited(accounts)


def test_a_webex_refresh_token_is_renewed_and_kept_and_its_end_is_a_credential_problem(
    make_member, webex_service, vendor
):
    [first] = apply(make_member, webex_service, 1)
    worker.drain()
    assert_invited([first])
    stored = VendorToken.objects.get(service=webex_service)
    seed = vendor.credentials()["webex"]
    assert stored.access_token == seed["access_token"]  # the environment's, stored
    vendor.admin("POST", "clock", json={"advance_days": 15})  # past the access token's 14 days
    [second] = apply(make_member, webex_service, 1)
    worker.drain()
    assert_invited([second])
    stored.refresh_from_db()
    assert stored.generation == 2 and stored.access_token != seed["access_token"]
    assert stored.refresh_token == seed["refresh_token"]  # used, so it lives on (W-h)
    # Unused past its 90 days, the refresh token is gone: the app must be authorised again.
    vendor.admin("POST", "clock", json={"advance_days": 91})
    [third] = apply(make_member, webex_service, 1)
    worker.drain(max_seconds=3)
    assert_waiting([third])
    problem = ServiceProblem.objects.get(service=webex_service)
    assert problem.kind == ServiceProblem.Kind.CREDENTIAL
    assert "refresh token" in problem.detail


def test_a_missing_secret_pauses_the_service_with_one_line_naming_the_variable(
    make_member, zoom_service, vendor, monkeypatch
):
    monkeypatch.delenv("CAMPUSCONF_ZOOM_CLIENT_SECRET")
    vendors.close_all()
    accounts = apply(make_member, zoom_service, 2)
    worker.drain(max_seconds=3)
    assert_waiting(accounts)
    problem = ServiceProblem.objects.get(service=zoom_service)
    assert problem.kind == ServiceProblem.Kind.CONFIGURATION
    assert problem.detail == (
        "service 'zoom' needs the environment variable CAMPUSCONF_ZOOM_CLIENT_SECRET (its zoom "
        "connector's client_secret), which is not set: set it where the workers and the "
        "campusconf commands run"
    )
    assert "\n" not in problem.detail
    monkeypatch.setenv(
        "CAMPUSCONF_ZOOM_CLIENT_SECRET", vendor.credentials()["zoom"]["client_secret"]
    )
    probe_now()
    worker.drain()
    assert_invited(accounts)


def test_a_refusal_in_a_reconcile_pass_pauses_the_service_too(zoom_service, vendor):
    from campusconf.provisioning.engine.reconcile import run_pass

    app(vendor, "zoom", scopes=["user:write:admin"])
    record = run_pass(zoom_service)
    assert record.status == "failed"
    problem = ServiceProblem.objects.get(service=zoom_service)
    assert problem.kind == ServiceProblem.Kind.PERMISSION and problem.operation == "list"
    # While paused, the scheduled passes ask the vendor nothing.
    from campusconf.provisioning.engine import schedules

    before = token_requests(vendor, "zoom")
    schedules.run("reconcile:zoom")
    assert token_requests(vendor, "zoom") == before
