"""The /scim/v2 endpoint: mapping onto members, filters, PATCH forms, ETags, errors."""

import io
from urllib.parse import quote

import pytest
from django.core.management import call_command
from django.utils import timezone

from campusconf.directory.models import ScimClient, ScimUser
from campusconf.directory.tokens import revoke_scim_client
from campusconf.members.models import Member
from tests.directory.conftest import CAMPUSCONF, ENTERPRISE, USER_SCHEMA, user_payload

pytestmark = pytest.mark.django_db
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def patch(*operations):
    return {"schemas": [PATCH], "Operations": list(operations)}


def create(scim, common_id="1234567890", **over):
    response = scim("post", "/Users", user_payload(common_id, **over))
    assert response.status_code == 201, response.content
    return response.json()


def search(scim, expression, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    response = scim("get", f"/Users?filter={quote(expression)}&{query}")
    assert response.status_code == 200, response.content
    return {r["userName"].split("@")[0] for r in response.json()["Resources"]}


def test_a_pushed_user_becomes_a_member_with_addresses_names_and_roles(scim):
    create(scim)
    member = Member.objects.get(common_id="1234567890")
    assert (member.family_name_latin, member.given_name_latin) == ("Yamada", "Taro")
    assert (member.family_name_ja, member.given_name_ja) == ("山田", "太郎")
    assert member.roles == "faculty" and member.affiliation == "Faculty of Science"
    assert member.mail_address == "1234567890@g.ecc.example.ac.jp"
    assert member.alias_addresses == ["t1234567890@example.ac.jp"]
    assert member.preferred_language == "en"


def test_a_user_without_a_common_id_is_kept_pending_without_a_member(scim):
    body = create(scim, userName="visiting.scholar@sso.example.ac.jp")
    row = ScimUser.objects.get(pk=body["id"])
    assert row.member is None and "common ID" in row.pending_reason
    assert scim("get", f"/Users/{body['id']}").json()["userName"].startswith("visiting")


def test_the_common_id_can_come_from_employee_number(scim, settings):
    settings.CAMPUSCONF_SCIM_COMMON_ID_FROM = "employeeNumber"
    create(scim, "2222222222", userName="taro@sso.example.ac.jp")
    assert Member.objects.filter(common_id="2222222222").exists()


def test_roles_can_come_from_groups(scim, settings):
    settings.CAMPUSCONF_SCIM_ROLES_FROM = "groups"
    user = create(scim)
    assert ScimUser.objects.get(pk=user["id"]).member is None  # no group yet: no role
    group = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": "staff",
        "members": [{"value": user["id"]}],
    }
    assert scim("post", "/Groups", group).status_code == 201
    assert Member.objects.get(common_id="1234567890").roles == "staff"


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ('userName eq "1000000001@sso.example.ac.jp"', {"1000000001"}),
        ('userName eq "1000000001@SSO.EXAMPLE.AC.JP"', {"1000000001"}),
        ('userName ne "1000000001@sso.example.ac.jp"', {"1000000002", "1000000003"}),
        ('userName co "0000002"', {"1000000002"}),
        ('userName sw "100000000"', {"1000000001", "1000000002", "1000000003"}),
        ('userName ew "3@sso.example.ac.jp"', {"1000000003"}),
        ('userName gt "1000000001@sso.example.ac.jp"', {"1000000002", "1000000003"}),
        ('userName ge "1000000002@sso.example.ac.jp"', {"1000000002", "1000000003"}),
        ('userName lt "1000000002@sso.example.ac.jp"', {"1000000001"}),
        ('userName le "1000000002@sso.example.ac.jp"', {"1000000001", "1000000002"}),
        ('externalId eq "ext-1000000002"', {"1000000002"}),
        ("externalId pr", {"1000000001", "1000000002", "1000000003"}),
        ('emails.value eq "1000000003@g.ecc.example.ac.jp"', {"1000000003"}),
        ('emails eq "T1000000001@example.ac.jp"', {"1000000001"}),
        ('emails[value sw "t100000000"]', {"1000000001", "1000000002", "1000000003"}),
        ('emails.value ew "2@example.ac.jp"', {"1000000002"}),
        ("active eq false", {"1000000003"}),
        ('active eq true and not (externalId eq "ext-1000000001")', {"1000000002"}),
        ('userName co "0001" or userName co "0003"', {"1000000001", "1000000003"}),
        ('meta.lastModified gt "2000-01-01T00:00:00Z"', {"1000000001", "1000000002", "1000000003"}),
        ('meta.lastModified lt "2000-01-01T00:00:00Z"', set()),
        (
            'meta.lastModified ge "2000-01-01T00:00:00Z" and meta.lastModified le "2999-01-01T00:00:00Z"',
            {"1000000001", "1000000002", "1000000003"},
        ),
        ('name.familyName eq "yamada"', {"1000000001", "1000000002", "1000000003"}),
    ],
)
def test_filters(scim, expression, expected):
    for n in (1, 2, 3):
        create(scim, f"100000000{n}", active=n != 3)
    assert search(scim, expression) == expected


