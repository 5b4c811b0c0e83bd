"""An address that already holds an account elsewhere (Errata Z-d, W-f): its own state.

Against the real sandbox, run in this process: Zoom refuses to invite a paid account
elsewhere (409, or code 1009 as reported), Webex an address whose free account sits on a
domain the organisation has not verified. The account waits in held_elsewhere, with no
retry loop, until the member says the account elsewhere is released, or the vendor
shows the user in our organisation.
"""

from __future__ import annotations

from typing import Any

import pytest

from campusconf.accounts.models import AccountEvent
from campusconf.accounts.states import Cause, State
from campusconf.connectors import outcomes as o
from campusconf.connectors.base import Capabilities, UserSpec
from campusconf.provisioning import worker
from campusconf.provisioning.engine import account_job, held_elsewhere, vendors
from campusconf.provisioning.engine.reconcile import run_pass
from campusconf.provisioning.engine.steps import Done, Retry
from campusconf.provisioning.models import Job
from campusconf.provisioning.verbs import actions

pytestmark = pytest.mark.django_db(transaction=True)


def settle() -> None:
    worker.drain(max_seconds=60)
    assert not Job.objects.filter(status__in=["queued", "running"]).exists()


def personal(sandbox: Any, vendor: str, email: str, **extra: Any) -> None:
    sandbox.admin("POST", "personal-accounts", json={"vendor": vendor, "email": email, **extra})


def release(sandbox: Any, vendor: str, email: str) -> None:
    sandbox.admin("DELETE", "personal-accounts", params={"vendor": vendor, "email": email})


@pytest.mark.parametrize("variant", ["documented", "code_1009"])
def test_a_paid_zoom_account_elsewhere_holds_the_account_without_a_retry_loop(
    make_member, zoom_service, vendor, variant
):
    vendor.admin("PUT", "variants", json={"zoom_account_elsewhere": variant})
    member = make_member()
    personal(vendor, "zoom", member.mail_address, paid=True)
    account = actions.apply_for_service(member, zoom_service)
    settle()
    account.refresh_from_db()
    assert account.state == State.HELD_ELSEWHERE
    assert account.last_error_reason == "held_elsewhere" and account.last_error_params["detail"]
    assert account.last_error_code == ("1009" if variant == "code_1009" else "1005")
    # One attempt, no loop: the job is done, nothing is queued again, nothing failed.
    job = Job.objects.get(account=account)
    assert (job.status, job.attempts) == (Job.Status.DONE, 1)
    assert vendor.zoom_users() == []
    moves = list(AccountEvent.objects.filter(account=account).values_list("to_state", flat=True))
    assert moves == [State.REQUESTED, State.HELD_ELSEWHERE]


def test_the_member_releases_the_zoom_account_and_says_so(make_member, zoom_service, vendor):
    member = make_member()
    personal(vendor, "zoom", member.mail_address, paid=True)
    account = actions.apply_for_service(member, zoom_service)
    settle()
    account.refresh_from_db()
    # Said too early: still held, and back in held_elsewhere, once.
    actions.released_elsewhere(account, cause=Cause.MEMBER)
    settle()
    account.refresh_from_db()
    assert account.state == State.HELD_ELSEWHERE
    # Released for real (the paid account's address changed): the invitation goes out.
    release(vendor, "zoom", member.mail_address)
    actions.released_elsewhere(account, cause=Cause.MEMBER)
    settle()
    account.refresh_from_db()
    assert account.state == State.INVITED and account.vendor_user_id
    assert [u["email"] for u in vendor.zoom_users()] == [member.mail_address.lower()]


def test_a_free_zoom_account_still_gets_the_join_request(make_member, zoom_service, vendor):
    member = make_member()
    personal(vendor, "zoom", member.mail_address)  # a free account: Zoom invites it to join
    account = actions.apply_for_service(member, zoom_service)
    settle()
    account.refresh_from_db()
    assert account.state == State.INVITED
    mails = vendor.admin("GET", "mails", params={"to": member.mail_address.lower()})["items"]
    assert [m["kind"] for m in mails] == ["zoom_join"]


def test_a_free_webex_account_on_an_unverified_domain_holds_the_account(
    make_member, webex_service, vendor
):
    vendor.admin("PUT", "webex-domains", json={"verified_domains": ["other.example.jp"]})
    member = make_member()
    personal(vendor, "webex", member.mail_address)
    account = actions.apply_for_service(member, webex_service)
    settle()
    account.refresh_from_db()
    assert account.state == State.HELD_ELSEWHERE
    assert account.last_error_code == "409"
    assert vendor.webex_people() == []
    # The member deletes the free account and says so: the invitation goes out.
    release(vendor, "webex", member.mail_address)
    actions.released_elsewhere(account, cause=Cause.MEMBER)
    settle()
    account.refresh_from_db()
    assert account.state == State.INVITED
    mails = vendor.admin("GET", "mails", params={"to": member.mail_address.lower()})["items"]
    assert [m["kind"] for m in mails] == ["webex_invite"]


