"""SCIM clients' rights, the audit of their writes, and the mass-change guard on
deactivations (held for staff, approved or rejected in the back office)."""

import io
import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from campusconf.audit.models import AuditEntry
from campusconf.directory.models import HeldDeactivation, ScimClient, ScimUser
from campusconf.directory.tokens import BadScopes, create_scim_client
from campusconf.members.models import Member
from tests.directory.conftest import SCIM_JSON, user_payload

pytestmark = pytest.mark.django_db
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
LEAVE = {"schemas": [PATCH], "Operations": [{"op": "replace", "path": "active", "value": False}]}


def call(client, token, method, path, body=None):
    kwargs = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    if body is not None:
        kwargs.update(data=json.dumps(body), content_type=SCIM_JSON)
    return getattr(client, method)("/scim/v2" + path, **kwargs)


@pytest.fixture
def everything(db):
    return create_scim_client("entra", ["read", "write", "deactivate"])[1]


def add_users(client, token, count, start=1000000000):
    ids = []
    for n in range(count):
        response = call(client, token, "post", "/Users", user_payload(str(start + n)))
        assert response.status_code == 201, response.content
        ids.append(response.json()["id"])
    return ids


def test_a_read_only_token_reads_and_cannot_write(client, everything):
    add_users(client, everything, 1)
    reader = create_scim_client("auditor", ["read"])[1]
    assert call(client, reader, "get", "/Users").json()["totalResults"] == 1
    refused = call(client, reader, "post", "/Users", user_payload("2000000000"))
    assert refused.status_code == 403
    assert refused.json()["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    assert "may not write" in refused.json()["detail"]
    assert not Member.objects.filter(common_id="2000000000").exists()


def test_a_write_only_token_cannot_read(client, everything):
    writer = create_scim_client("feeder", ["write"])[1]
    assert call(client, writer, "get", "/Users").status_code == 403
    assert call(client, writer, "post", "/Users", user_payload()).status_code == 201


def test_without_deactivate_a_token_cannot_make_a_member_leave(client, everything):
    [user] = add_users(client, everything, 1)
    writer = create_scim_client("feeder", ["read", "write"])[1]
    assert call(client, writer, "patch", f"/Users/{user}", LEAVE).status_code == 403
    assert call(client, writer, "delete", f"/Users/{user}").status_code == 403
    assert Member.objects.get(common_id="1000000000").status == Member.Status.ACTIVE
    assert ScimUser.objects.get(pk=user).active
    # Other changes are fine.
    rename = {"schemas": [PATCH], "Operations": [{"op": "replace", "path": "title", "value": "Dr"}]}
    assert call(client, writer, "patch", f"/Users/{user}", rename).status_code in (200, 204)


def test_every_scim_write_is_audited_with_the_clients_name(client, everything):
    [user] = add_users(client, everything, 1)
    call(client, everything, "patch", f"/Users/{user}", LEAVE)
    group = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "g"}
    group_id = call(client, everything, "post", "/Groups", group).json()["id"]
    call(client, everything, "delete", f"/Groups/{group_id}")
    call(client, everything, "delete", f"/Users/{user}")
    entries = list(AuditEntry.objects.order_by("id"))
    assert [e.action for e in entries] == [
        "scim.user.create",
        "scim.user.update",
        "scim.group.create",
        "scim.group.delete",
        "scim.user.delete",
    ]
    assert {e.actor_name for e in entries} == {"scim:entra"}
    assert entries[1].details == {"client": "entra", "deactivated": True}
    assert "deactivated" not in entries[4].details  # the member had left already
    assert entries[0].target_label == "1000000000@sso.example.ac.jp"


def test_a_failed_write_is_not_audited(client, everything):
    add_users(client, everything, 1)
    taken = call(client, everything, "post", "/Users", user_payload("1000000000"))
    assert taken.status_code == 409
    assert AuditEntry.objects.filter(action="scim.user.create").count() == 1


@pytest.fixture
def sixty(client, everything, settings):
    """60 members fed by SCIM; the roster's guard at its defaults lets 3 of them leave."""
    settings.CAMPUSCONF_MASS_CHANGE_PERCENT = 5
    settings.CAMPUSCONF_MASS_CHANGE_MAX = 100
    return add_users(client, everything, 60)


