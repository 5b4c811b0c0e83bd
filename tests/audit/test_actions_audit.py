"""Every entry point's write is audited by the action, in the write's own transaction.

For each caller — a page, the API, the command line, SCIM, the roster and the engine —
the change leaves an entry naming the kind of actor and the reason; and when the
transaction fails after the audit write, neither the change nor the entry is kept.
"""

import datetime
import io
import json
import os
import pwd
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse

from campusconf.accounts import lifecycle
from campusconf.accounts.lifecycle import Move, open_account, transition
from campusconf.accounts.models import Account, AccountEvent
from campusconf.accounts.reasons import Reason
from campusconf.accounts.states import Cause, State
from campusconf.audit.models import AuditEntry
from campusconf.backoffice.tokens import issue_token
from campusconf.directory.tokens import create_scim_client
from campusconf.members.models import Member

pytestmark = pytest.mark.django_db
ME = pwd.getpwuid(os.geteuid()).pw_name
ROSTER = Path(__file__).resolve().parents[2] / "docs" / "samples" / "roster.csv"


class AfterTheEntry(Exception):
    """Raised once the audit entry is written, still inside the change's transaction."""


@pytest.fixture
def fail_after_audit(monkeypatch):
    """Every audit entry is written, then the transaction it is in fails."""
    save = AuditEntry.save

    def save_then_fail(self, *args, **kwargs):
        save(self, *args, **kwargs)
        raise AfterTheEntry(self.action)

    monkeypatch.setattr(AuditEntry, "save", save_then_fail)


@pytest.fixture
def staff(db):
    return get_user_model().objects.create_user("desk1", is_staff=True)


@pytest.fixture
def failed_account(make_member, make_service):
    account = open_account(make_member(), make_service(), cause=Cause.MEMBER)
    transition(account, State.FAILED, cause=Cause.ENGINE)
    return account


def state_of(account: Account) -> str:
    return Account.objects.get(pk=account.pk).state


# -- a page: the back office's account desk (staff) and the portal (member) ---------


def test_a_staff_page_write_is_audited_as_staff_with_the_reason(client, staff, failed_account):
    client.force_login(staff)
    client.post(f"/staff/accounts/{failed_account.pk}/retry/", {"reason": "INQ-7 outage over"})
    entry = AuditEntry.objects.get(action="account.retry")
    assert (entry.actor_kind, entry.actor_id, entry.reason) == (
        "staff",
        staff.pk,
        "INQ-7 outage over",
    )
    assert (entry.details["state_before"], entry.details["state_after"]) == ("failed", "requested")
    assert entry.details["origin"] == "account_desk"
    assert state_of(failed_account) == State.REQUESTED


def test_a_staff_page_write_and_its_entry_roll_back_together(
    client, staff, failed_account, fail_after_audit
):
    client.force_login(staff)
    with pytest.raises(AfterTheEntry):
        client.post(f"/staff/accounts/{failed_account.pk}/retry/", {"reason": "INQ-7"})
    assert state_of(failed_account) == State.FAILED
    assert not AuditEntry.objects.exists()
    assert not failed_account.events.filter(from_state=State.FAILED).exists()


def test_a_members_own_write_is_audited_as_member(client, make_member, make_service):
    from campusconf.signin.members import sign_in_user

    member = make_member(language="en")
    user = sign_in_user(member.common_id)
    client.force_login(user, backend="campusconf.signin.backends.DevelopmentSessionBackend")
    service = make_service()
    client.post(reverse("portal:apply", args=[service.slug]))
    entry = AuditEntry.objects.get(action="member.apply")
    assert (entry.actor_kind, entry.actor_id) == ("member", user.pk)
    assert entry.reason == "the member's own request in the portal"
    assert entry.target_id == str(Account.objects.get(member=member).pk)


def test_a_members_write_and_its_entry_roll_back_together(
    client, make_member, make_service, fail_after_audit
):
    from campusconf.signin.members import sign_in_user

    member = make_member()
    user = sign_in_user(member.common_id)
    client.force_login(user, backend="campusconf.signin.backends.DevelopmentSessionBackend")
    with pytest.raises(AfterTheEntry):
        client.post(reverse("portal:apply", args=[make_service().slug]))
    assert not Account.objects.filter(member=member).exists()
    assert not AuditEntry.objects.exists()


# -- the JSON API ---------------------------------------------------------------------


