"""Malformed and unsupported requests get a precise SCIM error, never a 500."""

from urllib.parse import quote

import pytest

from tests.directory.conftest import user_payload

pytestmark = pytest.mark.django_db
P = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def test_no_request_is_answered_with_a_500(scim):
    u = scim("post", "/Users", user_payload()).json()
    cases = [
        ("get", "/Users?filter=" + quote('nosuch eq "x"'), None),
        ("get", "/Users?filter=" + quote('emails.type eq "work"'), None),
        ("get", "/Users?filter=" + quote('emails[type eq "work"]'), None),
        ("get", "/Users?filter=" + quote('meta.lastModified gt "notadate"'), None),
        ("get", "/Users?filter=" + quote("userName gt 5"), None),
        ("get", "/Users?filter=" + quote("name.familyName pr"), None),
        ("get", "/Users?filter=" + quote('title gt "a"'), None),
        ("get", "/Users?sortBy=nosuch", None),
        ("get", "/Users?startIndex=abc", None),
        ("get", "/Users?count=-1", None),
        ("get", "/Users?count=100000", None),
        ("get", "/Users/not-a-uuid", None),
        ("get", "/Nothing", None),
        (
            "patch",
            f"/Users/{u['id']}",
            {"schemas": [P], "Operations": [{"op": "replace", "path": "nosuch", "value": 1}]},
        ),
        (
            "patch",
            f"/Users/{u['id']}",
            {"schemas": [P], "Operations": [{"op": "replace", "path": "id", "value": "x"}]},
        ),
        (
            "patch",
            f"/Users/{u['id']}",
            {"schemas": [P], "Operations": [{"op": "frobnicate", "path": "active", "value": 1}]},
        ),
        (
            "patch",
            f"/Users/{u['id']}",
            {"schemas": [P], "Operations": [{"op": "remove", "path": "userName"}]},
        ),
        (
            "patch",
            f"/Users/{u['id']}",
            {
                "schemas": [P],
                "Operations": [{"op": "replace", "path": "emails", "value": [{"value": "bad"}]}],
            },
        ),
        (
            "patch",
            f"/Users/{u['id']}",
            {
                "schemas": [P],
                "Operations": [{"op": "replace", "path": "userName", "value": "4444444444@x.jp"}],
            },
        ),
        (
            "put",
            f"/Users/{u['id']}",
            {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "x"},
        ),
        ("post", "/Users", "[]"),
        ("post", "/Users", "null"),
        (
            "post",
            "/Groups",
            {
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                "displayName": "g",
                "members": [{"value": "nope"}],
            },
        ),
        ("delete", "/Users/00000000-0000-0000-0000-000000000000", None),
        (
            "post",
            "/.search",
            {
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                "filter": 'userName eq "x"',
            },
        ),
        (
            "post",
            "/Users/.search",
            {
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                "filter": 'userName sw "1"',
                "count": 1,
            },
        ),
        (
            "post",
            "/Bulk",
            {"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": []},
        ),
    ]
    for method, path, body in cases:
        r = scim(method, path, body)
        assert r.status_code != 500, (method, path, r.content)
        if r.status_code >= 400:
            assert r.json()["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]


@pytest.mark.parametrize("attribute", ["userName", "externalId"])
def test_an_attribute_longer_than_its_column_is_a_400_on_every_database(scim, attribute):
    """PostgreSQL refused the row with an error (a 500); SQLite stored it."""
    body = user_payload(**{attribute: "1" * 256})
    response = scim("post", "/Users", body)
    assert response.status_code == 400, response.content
    assert response.json()["scimType"] == "invalidValue"
    assert attribute in response.json()["detail"]
