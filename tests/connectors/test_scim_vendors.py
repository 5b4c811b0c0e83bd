"""The SCIM connector on Webex's and Zoom's SCIM answers (W-g), played back.

The Webex answer is the shape of Cisco's own example in its OpenAPI description
(webex-admin.json, "Get a user"; CC BY 4.0), cut to what matters; the Zoom one is
written from Zoom's SCIM2 reference. Both carry vendor extension schemas, which a
plain SCIM User model refuses: before the profiles, every read of them failed as
"vendor answer broke the API contract".
"""

from __future__ import annotations

import json
from typing import Any

from campusconf.connectors import Created, Ok, TransientFailure, UserSpec, UserState
from campusconf.connectors.scim import ScimConnector, webex_people_base
from campusconf.connectors.scim_webex_licences import person_id
from tests.connectors.scripted_httpx import Script, reply

ORG = "0ae87ade-8c8a-4952-af08-318798958d0c"
WEBEX_BASE = f"https://webexapis.test/identity/scim/{ORG}/v2"
ZOOM_BASE = "https://api.zoom.test/scim2"
CISCO = "urn:scim:schemas:extension:cisco:webexidentity:2.0:User"
ZOOM = "urn:us:zoom:scim:schemas:extension:1.0:ZoomUser"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
SPEC = UserSpec("2600000001@g.ecc.example.ac.jp", "Taro", "Yamada", "Taro Yamada")
LICENCE = "Y2lzY29zcGFyazovL3VzL0xJQ0VOU0UvbWVldGluZw"


def webex_user(status: str = "active", **extra: Any) -> dict[str, Any]:
    return {
        "schemas": [CORE, CISCO, ENTERPRISE],
        "id": "3426a8e3-d414-4bf0-a493-4f6787632a13",
        "userName": SPEC.email,
        "active": True,
        "name": {"familyName": "Yamada", "givenName": "Taro"},
        "displayName": "Taro Yamada",
        "emails": [{"value": SPEC.email, "type": "work", "primary": True}],
        "userType": "user",
        ENTERPRISE: {"department": "department 789"},
        CISCO: {
            "accountStatus": [status],
            "sipAddresses": [{"value": "sip", "type": "enterprise", "primary": True}],
            "extensionAttribute1": ["a"],
            "meta": {"organizationId": ORG},
        },
        "meta": {
            "resourceType": "User",
            "location": f"{WEBEX_BASE}/Users/3426a8e3-d414-4bf0-a493-4f6787632a13",
            "version": 'W/"76678575420"',
            "created": "2023-01-11T17:38:31.605Z",
            "lastModified": "2023-01-11T17:38:31.605Z",
        },
        **extra,
    }


def zoom_user(user_type: str = "Licensed", active: bool = True) -> dict[str, Any]:
    return {
        "schemas": [CORE, ZOOM],
        "id": "k&KdKr6TLWuxdDtk0hjSzL",
        "userName": SPEC.email,
        "name": {"givenName": "Taro", "familyName": "Yamada"},
        "displayName": "Taro Yamada",
        "emails": [{"type": "work", "value": SPEC.email, "primary": True}],
        "userType": user_type,
        "active": active,
        ZOOM: {"loginType": {"workEmail": False, "sso": True}, "zoomUnited": "x"},
    }


def connector(base: str, script: Script, profile: str) -> ScimConnector:
    return ScimConnector(
        base,
        "t",
        profile=profile,
        licence_id=LICENCE if profile == "webex" else "",
        transport=script.transport,
        sleep=lambda _s: None,
    )


def test_the_plain_profile_cannot_read_a_webex_answer():
    """What the issue reported: Cisco's extension schemas break a plain SCIM User."""
    script = Script().on("GET", f"/identity/scim/{ORG}/v2/Users/u1", reply(200, webex_user()))
    outcome = connector(WEBEX_BASE, script, "generic").get_user("u1")
    assert isinstance(outcome, TransientFailure) and "broke the API contract" in outcome.reason


def test_a_webex_user_is_read_with_cisco_extensions_and_its_licence_from_the_people_api():
    person = person_id("3426a8e3-d414-4bf0-a493-4f6787632a13")
    script = (
        Script()
        .on("GET", f"/identity/scim/{ORG}/v2/Users/u1", reply(200, webex_user()))
        .on("GET", "/v1/people", reply(200, {"items": [{"id": person, "licenses": [LICENCE]}]}))
    )
    outcome = connector(WEBEX_BASE, script, "webex").get_user("u1")
    assert isinstance(outcome, Ok) and outcome.user is not None
    user = outcome.user
    assert (user.email, user.first_name, user.state, user.licensed) == (
        SPEC.email,
        "Taro",
        UserState.ACTIVE,
        True,
    )
    people = [c for c in script.calls if c.url.path == "/v1/people"]
    assert people[0].url.params["id"] == person


