"""The contract checker on answers and requests that break the vendors' contracts.

Each case is an exchange a real vendor (or our sandbox) could produce, written out;
the checker must name what is wrong, and let pass what the vendors really answer,
including where they differ from their documents (docs/vendors.md).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from campusconf.connectors.contract import Exchange, check, check_webhook
from tests.connectors.conftest import variant_combinations
from vendor_sandbox import variants

WEBEX = "https://webexapis.com/v1"
ZOOM = "https://api.zoom.us/v2"
JSON = {"Content-Type": "application/json"}
BEARER = {"Authorization": "Bearer t"}
PERSON = {
    "id": "Y2lzY29zcGFyazovL3VzL1BFT1BMRS9hYmM",
    "emails": ["taro@example.ac.jp"],
    "displayName": "Taro",
    "created": "2026-04-01T00:00:00.000Z",
    "type": "person",
}


def exchange(
    method: str,
    url: str,
    status: int,
    answer: Any = None,
    *,
    body: Any = None,
    headers: dict[str, str] | None = None,
    request_headers: dict[str, str] | None = None,
) -> Exchange:
    sent = json.dumps(body).encode() if body is not None else None
    out_headers = {**BEARER, **(JSON if sent else {}), **(request_headers or {})}
    data = json.dumps(answer).encode() if answer is not None else b""
    in_headers = {**(JSON if data else {}), **(headers or {})}
    return Exchange(method, url, out_headers, sent, status, in_headers, data)


def webex_get(answer: Any, status: int = 200, **headers: str) -> Exchange:
    return exchange(
        "GET", f"{WEBEX}/people/abc", status, answer, headers={"trackingid": "T", **headers}
    )


def test_a_documented_person_passes():
    assert check(webex_get(PERSON)) == []


@pytest.mark.parametrize("flag", [True, False, "true", "false"])
def test_webex_flags_as_the_spec_types_them_or_as_sdks_show_them(flag: object):
    """W-a: Cisco's spec says the strings "true"/"false"; SDKs show booleans."""
    assert check(webex_get({**PERSON, "invitePending": flag, "loginEnabled": flag})) == []


def test_webex_flags_absent_pass_for_a_caller_that_is_not_admin():
    assert check(webex_get(PERSON)) == []


@pytest.mark.parametrize(
    ("answer", "status", "headers", "expected"),
    [
        ({**PERSON, "invitePending": "yes"}, 200, {"trackingid": "T"}, "invitePending"),
        ({k: v for k, v in PERSON.items() if k != "emails"}, 200, {"trackingid": "T"}, "emails"),
        (PERSON, 200, {}, "trackingid"),
        (PERSON, 201, {"trackingid": "T"}, "Unknown response http status: 201"),
        ({"error": "x"}, 404, {"trackingid": "T"}, "message"),
        (
            {"message": "m", "trackingId": "T"},
            429,
            {"trackingid": "T", "Retry-After": "soon"},
            "soon",
        ),
    ],
    ids=[
        "mistyped-flag",
        "no-address",
        "no-tracking-id",
        "undocumented-status",
        "not-webex-error",
        "retry-after-not-seconds",
    ],
)
def test_a_broken_webex_answer_is_named(answer, status, headers, expected):
    ex = exchange("GET", f"{WEBEX}/people/abc", status, answer, headers=headers)
    problems = check(ex)
    assert problems and expected in "\n".join(problems), problems


def test_a_request_with_an_undocumented_field_is_named():
    body = {"emails": ["a@example.ac.jp"], "displayName": "A", "nickname": "typo"}
    ex = exchange("POST", f"{WEBEX}/people", 200, PERSON, body=body, headers={"trackingid": "T"})
    problems = check(ex)
    assert any("request" in p and "nickname" in p for p in problems), problems