def test_paging_and_sorting(scim):
    for n in (3, 1, 2):
        create(scim, f"100000000{n}")
    response = scim("get", "/Users?sortBy=userName&sortOrder=descending&startIndex=2&count=1")
    body = response.json()
    assert body["totalResults"] == 3 and body["startIndex"] == 2 and body["itemsPerPage"] == 1
    assert body["Resources"][0]["userName"].startswith("1000000002")


def test_an_invalid_filter_is_a_400_invalid_filter(scim):
    response = scim("get", "/Users?filter=" + quote('userName eq "x" and'))
    assert response.status_code == 400 and response.json()["scimType"] == "invalidFilter"
    response = scim("get", "/Users?filter=" + quote('active gt "x"'))
    assert response.status_code == 400 and response.json()["scimType"] == "invalidFilter"


def test_entra_deactivation_with_capitalised_op_and_string_boolean_marks_the_member_left(scim):
    user = create(scim)
    response = scim(
        "patch",
        f"/Users/{user['id']}",
        patch({"op": "Replace", "path": "active", "value": "False"}),
    )
    assert response.status_code in (200, 204), response.content
    member = Member.objects.get(common_id="1234567890")
    assert member.status == "left" and member.left_on is not None
    scim("patch", f"/Users/{user['id']}", patch({"op": "replace", "value": {"active": True}}))
    member.refresh_from_db()
    assert (member.status, member.left_on) == ("active", None)


def test_patch_with_a_value_filter_path_and_without_a_path(scim):
    user = create(scim)
    ops = patch(
        {
            "op": "replace",
            "path": 'emails[type eq "work"].value',
            "value": "new@g.ecc.example.ac.jp",
        },
        {"op": "replace", "value": {"name": {"familyName": "Suzuki", "givenName": "Jiro"}}},
        {"op": "add", "path": f"{ENTERPRISE}:department", "value": "Faculty of Law"},
        {"op": "remove", "path": 'emails[type eq "other"]'},
    )
    response = scim("patch", f"/Users/{user['id']}", ops)
    assert response.status_code in (200, 204), response.content
    member = Member.objects.get(common_id="1234567890")
    assert member.mail_address == "new@g.ecc.example.ac.jp" and member.alias_addresses == []
    assert (member.family_name_latin, member.affiliation) == ("Suzuki", "Faculty of Law")


def test_the_affiliations_japanese_name_comes_from_our_extension(scim):
    user = create(
        scim,
        schemas=[USER_SCHEMA, ENTERPRISE, CAMPUSCONF],
        **{CAMPUSCONF: {"departmentJa": "理学部"}},
    )
    member = Member.objects.get(common_id="1234567890")
    assert (member.affiliation, member.affiliation_ja) == ("Faculty of Science", "理学部")
    # The client reads back what it wrote.
    assert scim("get", f"/Users/{user['id']}").json()[CAMPUSCONF] == {"departmentJa": "理学部"}
    ops = patch(
        {"op": "replace", "path": f"{ENTERPRISE}:department", "value": "Faculty of Law"},
        {"op": "replace", "path": f"{CAMPUSCONF}:departmentJa", "value": "法学部"},
    )
    response = scim("patch", f"/Users/{user['id']}", ops)
    assert response.status_code in (200, 204), response.content
    member.refresh_from_db()
    assert (member.affiliation, member.affiliation_ja) == ("Faculty of Law", "法学部")
    removal = patch({"op": "remove", "path": f"{CAMPUSCONF}:departmentJa"})
    assert scim("patch", f"/Users/{user['id']}", removal).status_code in (200, 204)
    member.refresh_from_db()
    assert (member.affiliation, member.affiliation_ja) == ("Faculty of Law", "")


