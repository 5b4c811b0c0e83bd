import json

import pytest
import schemathesis
from django.contrib.auth import get_user_model
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.generation.modes import GenerationMode

from campusconf.accounts.states import State
from campusconf.audit.models import AuditEntry
from campusconf.backoffice.api_schema import SCHEMA
from campusconf.backoffice.models import ApiToken
from campusconf.backoffice.tokens import issue_token, user_for_token
from campusconf.wsgi import application

pytestmark = pytest.mark.django_db


@pytest.fixture
def token(staff_user):
    return issue_token(staff_user, "tests", reason="test suite")[1]


def test_tokens_are_stored_as_digests_and_revocable(staff_client, staff_user):
    page = staff_client.post(
        "/staff/api-tokens/", {"name": "nightly export", "reason": "finance script"}
    )
    html = page.content.decode()
    row = ApiToken.objects.get()
    start = html.index('id="new-token">') + len('id="new-token">')
    token = html[start : html.index("<", start)]
    assert token.startswith("cc_") and token not in (row.digest, row.prefix)
    assert user_for_token(token) == staff_user
    assert token not in staff_client.get("/staff/api-tokens/").content.decode()  # shown once

    staff_client.post(f"/staff/api-tokens/{row.pk}/revoke/", {"reason": "script retired"})
    assert user_for_token(token) is None
    assert [e.action for e in AuditEntry.objects.order_by("id")] == [
        "api_token.issue",
        "api_token.revoke",
    ]


def test_accounts_through_the_api(client, token, make_member, make_service, make_account):
    service = make_service()
    account = make_account(make_member(), service, State.FAILED)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    body = client.get("/staff/api/v1/accounts", {"state": "failed"}, **auth).json()
    assert body["count"] == 1 and body["results"][0]["id"] == account.pk
    assert client.get(f"/staff/api/v1/accounts/{account.pk}", **auth).json()["state"] == "failed"
    assert client.get("/staff/api/v1/accounts", {"limit": "0"}, **auth).status_code == 400
    assert client.get("/staff/api/v1/accounts", {"q": "a\x00b"}, **auth).status_code == 400
    huge = {"offset": str(2**90)}  # once a 500: past what the database can count
    assert client.get("/staff/api/v1/accounts", huge, **auth).status_code == 400
    assert client.get("/staff/api/v1/accounts").status_code == 401
    assert (
        client.get("/staff/api/v1/accounts", HTTP_AUTHORIZATION="Bearer cc_nope").status_code == 401
    )