def test_a_request_without_its_token_is_named():
    ex = Exchange(
        "GET",
        f"{WEBEX}/people/abc",
        {},
        None,
        200,
        {"trackingid": "T", **JSON},
        json.dumps(PERSON).encode(),
    )
    assert any("Security" in p for p in check(ex))


def test_a_webex_put_must_carry_the_display_name():
    """W-d: PUT replaces the whole person and requires displayName."""
    ex = exchange(
        "PUT",
        f"{WEBEX}/people/abc",
        200,
        PERSON,
        body={"emails": ["a@example.ac.jp"]},
        headers={"trackingid": "T"},
    )
    assert any("displayName" in p for p in check(ex))


def test_a_partial_licence_answer_is_in_the_contract():
    """W-b: PATCH /licenses/users may answer 206."""
    body = {"personId": "p", "licenses": [{"id": "L", "operation": "add"}]}
    ex = exchange(
        "PATCH",
        f"{WEBEX}/licenses/users",
        206,
        {"personId": "p", "licenses": []},
        body=body,
        headers={"trackingid": "T"},
    )
    assert check(ex) == []


def zoom_429(**headers: str) -> Exchange:
    answer = {"code": 429, "message": "You have exceeded the daily rate limit"}
    body = {"action": "create", "user_info": {"email": "a@example.ac.jp", "type": 2}}
    return exchange(
        "POST", f"{ZOOM}/users", 429, answer, body=body, headers={"x-zm-trackingid": "Z", **headers}
    )


def test_a_daily_cap_answer_with_or_without_its_headers_is_in_the_contract():
    """Z-e: documented with X-RateLimit-Type and an ISO Retry-After; seen with neither."""
    documented = zoom_429(
        **{"X-RateLimit-Type": "Daily-limit", "Retry-After": "2026-12-07T00:00:00Z"}
    )
    assert check(documented) == []
    assert check(zoom_429()) == []
    assert check(zoom_429(**{"X-RateLimit-Type": "Hourly"}))


def test_a_zoom_create_answer_without_an_id_is_named():
    body = {"action": "create", "user_info": {"email": "a@example.ac.jp", "type": 2}}
    ex = exchange(
        "POST",
        f"{ZOOM}/users",
        201,
        {"email": "a@example.ac.jp"},
        body=body,
        headers={"x-zm-trackingid": "Z"},
    )
    assert any("'id' is a required property" in p for p in check(ex))


def test_a_pending_zoom_user_may_come_back_with_little_but_its_type():
    """Z-c: for a pending user the current types promise only `type`."""
    ex = exchange(
        "GET",
        f"{ZOOM}/users/a%40example.ac.jp",
        200,
        {"type": 1, "status": "pending"},
        headers={"x-zm-trackingid": "Z"},
    )
    assert check(ex) == []
    active = exchange(
        "GET",
        f"{ZOOM}/users/u1",
        200,
        {"type": 1, "status": "active"},
        headers={"x-zm-trackingid": "Z"},
    )
    assert check(active), "an active user must carry its id and address"


@pytest.mark.parametrize("login_types", [[24], [27], [97, 98], [11, 21, 23], [1, 100, 101]])
def test_every_published_login_type_is_in_the_contract(login_types: list[int]):
    """Z-f."""
    user = {
        "id": "u1",
        "email": "a@example.ac.jp",
        "type": 2,
        "status": "active",
        "login_types": login_types,
    }
    ex = exchange("GET", f"{ZOOM}/users/u1", 200, user, headers={"x-zm-trackingid": "Z"})
    assert check(ex) == []


def test_an_exchange_outside_every_contract_is_named():
    ex = exchange(
        "GET", "https://api.zoom.us/v2/meetings/1", 200, {}, headers={"x-zm-trackingid": "Z"}
    )
    assert any("Path not found" in p or "not found" in p.lower() for p in check(ex))
    ex = exchange("GET", "https://example.test/v2/users", 200, {})
    assert "no vendor contract covers" in check(ex)[0]