def api_retry(client, token, account, reason):
    return client.post(
        f"/staff/api/v1/accounts/{account.pk}/retry",
        json.dumps({"reason": reason}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


def test_an_api_write_is_audited_as_staff_from_the_api(client, staff, failed_account):
    token = issue_token(staff, "script", reason="tests")[1]
    assert api_retry(client, token, failed_account, "nightly retry").status_code == 200
    entry = AuditEntry.objects.get(action="account.retry")
    assert (entry.actor_kind, entry.reason, entry.details["origin"]) == (
        "staff",
        "nightly retry",
        "api",
    )


def test_an_api_write_and_its_entry_roll_back_together(client, staff, failed_account, monkeypatch):
    token = issue_token(staff, "script", reason="tests")[1]
    save = AuditEntry.save

    def fail_on_the_retry(self, *args, **kwargs):
        save(self, *args, **kwargs)
        if self.action == "account.retry":
            raise AfterTheEntry(self.action)

    monkeypatch.setattr(AuditEntry, "save", fail_on_the_retry)
    # The API answers a failure itself, as a 500 with no detail.
    assert api_retry(client, token, failed_account, "nightly retry").status_code == 500
    assert state_of(failed_account) == State.FAILED
    assert not AuditEntry.objects.filter(action="account.retry").exists()


# -- the command line ------------------------------------------------------------------


def test_a_cli_write_is_audited_as_the_os_user(make_member, make_service):
    member, service = make_member(), make_service()
    call_command(
        "provision", member.common_id, service.slug, "--reason", "INQ-9", stdout=io.StringIO()
    )
    entry = AuditEntry.objects.get(action="account.apply")
    assert (entry.actor_kind, entry.actor_name, entry.reason) == ("cli", f"cli:{ME}", "INQ-9")
    assert entry.details["os_user"] == ME


def test_a_cli_write_and_its_entry_roll_back_together(make_member, make_service, fail_after_audit):
    member, service = make_member(), make_service()
    with pytest.raises(AfterTheEntry):
        call_command("provision", member.common_id, service.slug, stdout=io.StringIO())
    assert not Account.objects.filter(member=member).exists()
    assert not AuditEntry.objects.exists()


# -- SCIM ------------------------------------------------------------------------------


def scim_post(client, token, common_id):
    body = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": f"{common_id}@sso.example.ac.jp",
        "name": {"familyName": "Yamada", "givenName": "Taro"},
        "emails": [{"value": f"{common_id}@g.ecc.example.ac.jp", "primary": True}],
        "roles": [{"value": "faculty"}],
    }
    return client.post(
        "/scim/v2/Users",
        json.dumps(body),
        content_type="application/scim+json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


def test_a_scim_write_is_audited_as_its_client(client):
    token = create_scim_client("entra", ["read", "write"])[1]
    assert scim_post(client, token, "1234567890").status_code == 201
    entry = AuditEntry.objects.get(action="scim.user.create")
    assert (entry.actor_kind, entry.actor_name) == ("scim", "scim:entra")
    assert entry.reason == "SCIM request from entra"
    assert Member.objects.filter(common_id="1234567890").exists()


def test_a_scim_write_and_its_entry_roll_back_together(client, fail_after_audit):
    token = create_scim_client("entra", ["read", "write"])[1]
    # SCIM answers a failure itself, as a 500 in its error format.
    assert scim_post(client, token, "1234567890").status_code == 500
    assert not Member.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="scim.").exists()


# -- the roster ------------------------------------------------------------------------


def test_a_roster_write_is_audited_as_the_roster_on_behalf_of_who_ran_it():
    call_command("import-roster", str(ROSTER), stdout=io.StringIO(), stderr=io.StringIO())
    entry = AuditEntry.objects.get(action="directory.roster_import")
    assert (entry.actor_kind, entry.actor_name) == ("roster", f"roster:cli:{ME}")
    assert entry.reason == f"import-roster {ROSTER}"
    assert entry.details["created"] == Member.objects.count() > 0


def test_a_roster_write_and_its_entry_roll_back_together(fail_after_audit):
    with pytest.raises(AfterTheEntry):
        call_command("import-roster", str(ROSTER), stdout=io.StringIO(), stderr=io.StringIO())
    assert not Member.objects.exists()
    assert not AuditEntry.objects.exists()


def test_a_roster_upload_in_the_back_office_is_audited_as_the_roster_for_staff(client, staff):
    client.force_login(staff)
    text = ROSTER.read_text(encoding="utf-8-sig")
    upload = io.BytesIO(text.encode())
    upload.name = "roster.csv"
    client.post("/staff/directory/roster/", {"roster": upload, "reason": "April intake"})
    digest = client.session["backoffice_pending_roster"]["digest"]
    client.post("/staff/directory/roster/", {"confirm": "1", "digest": digest})
    entry = AuditEntry.objects.get(action="directory.roster_import")
    assert (entry.actor_kind, entry.actor_id, entry.reason) == ("roster", staff.pk, "April intake")
    assert entry.details["started_by"] == "staff"


# -- the engine ------------------------------------------------------------------------


def test_the_engines_batch_move_is_recorded_by_its_events_in_the_same_transaction(
    make_member, make_service
):
    """The engine's record is the account's event (cause engine, a reason code), not an
    audit entry per account: a failure after the events undoes the moves too."""
    service = make_service()
    accounts = [open_account(make_member(), service, cause=Cause.MEMBER) for _ in range(3)]
    now = datetime.datetime(2026, 12, 6, tzinfo=datetime.UTC)

    def settle() -> list[AccountEvent]:
        with transaction.atomic():
            locked = lifecycle.lock_many([a.pk for a in accounts])
            moves = [Move(a.pk, locked[a.pk][0], State.INVITED) for a in accounts]
            events = lifecycle.transition_many(
                moves, cause=Cause.ENGINE, reason=Reason.VENDOR_USER_CREATED, now=now
            )
            if failing:
                raise AfterTheEntry("after the events")
            return events

    failing = True
    with pytest.raises(AfterTheEntry):
        settle()
    assert {state_of(a) for a in accounts} == {State.REQUESTED}
    assert not AccountEvent.objects.filter(to_state=State.INVITED).exists()

    failing = False
    events = settle()
    assert {state_of(a) for a in accounts} == {State.INVITED}
    assert {(e.cause, e.reason_code, e.actor_id) for e in events} == {
        (Cause.ENGINE, Reason.VENDOR_USER_CREATED, None)
    }
    assert not AuditEntry.objects.exists()  # no entry per account from the engine
