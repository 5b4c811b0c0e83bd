"""Bad input from anyone is a clear 4xx, never a 5xx: the cases an attacker found, and
their relatives. (schemathesis covers the staff API and SCIM wholesale: test_api.py,
test_scim_fuzz.py.)"""

import json
import re
import time

import pytest
from django.contrib.auth import get_user_model

from campusconf.backoffice.tokens import issue_token
from campusconf.directory.tokens import create_scim_client

pytestmark = pytest.mark.django_db

# What an HTTP server lets through in a header value (gunicorn refuses the rest with 500).
HEADER_VALUE = re.compile(r"[\t\x20-\x7e]*")


def assert_sendable(response):
    for name, value in response.items():
        assert HEADER_VALUE.fullmatch(value), (name, value)


@pytest.fixture
def api_token(db):
    user = get_user_model().objects.create_user("api-caller", is_staff=True)
    return issue_token(user, "tests", reason="test suite")[1]


@pytest.fixture
def scim_token(db):
    return create_scim_client("entra", scopes={"read", "write", "deactivate"})[1]


@pytest.mark.parametrize("token", ["é", "日本", "scrape-me-123é"])
def test_a_non_ascii_bearer_token_on_metrics_is_a_401(client, settings, token):
    settings.CAMPUSCONF_METRICS_OPEN = False
    settings.CAMPUSCONF_METRICS_TOKEN = "scrape-me-123"
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 401


def test_a_non_ascii_zoom_signature_is_a_401(client, make_service, monkeypatch):
    monkeypatch.setenv("CC_TEST_ZOOM_SECRET", "zoom-secret")
    make_service(
        "zoom",
        "zoom",
        connector_settings={
            "base_url": "http://127.0.0.1:9/v2",
            "webhook_secret_env": "CC_TEST_ZOOM_SECRET",
        },
    )
    response = client.post(
        "/webhooks/zoom",
        json.dumps({"event": "user.activated"}),
        content_type="application/json",
        HTTP_X_ZM_REQUEST_TIMESTAMP=str(int(time.time())),
        HTTP_X_ZM_SIGNATURE="v0=é",
    )
    assert response.status_code == 401


@pytest.mark.parametrize(
    "path",
    ["/Users/%01", "/Users/%0A", "/Users/%0D%0ALocation:%20x", "/%01", "/Users/%E6%97%A5", "/%7F"],
)
@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_a_control_character_in_a_scim_path_is_a_scim_error(client, scim_token, path, method):
    response = getattr(client, method)("/scim/v2" + path, HTTP_AUTHORIZATION=f"Bearer {scim_token}")
    assert 400 <= response.status_code < 500
    assert response.json()["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    assert_sendable(response)


@pytest.mark.parametrize(
    "body",
    [
        "[" * 2000 + "]" * 2000,
        '{"a":' * 2000 + "1" + "}" * 2000,
        '{"service": ' + "[" * 900 + "]" * 900 + "}",
        '{"reason": ' + '{"x":' * 50 + "1" + "}" * 51,
    ],
    ids=["list-2000", "object-2000", "list-900", "object-50"],
)
def test_json_nested_deep_on_the_staff_api_is_a_400(client, api_token, body):
    for url in ("/staff/api/v1/campaigns", "/staff/api/v1/accounts/1/retry"):
        response = client.post(
            url, body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {api_token}"
        )
        assert response.status_code == 400, response.content
        assert response.json()["error"]


@pytest.mark.parametrize(
    "path",
    [
        "/staff/api/v1/nothing",
        "/staff/api/v1/accounts/abc",
        "/staff/api/v1/accounts/1/null,null",
        "/staff/api/v1/accounts/",
        "/staff/api/v2/accounts",
        "/staff/api",
    ],
)
@pytest.mark.parametrize("method", ["get", "post"])
def test_the_staff_api_answers_json_404_on_any_other_path(client, api_token, path, method):
    response = getattr(client, method)(path, HTTP_AUTHORIZATION=f"Bearer {api_token}")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]


@pytest.mark.parametrize(
    ("path", "method", "allow"),
    [
        ("/staff/api/v1/accounts", "put", "GET, HEAD, OPTIONS"),
        ("/staff/api/v1/campaigns", "delete", "GET, POST, HEAD, OPTIONS"),
        ("/staff/api/v1/campaigns/1/pause", "get", "POST, OPTIONS"),
        ("/staff/api/v1/openapi.json", "post", "GET, HEAD"),
    ],
)
def test_a_method_the_api_does_not_take_is_a_json_405_with_allow(
    client, api_token, path, method, allow
):
    response = getattr(client, method)(path, HTTP_AUTHORIZATION=f"Bearer {api_token}")
    assert response.status_code == 405
    assert response["Allow"] == allow
    assert response.json()["error"]


def test_options_lists_the_methods_the_description_has(client):
    response = client.options("/staff/api/v1/campaigns")
    assert response.status_code == 204
    assert response["Allow"] == "GET, POST, HEAD, OPTIONS"


def test_without_a_token_every_api_path_is_a_json_401(client):
    response = client.delete("/staff/api/v1/campaigns")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert response.json()["error"] == "A valid bearer token is required."


@pytest.mark.parametrize(
    ("accept", "expected", "language"),
    [
        (None, "state: one of", "en"),
        ("en-GB,en;q=0.9", "state: one of", "en"),
        ("fr-FR, de;q=0.8", "state: one of", "en"),
        ("ja,en;q=0.5", "state: 次のいずれか", "ja"),
        ("fr, ja-JP;q=0.5", "state: 次のいずれか", "ja"),
    ],
)
def test_api_errors_follow_accept_language_english_by_default(
    client, api_token, accept, expected, language
):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {api_token}"}
    if accept is not None:
        headers["HTTP_ACCEPT_LANGUAGE"] = accept
    response = client.get("/staff/api/v1/accounts?state=", **headers)
    assert response.status_code == 400
    assert response.json()["error"].startswith(expected)
    assert response["Content-Language"] == language


def test_the_api_ignores_the_language_cookie(client, api_token, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ja"
    response = client.get("/staff/api/v1/accounts?state=", HTTP_AUTHORIZATION=f"Bearer {api_token}")
    assert response.json()["error"].startswith("state: one of")


@pytest.mark.parametrize(
    "query",
    ["limit=1&limit=2", "state=", "status=later", "limit=%EF%BC%95", "limit=5_0", "offset=-1"],
)
def test_a_query_outside_the_description_is_a_400(client, api_token, query):
    path = "/staff/api/v1/inquiries" if "status" in query else "/staff/api/v1/accounts"
    response = client.get(f"{path}?{query}", HTTP_AUTHORIZATION=f"Bearer {api_token}")
    assert response.status_code == 400, response.content