def test_a_token_of_someone_who_lost_staff_rights_is_refused(client, staff_user, token):
    get_user_model().objects.filter(pk=staff_user.pk).update(is_staff=False)
    response = client.get("/staff/api/v1/campaigns", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 403


def _post(client, url, body, token=None, **extra):
    # Messages come in the caller's language (Accept-Language), English by default.
    headers = {}
    if token:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client.post(url, json.dumps(body), content_type="application/json", **headers, **extra)


def test_account_actions_through_the_api(client, token, make_member, make_service, make_account):
    account = make_account(make_member(), make_service(), State.FAILED)
    url = f"/staff/api/v1/accounts/{account.pk}/retry"
    refused = _post(client, url, {"reason": " "}, token)
    assert refused.status_code == 400 and "reason" in refused.json()["error"]
    assert _post(client, url, ["not", "an object"], token).status_code == 400
    assert (
        client.post(
            url, "reason=x", content_type="text/plain", HTTP_AUTHORIZATION=f"Bearer {token}"
        ).status_code
        == 415
    )
    account.refresh_from_db()
    assert account.state == State.FAILED  # nothing changed
    assert not AuditEntry.objects.filter(action="account.retry").exists()

    done = _post(client, url, {"reason": "vendor outage over"}, token)
    assert done.status_code == 200 and done.json()["state"] == "requested"
    entry = AuditEntry.objects.get(action="account.retry")
    assert (entry.reason, entry.details["origin"]) == ("vendor outage over", "api")
    again = _post(client, url, {"reason": "once more"}, token)  # not failed any more
    assert again.status_code == 409 and "Nothing was changed" in again.json()["error"]
    assert (
        _post(
            client, f"/staff/api/v1/accounts/{account.pk}/explode", {"reason": "x"}, token
        ).status_code
        == 404
    )


def test_a_session_cookie_cannot_write(staff_client, make_member, make_service, make_account):
    """The writes are CSRF-exempt only because a cookie buys nothing here: no token, 401."""
    account = make_account(make_member(), make_service(), State.FAILED)
    response = _post(
        staff_client, f"/staff/api/v1/accounts/{account.pk}/retry", {"reason": "csrf?"}
    )
    assert response.status_code == 401
    account.refresh_from_db()
    assert account.state == State.FAILED


def test_campaigns_through_the_api(client, token, make_member, make_service):
    from campusconf.provisioning.models import Campaign

    service = make_service()
    students = [make_member(student=True) for _ in range(3)]
    url = "/staff/api/v1/campaigns"
    preview = _post(
        client, url, {"service": service.slug, "roles": ["student"], "dry_run": True}, token
    )
    assert preview.status_code == 200
    assert preview.json()["to_invite"] == 3 and students[0].common_id in preview.json()["sample"]
    assert not Campaign.objects.exists()

    empty = _post(client, url, {"service": service.slug, "reason": "term"}, token)
    assert empty.status_code == 400 and "Choose at least one role" in empty.json()["error"]
    unknown = _post(client, url, {"service": "nope", "roles": ["student"], "reason": "term"}, token)
    # Well formed, but no such service: a conflict with what exists, not a bad request.
    assert unknown.status_code == 409 and "no enabled service nope" in unknown.json()["error"]
    bad_id = _post(
        client, url, {"service": service.slug, "common_ids": ["12"], "reason": "x y"}, token
    )
    assert bad_id.status_code == 400 and "common_ids[0]" in bad_id.json()["error"]
    no_reason = _post(client, url, {"service": service.slug, "roles": ["student"]}, token)
    assert no_reason.status_code == 400
    assert not Campaign.objects.exists()

    started = _post(
        client, url, {"service": service.slug, "roles": ["student"], "reason": "spring term"}, token
    )
    assert started.status_code == 201
    body = started.json()
    assert body["status"] == "enrolling"  # the workers enrol it
    pk = body["id"]
    paused = _post(client, f"{url}/{pk}/pause", {"reason": "vendor incident"}, token)
    assert paused.status_code == 200 and paused.json()["status"] == "paused"
    assert (
        _post(client, f"{url}/{pk}/resume", {"reason": "over"}, token).json()["status"]
        == "enrolling"
    )
    assert _post(client, f"{url}/{pk}/cancel", {"reason": "wrong cohort"}, token).status_code == 200
    late = _post(client, f"{url}/{pk}/resume", {"reason": "oops"}, token)
    assert late.status_code == 409
    assert Campaign.objects.get().status == "cancelled"
    actions = list(
        AuditEntry.objects.filter(action__startswith="campaign.")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == [
        "campaign.start",
        "campaign.paused",
        "campaign.enrolling",
        "campaign.cancelled",
    ]


def test_inquiries_through_the_api(
    client, token, make_member, make_service, mailoutbox, django_capture_on_commit_callbacks
):
    from campusconf.portal.inquiries import open_inquiry
    from campusconf.portal.models import Inquiry

    member = make_member(language="en")
    inquiry = open_inquiry(member, make_service(), Inquiry.Topic.NO_MAIL, "No mail came.")
    url = f"/staff/api/v1/inquiries/{inquiry.pk}"
    assert (
        _post(client, f"{url}/reply", {"body": "", "status": "waiting"}, token).status_code == 400
    )
    assert (
        _post(
            client, f"{url}/reply", {"body": "We resent it.", "status": "later"}, token
        ).status_code
        == 400
    )
    assert not inquiry.replies.exists()

    with django_capture_on_commit_callbacks(execute=True):  # the mail leaves after commit
        reply = _post(client, f"{url}/reply", {"body": "We resent it.", "status": "waiting"}, token)
    assert reply.status_code == 201 and reply.json()["status"] == "waiting"
    assert inquiry.replies.get().body == "We resent it."
    assert any("We resent it." in m.body for m in mailoutbox)

    assert _post(client, f"{url}/status", {"status": "resolved"}, token).status_code == 400
    done = _post(
        client, f"{url}/status", {"status": "resolved", "reason": "member confirmed"}, token
    )
    assert done.status_code == 200 and done.json()["status"] == "resolved"
    assert (
        _post(
            client,
            "/staff/api/v1/inquiries/999999/status",
            {"status": "open", "reason": "x y"},
            token,
        ).status_code
        == 404
    )


def test_nul_in_a_body_is_refused(client, token, make_service):
    response = _post(
        client, "/staff/api/v1/campaigns", {"service": "a\x00b", "roles": ["student"]}, token
    )
    assert response.status_code == 400 and "NUL" in response.json()["error"]


# The description the API serves, its requests sent to the WSGI application. Every
# check, valid and invalid requests, and the coverage phase (each boundary, each missing
# field, each undescribed method), bounded: a few examples per operation.
schema = schemathesis.openapi.from_dict(SCHEMA)
schema.app = application
schema.config.update(base_url="http://testserver/staff/api/v1")
# The test sends a real token; schemathesis's own credentials would only stand in for it.
schema.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], with_security_parameters=False
)
schema.config.phases.coverage.enabled = True


@pytest.fixture
def api_data(make_member, make_service, make_account):
    service = make_service()
    for state in (State.ACTIVE, State.FAILED, State.INVITED):
        make_account(make_member(), service, state)


@pytest.fixture
def keep_test_connection():
    """Like Django's test client: a request must not close the test's DB connection."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_keeps_to_its_description(case, token, api_data, keep_test_connection):
    """No 5xx and no answer outside the description, whatever the query or body: every
    one of schemathesis's checks, none left out."""
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"})