def test_a_user_added_to_with_the_extension_by_patch_gets_the_japanese_name(scim):
    """Entra ID adds an attribute to an existing user with a PATCH "add" and a path."""
    user = create(scim)
    assert Member.objects.get().affiliation_ja == ""
    ops = patch({"op": "add", "path": f"{CAMPUSCONF}:departmentJa", "value": "理学部"})
    response = scim("patch", f"/Users/{user['id']}", ops)
    assert response.status_code in (200, 204), response.content
    assert Member.objects.get().affiliation_ja == "理学部"


def test_put_replaces_and_delete_marks_the_member_left(scim):
    user = create(scim)
    replacement = user_payload(name={"familyName": "Sato", "givenName": "Hanako"})
    assert scim("put", f"/Users/{user['id']}", replacement).status_code == 200
    assert Member.objects.get().family_name_latin == "Sato"
    assert scim("delete", f"/Users/{user['id']}").status_code == 204
    assert scim("get", f"/Users/{user['id']}").status_code == 404
    assert Member.objects.get().status == "left"


def test_if_match_mismatch_is_412_and_changes_nothing(scim):
    user = create(scim)
    ops = patch({"op": "replace", "path": "displayName", "value": "別 名"})
    stale = scim("patch", f"/Users/{user['id']}", ops, **{"If-Match": 'W/"999"'})
    assert stale.status_code == 412
    assert Member.objects.get().family_name_ja == "山田"
    fresh = scim("patch", f"/Users/{user['id']}", ops, **{"If-Match": user["meta"]["version"]})
    assert fresh.status_code in (200, 204)
    assert Member.objects.get().family_name_ja == "別"


def test_duplicate_user_name_is_409_uniqueness(scim):
    create(scim)
    response = scim("post", "/Users", user_payload(userName="1234567890@SSO.example.ac.jp"))
    assert response.status_code == 409 and response.json()["scimType"] == "uniqueness"
    assert ScimUser.objects.count() == 1