def test_a_webex_person_who_never_signed_in_reads_as_pending():
    script = (
        Script()
        .on("GET", f"/identity/scim/{ORG}/v2/Users/u1", reply(200, webex_user("pending")))
        .on("GET", "/v1/people", reply(200, {"items": []}))
    )
    outcome = connector(WEBEX_BASE, script, "webex").get_user("u1")
    assert isinstance(outcome, Ok) and outcome.user is not None
    assert outcome.user.state is UserState.PENDING and not outcome.user.licensed


def test_a_webex_create_sends_user_type_then_gives_the_licence():
    script = (
        Script()
        .on("POST", f"/identity/scim/{ORG}/v2/Users", reply(201, webex_user()))
        .on("PATCH", "/v1/licenses/users", reply(200, {"licenses": [LICENCE]}))
    )
    outcome = connector(WEBEX_BASE, script, "webex").create_user(SPEC)
    assert isinstance(outcome, Created) and outcome.user.licensed
    sent = json.loads(script.calls[0].content)
    assert sent["userType"] == "user" and sent["userName"] == SPEC.email
    assert "entitlements" not in sent
    licence = json.loads(script.calls[1].content)
    assert licence == {
        "personId": person_id("3426a8e3-d414-4bf0-a493-4f6787632a13"),
        "licenses": [{"id": LICENCE, "operation": "add"}],
    }


def test_a_webex_licence_refused_in_part_keeps_the_create_unlicensed():
    """206: Webex made some changes and not others (W-b); the user exists all the same."""
    script = (
        Script()
        .on("POST", f"/identity/scim/{ORG}/v2/Users", reply(201, webex_user()))
        .on("PATCH", "/v1/licenses/users", reply(206, {"licenses": []}))
    )
    outcome = connector(WEBEX_BASE, script, "webex").create_user(SPEC)
    assert isinstance(outcome, Created) and not outcome.user.licensed


def test_the_people_api_is_found_beside_the_scim_api():
    assert webex_people_base(WEBEX_BASE) == "https://webexapis.test/v1"
    sandbox = "http://127.0.0.1:8100/webex/identity/scim/x/v2"
    assert webex_people_base(sandbox) == "http://127.0.0.1:8100/webex/v1"


def test_a_zoom_user_reads_its_licence_from_user_type_and_its_login_from_the_extension():
    script = Script().on("GET", "/scim2/Users/z1", reply(200, zoom_user("Basic")))
    outcome = connector(ZOOM_BASE, script, "zoom").get_user("z1")
    assert isinstance(outcome, Ok) and outcome.user is not None
    assert not outcome.user.licensed and outcome.user.login_types == ("sso",)


def test_a_zoom_create_and_licence_go_through_user_type():
    script = (
        Script()
        .on("POST", "/scim2/Users", reply(201, zoom_user("Licensed")))
        .on("GET", "/scim2/Users/z1", reply(200, zoom_user("Licensed")))
        .on("PATCH", "/scim2/Users/z1", reply(200, zoom_user("Basic")))
    )
    zoom = connector(ZOOM_BASE, script, "zoom")
    created = zoom.create_user(SPEC)
    assert isinstance(created, Created) and created.user.licensed
    assert json.loads(script.calls[0].content)["userType"] == "Licensed"
    assert isinstance(zoom.set_licence("z1", False), Ok)
    patch = json.loads(script.calls[-1].content)
    assert patch["Operations"] == [{"op": "replace", "path": "userType", "value": "Basic"}]


def test_zoom_is_searched_by_user_name_only():
    """Zoom's SCIM filters on userName and externalId; emails.value would be refused."""
    empty = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "Resources": []}
    empty["totalResults"] = 0
    script = Script().on("GET", "/scim2/Users", reply(200, empty))
    connector(ZOOM_BASE, script, "zoom").find_by_address([SPEC.email])
    filters = [c.url.params["filter"] for c in script.calls]
    assert filters == [f'userName eq "{SPEC.email}"']


def test_a_zoom_user_reactivated_gets_its_licence_back():
    """Deactivating took the licence (as Zoom's Users API does): reactivate gives it back."""
    script = (
        Script()
        .on(
            "PATCH",
            "/scim2/Users/z1",
            reply(200, zoom_user("Basic")),
            reply(200, zoom_user("Licensed")),
        )
        .on(
            "GET",
            "/scim2/Users/z1",
            reply(200, zoom_user("Basic")),
            reply(200, zoom_user("Basic")),
        )
    )
    outcome = connector(ZOOM_BASE, script, "zoom").reactivate("z1")
    assert isinstance(outcome, Ok) and outcome.user is not None and outcome.user.licensed
    sent = [json.loads(c.content)["Operations"] for c in script.calls if c.method == "PATCH"]
    assert sent == [
        [{"op": "replace", "path": "active", "value": True}],
        [{"op": "replace", "path": "userType", "value": "Licensed"}],
    ]