def test_on_a_verified_domain_webex_claims_the_free_account(make_member, webex_service, vendor):
    member = make_member()
    personal(vendor, "webex", member.mail_address)  # the domain is verified by default
    account = actions.apply_for_service(member, webex_service)
    settle()
    account.refresh_from_db()
    assert account.state == State.INVITED
    mails = vendor.admin("GET", "mails", params={"to": member.mail_address.lower()})["items"]
    assert [m["kind"] for m in mails] == ["webex_convert"]


def test_reconcile_moves_the_account_on_when_the_vendor_shows_the_user(
    make_member, zoom_service, vendor
):
    member = make_member()
    personal(vendor, "zoom", member.mail_address, paid=True)
    account = actions.apply_for_service(member, zoom_service)
    settle()
    # The member let the account go and joined the university's some other way (an
    # administrator added it at Zoom): the vendor now lists the user.
    release(vendor, "zoom", member.mail_address)
    conn = vendors.connector_for(zoom_service)
    made = conn.create_user(UserSpec(member.mail_address, "Taro", "Yamada", "Taro Yamada"))
    assert isinstance(made, o.Created)
    record = run_pass(zoom_service)
    assert record.changes.get("to_requested") == 1
    settle()
    account.refresh_from_db()
    assert account.state == State.INVITED and account.vendor_user_id == made.user.vendor_id
    assert len(vendor.zoom_users()) == 1


def test_staff_retry_is_offered_for_a_held_account(make_member, zoom_service, vendor):
    member = make_member()
    personal(vendor, "zoom", member.mail_address, paid=True)
    account = actions.apply_for_service(member, zoom_service)
    settle()
    account.refresh_from_db()
    assert actions.permitted("retry_account", account, Cause.STAFF)
    assert not actions.permitted("resend_invitation", account, Cause.STAFF)


class _Exists:
    """A vendor that says "already exists" but never lists the user."""

    capabilities = Capabilities(False, True, True, True, True, True, 100)

    def __init__(self) -> None:
        self.creates = 0

    def create_user(self, spec: UserSpec) -> o.Outcome:
        self.creates += 1
        return o.AlreadyExists(reason="User already exists.", vendor_code="409")

    def find_by_address(self, addresses: Any) -> o.Outcome:
        return o.NotFound(reason="not listed")

    def get_user(self, vendor_id: str) -> o.Outcome:
        return o.NotFound(reason="not listed")


def test_an_exists_that_may_be_our_own_create_is_waited_for_then_held(
    make_member, zoom_service, monkeypatch
):
    # Eventual consistency: after an attempt that may have created the user, "exists" and
    # "not listed" is waited for a few attempts, then taken for an account elsewhere
    # before the retries run out: the account never fails with a misleading reason.
    fake = _Exists()
    monkeypatch.setattr(vendors, "connector_for", lambda service: fake)
    account = actions.apply_for_service(make_member(), zoom_service)
    job = Job.objects.get(account=account)
    steps = []
    for attempt in range(2, held_elsewhere.AFTER_ATTEMPTS + 1):
        job.attempts = attempt
        account.refresh_from_db()
        steps.append(account_job.converge(account, job))
    assert all(isinstance(s, Retry) for s in steps[:-1])
    assert isinstance(steps[-1], Done) and steps[-1].note == "held elsewhere"
    account.refresh_from_db()
    assert account.state == State.HELD_ELSEWHERE


def test_a_young_job_waits_longer_but_never_fails_for_it(
    make_member, zoom_service, monkeypatch, settings
):
    # While the job is younger than FRESH_SECONDS (a vendor may list a new user late),
    # attempt AFTER_ATTEMPTS still waits; the last attempt concludes in any case.
    settings.CAMPUSCONF_ENGINE = {**settings.CAMPUSCONF_ENGINE, "FRESH_SECONDS": 3600}
    monkeypatch.setattr(vendors, "connector_for", lambda service: _Exists())
    account = actions.apply_for_service(make_member(), zoom_service)
    job = Job.objects.get(account=account)
    job.attempts = held_elsewhere.AFTER_ATTEMPTS
    assert isinstance(account_job.converge(account, job), Retry)
    job.attempts = settings.CAMPUSCONF_ENGINE["MAX_ATTEMPTS"]
    account.refresh_from_db()
    assert isinstance(account_job.converge(account, job), Done)
    account.refresh_from_db()
    assert account.state == State.HELD_ELSEWHERE


def test_a_first_create_answered_exists_and_not_listed_is_held_at_once(
    make_member, zoom_service, monkeypatch
):
    fake = _Exists()
    monkeypatch.setattr(vendors, "connector_for", lambda service: fake)
    account = actions.apply_for_service(make_member(), zoom_service)
    job = Job.objects.get(account=account)
    job.attempts = 1
    step = account_job.converge(account, job)
    assert isinstance(step, Done) and fake.creates == 1
    account.refresh_from_db()
    assert account.state == State.HELD_ELSEWHERE
