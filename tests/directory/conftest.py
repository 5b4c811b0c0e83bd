import pytest

from campusconf.directory.tokens import create_scim_client

SCIM_JSON = "application/scim+json"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
# Ours, for the affiliation's Japanese name (docs/directory.md).
CAMPUSCONF = "urn:ietf:params:scim:schemas:extension:campusconf:2.0:User"


@pytest.fixture
def scim_token(db):
    _client, token = create_scim_client("entra", ["read", "write", "deactivate"])
    return token


@pytest.fixture
def scim(client, scim_token):
    """A test client speaking SCIM with a valid token: ``scim("post", "/Users", {...})``."""
    import json

    def call(method, path, body=None, **headers):
        kwargs = {"HTTP_AUTHORIZATION": f"Bearer {scim_token}"}
        kwargs.update({f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()})
        if body is not None:
            kwargs["data"] = body if isinstance(body, (str, bytes)) else json.dumps(body)
            kwargs["content_type"] = SCIM_JSON
        return getattr(client, method)("/scim/v2" + path, **kwargs)

    return call


def user_payload(common_id="1234567890", **over):
    data = {
        "schemas": [USER_SCHEMA, ENTERPRISE],
        "userName": f"{common_id}@sso.example.ac.jp",
        "externalId": f"ext-{common_id}",
        "name": {"familyName": "Yamada", "givenName": "Taro"},
        "displayName": "山田 太郎",
        "active": True,
        "emails": [
            {"value": f"{common_id}@g.ecc.example.ac.jp", "type": "work", "primary": True},
            {"value": f"t{common_id}@example.ac.jp", "type": "other"},
        ],
        "roles": [{"value": "faculty"}],
        "preferredLanguage": "en",
        ENTERPRISE: {"employeeNumber": common_id, "department": "Faculty of Science"},
    }
    data.update(over)
    return data


@pytest.fixture(autouse=True)
def guard_sized_for_a_handful(settings):
    """With a handful of members, 5 % is none: the mass-change guard would hold every
    SCIM deactivation. The guard's own tests (test_scim_guard.py) set it themselves."""
    settings.CAMPUSCONF_MASS_CHANGE_PERCENT = 100