def test_deactivations_past_the_roster_guard_are_held_for_staff(client, everything, sixty):
    answers = [call(client, everything, "patch", f"/Users/{u}", LEAVE) for u in sixty[:8]]
    assert [a.status_code for a in answers[:3]] == [204, 204, 204]
    assert [a.status_code for a in answers[3:]] == [409] * 5
    error = answers[3].json()
    assert error["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    assert error["status"] == "409"
    assert "held for staff approval, nothing was changed" in error["detail"]
    assert "the mass-change limit is 3" in error["detail"]

    left = Member.objects.filter(status=Member.Status.LEFT).count()
    assert left == 3
    held = HeldDeactivation.objects.filter(status=HeldDeactivation.Status.HELD)
    assert held.count() == 5
    assert ScimUser.objects.get(pk=sixty[3]).active  # unchanged
    # The client sends it again: refused again, held once.
    assert call(client, everything, "patch", f"/Users/{sixty[3]}", LEAVE).status_code == 409
    assert held.count() == 5
    # A deletion is a deactivation too.
    assert call(client, everything, "delete", f"/Users/{sixty[9]}").status_code == 409
    assert ScimUser.objects.filter(pk=sixty[9]).exists()
    assert AuditEntry.objects.filter(action="scim.user.deactivation_held").count() == 6


@pytest.fixture
def staff(client):
    user = get_user_model().objects.create_user("desk", is_staff=True)
    return user


def test_staff_approve_or_reject_held_deactivations(client, everything, sixty, staff):
    for u in sixty[:6]:
        call(client, everything, "patch", f"/Users/{u}", LEAVE)
    call(client, everything, "delete", f"/Users/{sixty[6]}")
    holds = {h.scim_user_id and str(h.scim_user_id): h.pk for h in HeldDeactivation.objects.all()}
    client.force_login(staff)
    page = client.get("/staff/directory/scim-holds/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200 and "1000000003@sso.example.ac.jp" in page.content.decode()

    approve = [holds[sixty[3]], holds[sixty[6]]]
    response = client.post(
        "/staff/directory/scim-holds/",
        {"hold": approve, "decision": "approve", "reason": "end of term, checked with HR"},
    )
    assert response.status_code == 302
    reject = client.post(
        "/staff/directory/scim-holds/",
        {"hold": [holds[sixty[4]]], "decision": "reject", "reason": "not a leaver: IdP bug"},
    )
    assert reject.status_code == 302

    status = dict(Member.objects.values_list("common_id", "status"))
    assert status["1000000003"] == status["1000000006"] == Member.Status.LEFT
    assert status["1000000004"] == status["1000000005"] == Member.Status.ACTIVE
    assert not ScimUser.objects.filter(pk=sixty[6]).exists()  # the held DELETE, carried out
    assert ScimUser.objects.get(pk=sixty[3]).active is False
    decided = dict(HeldDeactivation.objects.values_list("pk", "status"))
    assert decided[holds[sixty[4]]] == "rejected" and decided[holds[sixty[5]]] == "held"
    approved = AuditEntry.objects.filter(action="scim.user.update", actor_name="desk").get()
    assert approved.details == {"client": "entra", "deactivated": True, "approved": True}
    assert approved.reason == "end of term, checked with HR"
    assert AuditEntry.objects.filter(action="directory.held_deactivation_approved").count() == 2
    assert AuditEntry.objects.filter(action="directory.held_deactivation_rejected").count() == 1


def test_a_held_request_the_user_changed_since_is_not_approved(client, everything, sixty, staff):
    for u in sixty[:4]:
        call(client, everything, "patch", f"/Users/{u}", LEAVE)
    hold = HeldDeactivation.objects.get()
    rename = {"schemas": [PATCH], "Operations": [{"op": "replace", "path": "title", "value": "Dr"}]}
    assert call(client, everything, "patch", f"/Users/{sixty[3]}", rename).status_code == 204
    client.force_login(staff)
    client.post(
        "/staff/directory/scim-holds/",
        {"hold": [hold.pk], "decision": "approve", "reason": "checked"},
    )
    hold.refresh_from_db()
    assert hold.status == HeldDeactivation.Status.HELD
    assert Member.objects.get(common_id="1000000003").status == Member.Status.ACTIVE


def test_a_member_cannot_see_the_held_deactivations(client, make_member):
    user = get_user_model().objects.create_user("plain")
    client.force_login(user)
    assert client.get("/staff/directory/scim-holds/").status_code == 403


@pytest.mark.parametrize(
    ("scopes", "message"),
    [
        ([], "at least one right"),
        (["admin"], "Unknown right admin"),
        (["read", "deactivate"], "needs the right to write"),
    ],
)
def test_rights_that_make_no_sense_are_refused(scopes, message):
    with pytest.raises(BadScopes, match=message):
        create_scim_client("x", scopes)
    assert not ScimClient.objects.exists()


def test_the_command_takes_the_rights(db):
    out = io.StringIO()
    call_command("scim-token", "create", "okta", "--scope", "read, write", stdout=out)
    assert "read, write" in out.getvalue()
    client = ScimClient.objects.get()
    assert (client.can_read, client.can_write, client.can_deactivate) == (True, True, False)
    with pytest.raises(CommandError, match="--scope"):
        call_command("scim-token", "create", "other", stdout=io.StringIO())
    with pytest.raises(CommandError, match="needs the right to write"):
        call_command("scim-token", "create", "other", "--scope", "deactivate")


def test_the_back_office_token_page_takes_the_rights(client, staff):
    client.force_login(staff)
    page = client.post(
        "/staff/directory/scim-tokens/",
        {"name": "entra-id", "scopes": ["read", "write"], "reason": "new tenant"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert page.status_code == 200 and 'id="new-token"' in page.content.decode()
    assert ScimClient.objects.get().scopes == ["read", "write"]
    refused = client.post(
        "/staff/directory/scim-tokens/",
        {"name": "x", "scopes": ["deactivate"], "reason": "new tenant"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert "needs the right to write" in refused.content.decode()
    assert ScimClient.objects.count() == 1
    entry = AuditEntry.objects.get(action="directory.scim_client_create")
    assert entry.details == {"scopes": ["read", "write"]}
