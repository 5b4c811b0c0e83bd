"""The sandbox's SCIM 2 APIs (W-g): Webex's at /webex/identity/scim/{orgId}/v2, Zoom's at
/zoom/scim2. Other doors to the same users as the People and Users APIs."""

from __future__ import annotations

import base64
from typing import Any

import httpx

from tests.fixtures.sandbox import unique_email
from vendor_sandbox.launcher import Sandbox

CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
CISCO = "urn:scim:schemas:extension:cisco:webexidentity:2.0:User"
ZOOM = "urn:us:zoom:scim:schemas:extension:1.0:ZoomUser"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def webex_scim(sandbox: Sandbox) -> httpx.Client:
    headers = {"Authorization": f"Bearer {sandbox.creds['webex']['token']}"}
    return httpx.Client(base_url=sandbox.creds["webex"]["scim_base_url"], headers=headers)


def zoom_scim(sandbox: Sandbox) -> httpx.Client:
    headers = {"Authorization": f"Bearer {sandbox.zoom_token()}"}
    return httpx.Client(base_url=sandbox.creds["zoom"]["scim_base_url"], headers=headers)


def new_user(address: str, **extra: Any) -> dict[str, Any]:
    return {
        "schemas": [CORE],
        "userName": address,
        "name": {"givenName": "Taro", "familyName": "Yamada"},
        "emails": [{"value": address, "type": "work", "primary": True}],
        **extra,
    }


def scim_error(resp: httpx.Response, status: int, scim_type: str | None = None) -> str:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["schemas"] == [ERROR] and body["status"] == str(status)
    if scim_type:
        assert body["scimType"] == scim_type, body
    return str(body["detail"])


def test_a_webex_create_needs_user_type_and_answers_with_ciscos_extensions(
    sandbox: Sandbox,
) -> None:
    address = unique_email("wscim")
    with webex_scim(sandbox) as scim:
        refused = scim.post("/Users", json=new_user(address))
        assert "userType" in scim_error(refused, 400, "invalidValue")
        assert (
            scim.get("/Users", params={"filter": f'userName eq "{address}"'}).json()["totalResults"]
            == 0
        )
        created = scim.post("/Users", json=new_user(address, userType="user"))
        assert created.status_code == 201, created.text
        user = created.json()
        assert {CORE, CISCO} <= set(user["schemas"])
        assert user[CISCO]["accountStatus"] == ["active"]
        assert created.headers["trackingid"]
        again = scim.post("/Users", json=new_user(address, userType="user"))
        scim_error(again, 409, "uniqueness")
    # The same person through the People API: the SCIM id is the uuid in its id.
    with sandbox.webex() as people:
        person = people.get("/people", params={"email": address}).json()["items"][0]
    decoded = base64.b64decode(person["id"] + "=" * (-len(person["id"]) % 4)).decode()
    assert decoded == f"ciscospark://us/PEOPLE/{user['id']}"


def test_webex_scim_patch_put_and_delete_change_the_person(sandbox: Sandbox) -> None:
    address = unique_email("wpatch")
    with webex_scim(sandbox) as scim:
        user = scim.post("/Users", json=new_user(address, userType="user")).json()
        ops = [
            {"op": "replace", "path": "name.givenName", "value": "Hanako"},
            {"op": "replace", "path": "active", "value": False},
        ]
        patched = scim.patch(f"/Users/{user['id']}", json={"schemas": [PATCH], "Operations": ops})
        assert patched.status_code == 200, patched.text
        assert patched.json()["name"]["givenName"] == "Hanako"
        with sandbox.webex() as people:
            person = people.get("/people", params={"email": address}).json()["items"][0]
        assert person["firstName"] == "Hanako" and person["loginEnabled"] in (False, "false")
        bad = scim.patch(
            f"/Users/{user['id']}",
            json={
                "schemas": [PATCH],
                "Operations": [{"op": "replace", "path": "nope", "value": 1}],
            },
        )
        scim_error(bad, 400)
        assert scim.get(f"/Users/{user['id']}").json()["name"]["givenName"] == "Hanako"
        replaced = scim.put(f"/Users/{user['id']}", json=new_user(address, userType="user"))
        assert replaced.status_code == 200 and replaced.json()["active"] is False
        assert scim.delete(f"/Users/{user['id']}").status_code == 204
        scim_error(scim.get(f"/Users/{user['id']}"), 404)


def test_webex_scim_refuses_another_org_an_unknown_filter_and_a_bad_token(
    sandbox: Sandbox,
) -> None:
    base = sandbox.creds["webex"]["scim_base_url"]
    other = base.replace("/scim/", "/scim/x").rsplit("/v2", 1)[0] + "/v2"
    with webex_scim(sandbox) as scim:
        scim_error(scim.get(f"{other}/Users"), 403)
        scim_error(scim.get("/Users", params={"filter": 'title eq "x"'}), 400, "invalidFilter")
    scim_error(httpx.get(f"{base}/Users", headers={"Authorization": "Bearer nope"}), 401)


def test_a_zoom_scim_user_carries_zooms_extension_and_its_licence_as_user_type(
    sandbox: Sandbox,
) -> None:
    address = unique_email("zscim")
    with zoom_scim(sandbox) as scim:
        created = scim.post("/Users", json=new_user(address, userType="Licensed"))
        assert created.status_code == 201, created.text
        user = created.json()
        assert {CORE, ZOOM} <= set(user["schemas"])
        assert user[ZOOM]["loginType"] == {"workEmail": False, "sso": True}
        assert created.headers["x-zm-trackingid"]
        ops = [{"op": "replace", "path": "active", "value": False}]
        scim.patch(f"/Users/{user['id']}", json={"schemas": [PATCH], "Operations": ops})
        back = scim.get(f"/Users/{user['id']}").json()
        # Deactivating took the licence, as Zoom's Users API does.
        assert (back["active"], back["userType"]) == (False, "Basic")
        scim_error(scim.post("/Users", json=new_user(address)), 409, "uniqueness")
        by_mail = scim.get("/Users", params={"filter": f'emails.value eq "{address}"'})
        scim_error(by_mail, 400, "invalidFilter")
        found = scim.get("/Users", params={"filter": f'userName eq "{address}"'}).json()
        assert [u["id"] for u in found["Resources"]] == [user["id"]]
    with sandbox.zoom() as users:
        rest = users.get(f"/users/{user['id']}").json()
    assert (rest["status"], rest["type"], rest["login_types"]) == ("inactive", 1, [101])


def test_zoom_scim_refuses_a_bad_body_and_changes_nothing(sandbox: Sandbox) -> None:
    with zoom_scim(sandbox) as scim:
        before = scim.get("/Users").json()["totalResults"]
        scim_error(scim.post("/Users", json={"userName": "a@example.ac.jp"}), 400)
        scim_error(scim.post("/Users", json=new_user("not-an-address")), 400)
        bad_type = new_user(unique_email("ztype"), userType="Gold")
        scim_error(scim.post("/Users", json=bad_type), 400)
        scim_error(
            scim.post("/Users", content=b"{", headers={"Content-Type": "application/json"}),
            400,
            "invalidSyntax",
        )
        assert scim.get("/Users").json()["totalResults"] == before