def test_an_address_of_another_member_is_409_and_nothing_is_stored(scim, make_member):
    other = make_member()
    emails = [{"value": other.mail_address.upper(), "primary": True}]
    response = scim("post", "/Users", user_payload(emails=emails))
    assert response.status_code == 409 and response.json()["scimType"] == "uniqueness"
    assert ScimUser.objects.count() == 0 and Member.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "status", "scim_type"),
    [
        ("{not json", 400, "invalidSyntax"),
        ({"schemas": ["urn:example:nothing"], "userName": "x"}, 400, None),
        ({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"]}, 400, None),
        (
            {
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": "a",
                "active": "maybe",
            },
            400,
            None,
        ),
    ],
)
def test_bad_bodies_are_400_and_store_nothing(scim, body, status, scim_type):
    response = scim("post", "/Users", body)
    assert response.status_code == status, response.content
    error = response.json()
    assert error["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    if scim_type:
        assert error["scimType"] == scim_type
    assert ScimUser.objects.count() == 0


def test_an_oversized_body_is_413(scim, settings):
    settings.CAMPUSCONF_SCIM_MAX_BODY_BYTES = 1000
    response = scim("post", "/Users", user_payload(title="x" * 2000))
    assert response.status_code == 413
    assert ScimUser.objects.count() == 0


def test_a_wrong_or_revoked_token_is_401(client, scim_token):
    assert client.get("/scim/v2/Users").status_code == 401
    wrong = client.get("/scim/v2/Users", HTTP_AUTHORIZATION="Bearer nope")
    assert wrong.status_code == 401 and wrong.json()["status"] == "401"
    ok = client.get("/scim/v2/Users", HTTP_AUTHORIZATION=f"Bearer {scim_token}")
    assert ok.status_code == 200
    assert ScimClient.objects.get().last_used_at is not None
    revoke_scim_client("entra")
    revoked = client.get("/scim/v2/Users", HTTP_AUTHORIZATION=f"Bearer {scim_token}")
    assert revoked.status_code == 401


def test_discovery_endpoints(scim):
    config = scim("get", "/ServiceProviderConfig").json()
    assert config["patch"]["supported"] and config["etag"]["supported"]
    assert config["filter"]["supported"] and config["sort"]["supported"]
    types = {t["name"] for t in scim("get", "/ResourceTypes").json()["Resources"]}
    assert types == {"User", "Group"}
    user_type = scim("get", "/ResourceTypes/User").json()
    assert {e["schema"] for e in user_type["schemaExtensions"]} == {ENTERPRISE, CAMPUSCONF}
    schemas = {s["id"]: s for s in scim("get", "/Schemas").json()["Resources"]}
    assert ENTERPRISE in schemas
    assert [a["name"] for a in schemas[CAMPUSCONF]["attributes"]] == ["departmentJa"]


def test_scim_token_command_prints_the_token_alone_on_its_last_line(client):
    out = io.StringIO()
    call_command("scim-token", "create", "okta", "--scope", "read,write", stdout=out)
    token = out.getvalue().strip().splitlines()[-1]
    assert client.get("/scim/v2/Users", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200
    call_command("scim-token", "revoke", "okta", stdout=io.StringIO())
    assert client.get("/scim/v2/Users", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401


def test_left_on_is_today(scim):
    user = create(scim)
    # "Today" is the university's (TIME_ZONE), not the machine's: the two differ for
    # nine hours of every day. Read before and after, so a run across midnight passes.
    before = timezone.localdate()
    scim(
        "patch", f"/Users/{user['id']}", patch({"op": "replace", "path": "active", "value": False})
    )
    after = timezone.localdate()
    assert Member.objects.get().left_on in {before, after}


def test_entra_group_membership_patches_move_roles(scim, settings):
    settings.CAMPUSCONF_SCIM_ROLES_FROM = "groups"
    user = create(scim)
    group = scim(
        "post",
        "/Groups",
        {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Student"},
    ).json()
    add = patch({"op": "Add", "path": "members", "value": [{"value": user["id"]}]})
    assert scim("patch", f"/Groups/{group['id']}", add).status_code in (200, 204)
    assert Member.objects.get().roles == "student"
    found = scim(
        "get", "/Groups?filter=" + quote('displayName eq "student"') + "&excludedAttributes=members"
    )
    assert found.json()["totalResults"] == 1
    remove = patch({"op": "Remove", "path": f'members[value eq "{user["id"]}"]'})
    assert scim("patch", f"/Groups/{group['id']}", remove).status_code in (200, 204)
    # No role left: the member keeps the last known roles, the record says why it is pending.
    assert "role" in ScimUser.objects.get().pending_reason


def test_entra_attribute_patches(scim):
    user = create(scim)
    ops = patch(
        {"op": "Replace", "path": "name.givenName", "value": "Hanako"},
        {"op": "Add", "path": 'emails[type eq "work"].value', "value": "w@g.ecc.example.ac.jp"},
        {"op": "Replace", "path": "preferredLanguage", "value": "ja-JP"},
    )
    response = scim("patch", f"/Users/{user['id']}", ops)
    assert response.status_code in (200, 204), response.content
    member = Member.objects.get()
    assert member.given_name_latin == "Hanako" and member.preferred_language == "ja"
    assert member.mail_address == "w@g.ecc.example.ac.jp"


def test_a_search_at_the_root_pages_users_then_groups(scim):
    create(scim)
    group = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "staff"}
    scim("post", "/Groups", group)
    body = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "count": 1}
    first = scim("post", "/.search", body).json()
    assert first["totalResults"] == 2 and first["Resources"][0]["userName"]
    second = scim("post", "/.search", {**body, "startIndex": 2}).json()
    assert second["Resources"][0]["displayName"] == "staff"
    only = {**body, "filter": 'displayName eq "staff"', "count": 10}
    assert scim("post", "/.search", only).json()["totalResults"] == 1
