import pytest
import schemathesis
from django.contrib.auth import get_user_model
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import ignored_auth

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


schema = schemathesis.openapi.from_dict(SCHEMA)
# Valid requests only: the API ignores unknown query parameters on purpose (scripts
# may send more than this version knows), which negative mode would count as a fault.
schema.config.generation.update(modes=[GenerationMode.POSITIVE], with_security_parameters=False)


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
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_keeps_to_its_description(case, token, api_data, keep_test_connection):
    """No 5xx and no answer outside the schema, whatever the query."""
    response = case.call(app=application, headers={"Authorization": f"Bearer {token}"})
    # ignored_auth assumes schemathesis made up the credentials; here the test gives a
    # real token, and bad tokens are covered by test_accounts_through_the_api.
    case.validate_response(response, excluded_checks=[ignored_auth])