def test_a_sandbox_address_is_checked_as_the_vendor_it_stands_for():
    rebase = {"http://127.0.0.1:8100/webex/v1": WEBEX}
    ex = exchange(
        "GET", "http://127.0.0.1:8100/webex/v1/people/abc", 200, PERSON, headers={"trackingid": "T"}
    )
    assert check(ex, rebase) == []
    assert check(ex) != []


SCIM_CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
CISCO = "urn:scim:schemas:extension:cisco:webexidentity:2.0:User"
WEBEX_SCIM = "https://webexapis.com/identity/scim/org-1/v2"


def webex_scim_user(**changes: Any) -> dict[str, Any]:
    user = {
        "schemas": [SCIM_CORE, CISCO],
        "id": "u1",
        "userName": "a@example.ac.jp",
        "userType": "user",
        CISCO: {"accountStatus": ["active"]},
        "meta": {
            "created": "2026-04-01T00:00:00.000Z",
            "lastModified": "2026-04-01T00:00:00.000Z",
            "version": 'W/"1"',
            "location": f"{WEBEX_SCIM}/Users/u1",
        },
    }
    user.update(changes)
    return user


def test_webex_scim_answers_must_carry_ciscos_extension():
    """W-g."""
    good = exchange(
        "GET", f"{WEBEX_SCIM}/Users/u1", 200, webex_scim_user(), headers={"trackingid": "T"}
    )
    assert check(good) == []
    bare = webex_scim_user(schemas=[SCIM_CORE])
    del bare[CISCO]
    problems = check(
        exchange("GET", f"{WEBEX_SCIM}/Users/u1", 200, bare, headers={"trackingid": "T"})
    )
    assert problems and CISCO in "\n".join(problems)


def test_a_webex_scim_create_without_user_type_is_named():
    """W-g: Webex needs userType on create."""
    body = {"schemas": [SCIM_CORE], "userName": "a@example.ac.jp"}
    ex = exchange(
        "POST",
        f"{WEBEX_SCIM}/Users",
        201,
        webex_scim_user(),
        body=body,
        headers={"trackingid": "T"},
    )
    assert any("userType" in p for p in check(ex))


def test_a_zoom_scim_filter_zoom_does_not_take_is_named():
    ex = exchange(
        "GET",
        "https://api.zoom.us/scim2/Users?filter=emails.value%20eq%20%22a%40example.ac.jp%22",
        200,
        {"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "Resources": []},
        headers={"x-zm-trackingid": "Z"},
    )
    assert any("filter" in p for p in check(ex))


def webhook(event: str, signature: str = "v0=" + "a" * 64) -> tuple[dict[str, str], bytes]:
    body = {
        "event": event,
        "event_ts": 1,
        "payload": {"account_id": "a", "object": {"id": "u", "email": "e"}},
    }
    return {
        "x-zm-signature": signature,
        "x-zm-request-timestamp": "1700000000",
        **JSON,
    }, json.dumps(body).encode()


def test_a_zoom_webhook_is_checked_and_our_answer_too():
    headers, body = webhook("user.activated")
    assert check_webhook(headers, body, (200, {}, b"")) == []
    unsigned = {k: v for k, v in headers.items() if k != "x-zm-signature"}
    assert any("x-zm-signature" in p for p in check_webhook(unsigned, body, None))
    assert check_webhook(headers, body, (500, {}, b""))
    headers, body = webhook("user.exploded")
    assert check_webhook(headers, body, None)


def test_the_suite_runs_every_choice_of_every_variant():
    """A variant added to the sandbox is run by the contract suite without editing it."""
    run = {
        (name, choice)
        for vendor in ("webex", "zoom")
        for combo in variant_combinations(vendor)
        for name, choice in combo.items()
    }
    every = {(v.name, c) for v in variants.VARIANTS.values() for c in v.choices}
    assert every <= run
    for vendor in ("webex", "zoom"):
        assert variant_combinations(vendor)[0] == variants.DEFAULTS
