"""Webex answers (recorded from docs/vendors.md and the People API reference) → typed outcomes."""

from __future__ import annotations

import json

import pytest

from campusconf.connectors import (
    AlreadyExists,
    AuthProblem,
    Created,
    ListingFailed,
    NotAuthorised,
    NotFound,
    Ok,
    RateLimited,
    RateScope,
    Rejected,
    TransientFailure,
    UnknownOutcome,
    UserSpec,
    UserState,
    VendorUser,
)
from campusconf.connectors.tokens import MemoryTokenStore
from campusconf.connectors.transport import http_client
from campusconf.connectors.webex import WebexConnector, WebexCredentials
from tests.connectors.scripted import Script, reply

BASE = "https://webex.test/v1"
LICENCES = reply(
    200,
    {
        "items": [
            {
                "id": "LIC-EE",
                "name": "Meeting - Webex Enterprise Edition",
                "totalUnits": 100,
                "consumedUnits": 1,
            },
            {"id": "LIC-MS", "name": "Messaging", "totalUnits": 100, "consumedUnits": 1},
        ]
    },
)
SPEC = UserSpec("1234567890@g.ecc.example.ac.jp", "Taro", "Yamada", "Taro Yamada")


def person(pid="P1", email=SPEC.email, **extra):
    record = {
        "id": pid,
        "emails": [email],
        "displayName": "Taro Yamada",
        "firstName": "Taro",
        "lastName": "Yamada",
        "orgId": "ORG",
        "licenses": ["LIC-EE"],
        "roles": [],
        "created": "2026-11-21T10:00:00.000Z",
        "invitePending": True,
        "loginEnabled": True,
        "type": "person",
    }
    record.update(extra)
    return record


def error(message, tracking="ROUTER_1"):
    return {"message": message, "errors": [{"description": message}], "trackingId": tracking}


def webex(
    script: Script, credentials: WebexCredentials | None = None, **kwargs: object
) -> WebexConnector:
    script.on("GET", "/v1/licenses", LICENCES)
    return WebexConnector(
        credentials or WebexCredentials("tok-1"),
        base_url=BASE,
        licence_name="Meeting - Webex Enterprise Edition",
        transport=script.transport,
        sleep=lambda _s: None,
        **kwargs,  # type: ignore[arg-type]
    )


def test_create_sends_the_licence_by_id_and_answers_created():
    script = Script().on("POST", "/v1/people", reply(200, person(), {"trackingid": "ROUTER_A"}))
    outcome = webex(script).create_user(SPEC)
    assert isinstance(outcome, Created)
    assert outcome.user.vendor_id == "P1" and outcome.user.licensed
    assert outcome.user.state is UserState.PENDING and outcome.tracking_id == "ROUTER_A"
    body = json.loads(script.calls[-1].content)
    assert body == {
        "emails": [SPEC.email],
        "displayName": "Taro Yamada",
        "firstName": "Taro",
        "lastName": "Yamada",
        "licenses": ["LIC-EE"],
    }
    assert script.calls[-1].headers["authorization"] == "Bearer tok-1"


def test_a_400_on_create_is_unknown_because_webex_may_have_created_it():
    script = Script().on("POST", "/v1/people", reply(400, error("Bad request", "ROUTER_B")))
    outcome = webex(script).create_user(SPEC)
    assert isinstance(outcome, UnknownOutcome)
    assert outcome.tracking_id == "ROUTER_B" and outcome.http_status == 400


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (409, AlreadyExists),
        (404, NotFound),
        (410, NotFound),
        (403, NotAuthorised),
        (500, TransientFailure),
        (502, TransientFailure),
    ],
)
def test_status_codes_on_a_read(status, expected):
    script = Script().on("GET", "/v1/people/P1", reply(status, error("x")))
    assert isinstance(webex(script).get_user("P1"), expected)


@pytest.mark.parametrize("status", [429, 423])
def test_429_and_423_carry_retry_after(status):
    script = Script().on(
        "GET", "/v1/people/P1", reply(status, error("Too many requests"), {"Retry-After": "7"})
    )
    outcome = webex(script).get_user("P1")
    assert isinstance(outcome, RateLimited)
    assert outcome.retry_after == 7 and outcome.scope is RateScope.QPS


def test_time_out_on_a_write_is_unknown():
    script = Script().on("POST", "/v1/people", http_client.ReadTimeout("slow"))
    assert isinstance(webex(script).create_user(SPEC), UnknownOutcome)


def test_wrong_types_are_a_typed_failure():
    script = Script().on("GET", "/v1/people/P1", reply(200, person(invitePending="yes")))
    outcome = webex(script).get_user("P1")
    assert isinstance(outcome, TransientFailure) and "invitePending" in outcome.reason


def test_find_tries_each_address_in_order():
    script = Script().on(
        "GET", "/v1/people", reply(200, {"items": []}), reply(200, {"items": [person()]})
    )
    outcome = webex(script).find_by_address(["alias@x", SPEC.email])
    assert isinstance(outcome, Ok) and outcome.user is not None and outcome.user.email == SPEC.email
    emails = [r.params.get("email") for r in script.calls if r.path == "/v1/people"]
    assert emails == ["alias@x", SPEC.email]


def test_listing_follows_link_next_and_refuses_a_foreign_link():
    first = reply(
        200, {"items": [person("P1")]}, {"Link": f'<{BASE}/people?max=1&cursor=2>; rel="next"'}
    )
    foreign = reply(
        200, {"items": [person("P2")]}, {"Link": '<https://evil.test/v1/people?c=3>; rel="next"'}
    )
    script = Script().on("GET", "/v1/people", first, foreign)
    listing = webex(script).iter_users(page_size=1)
    assert next(listing).vendor_id == "P1"
    # The bearer token would go wherever the link points: the page is refused.
    with pytest.raises(ListingFailed):
        next(listing)
    assert script.calls[2].params["cursor"] == "2"


def test_update_profile_puts_the_whole_person_back():
    current = person(roles=["R1"], department="Science")
    script = (
        Script()
        .on("GET", "/v1/people/P1", reply(200, current))
        .on("PUT", "/v1/people/P1", reply(200, person(firstName="Hanako")))
    )
    outcome = webex(script).update_profile("P1", first_name="Hanako")
    assert isinstance(outcome, Ok)
    body = json.loads(script.calls[-1].content)
    assert (
        body["firstName"] == "Hanako"
        and body["roles"] == ["R1"]
        and body["department"] == "Science"
    )
    assert "created" not in body and "id" not in body


def test_set_licence_patches_by_person_id():
    script = Script().on("PATCH", "/v1/licenses/users", reply(200, {"personId": "P1"}))
    assert isinstance(webex(script).set_licence("P1", False), Ok)
    assert json.loads(script.calls[-1].content) == {
        "personId": "P1",
        "licenses": [{"id": "LIC-EE", "operation": "remove"}],
    }


def test_deactivate_sets_login_enabled_false():
    script = (
        Script()
        .on("GET", "/v1/people/P1", reply(200, person()))
        .on("PUT", "/v1/people/P1", reply(200, person(loginEnabled=False)))
    )
    outcome = webex(script).deactivate("P1")
    assert (
        isinstance(outcome, Ok)
        and outcome.user is not None
        and outcome.user.state is UserState.INACTIVE
    )
    assert json.loads(script.calls[-1].content)["loginEnabled"] is False


def test_token_refresh_near_expiry_and_on_401_keeps_the_rotated_tokens():
    store = MemoryTokenStore()
    refreshed = reply(
        200,
        {
            "access_token": "tok-2",
            "expires_in": 1209600,
            "refresh_token": "ref-2",
            "refresh_token_expires_in": 7776000,
        },
    )
    script = (
        Script()
        .on("POST", "/v1/access_token", refreshed)
        .on("GET", "/v1/people/P1", reply(200, person()))
    )
    creds = WebexCredentials("tok-1", "ref-1", "cid", "secret", expires_at=1000.0)
    connector = webex(script, creds, clock=lambda: 900.0, token_store=store)
    assert isinstance(connector.get_user("P1"), Ok)
    token_call = next(r for r in script.calls if r.path == "/v1/access_token")
    form = dict(x.split("=") for x in token_call.content.decode().split("&"))
    assert form == {
        "grant_type": "refresh_token",
        "client_id": "cid",
        "client_secret": "secret",
        "refresh_token": "ref-1",
    }
    stored = store.load()
    assert stored is not None
    assert (stored.access_token, stored.refresh_token) == ("tok-2", "ref-2")
    assert stored.refresh_expires_at == 900.0 + 7776000
    assert script.calls[-1].headers["authorization"] == "Bearer tok-2"

    script.routes[("GET", "/v1/people/P1")].insert(0, reply(401, error("Unauthorized")))
    assert isinstance(connector.get_user("P1"), Ok)
    assert len(script.paths("POST")) == 2 and store.load().generation == 3


def test_without_refresh_credentials_a_401_is_not_authorised():
    script = Script().on("GET", "/v1/people/P1", reply(401, error("Unauthorized")))
    outcome = webex(script).get_user("P1")
    assert isinstance(outcome, NotAuthorised) and outcome.problem is AuthProblem.CREDENTIAL
    assert "no refresh token" in outcome.reason


def test_reinvite_replaces_the_pending_person():
    script = (
        Script()
        .on("DELETE", "/v1/people/P1", reply(204))
        .on("POST", "/v1/people", reply(200, person("P2")))
    )
    pending = VendorUser("P1", SPEC.email, "Taro", "Yamada", "Taro Yamada", UserState.PENDING, True)
    outcome = webex(script).reinvite(pending)
    assert isinstance(outcome, Created) and outcome.user.vendor_id == "P2"


def test_ambiguous_licence_is_rejected_not_guessed():
    script = Script().on("GET", "/v1/licenses", LICENCES)
    connector = WebexConnector(WebexCredentials("t"), base_url=BASE, transport=script.transport)
    assert isinstance(connector.create_user(SPEC), Rejected)


def test_reactivate_puts_the_whole_person_back_with_login_enabled():
    disabled = person(roles=["R1"], department="Science", loginEnabled=False, invitePending=False)
    script = (
        Script()
        .on("GET", "/v1/people/P1", reply(200, disabled))
        .on("PUT", "/v1/people/P1", reply(200, {**disabled, "loginEnabled": True}))
    )
    outcome = webex(script).reactivate("P1")
    assert isinstance(outcome, Ok) and outcome.user is not None
    assert (outcome.user.vendor_id, outcome.user.state) == ("P1", UserState.ACTIVE)
    body = json.loads(script.calls[-1].content)
    assert body["loginEnabled"] is True
    assert body["licenses"] == ["LIC-EE"] and body["roles"] == ["R1"]
    assert body["department"] == "Science" and body["displayName"] == "Taro Yamada"


def test_reactivate_of_an_enabled_person_writes_nothing():
    script = Script().on("GET", "/v1/people/P1", reply(200, person(invitePending=False)))
    assert isinstance(webex(script).reactivate("P1"), Ok)
    assert script.paths("PUT") == []


def test_a_failed_put_that_changed_some_fields_is_put_back_whole():
    disabled = person(roles=["R1"], loginEnabled=False, invitePending=False)
    # The PUT failed, but Webex had already enabled sign-in and emptied the licences.
    half = {**disabled, "loginEnabled": True, "licenses": []}
    restored = {**disabled, "loginEnabled": True}
    script = (
        Script()
        .on("GET", "/v1/people/P1", reply(200, disabled), reply(200, half))
        .on("PUT", "/v1/people/P1", reply(500, error("boom")), reply(200, restored))
    )
    outcome = webex(script).reactivate("P1")
    assert isinstance(outcome, Ok) and outcome.user is not None and outcome.user.licensed
    puts = [json.loads(r.content) for r in script.calls if r.method == "PUT"]
    assert len(puts) == 2 and puts[0] == puts[1]
    assert puts[1]["licenses"] == ["LIC-EE"] and puts[1]["loginEnabled"] is True


def test_a_failed_put_that_changed_nothing_stays_a_failure():
    disabled = person(loginEnabled=False, invitePending=False)
    script = (
        Script()
        .on("GET", "/v1/people/P1", reply(200, disabled))
        .on("PUT", "/v1/people/P1", reply(502, error("bad gateway")))
    )
    assert isinstance(webex(script).reactivate("P1"), TransientFailure)
    assert len(script.paths("PUT")) == 1


def test_a_failed_put_that_took_effect_is_ok():
    disabled = person(loginEnabled=False, invitePending=False)
    script = (
        Script()
        .on(
            "GET",
            "/v1/people/P1",
            reply(200, disabled),
            reply(200, {**disabled, "loginEnabled": True}),
        )
        .on("PUT", "/v1/people/P1", http_client.ReadTimeout("lost"))
    )
    outcome = webex(script).reactivate("P1")
    assert isinstance(outcome, Ok) and outcome.user is not None
    assert outcome.user.state is UserState.ACTIVE and len(script.paths("PUT")) == 1


def test_a_half_applied_put_that_cannot_be_put_back_is_unknown():
    disabled = person(loginEnabled=False, invitePending=False)
    half = {**disabled, "licenses": []}
    script = (
        Script()
        .on("GET", "/v1/people/P1", reply(200, disabled), reply(200, half))
        .on("PUT", "/v1/people/P1", reply(500, error("boom")))
    )
    assert isinstance(webex(script).reactivate("P1"), UnknownOutcome)
    assert len(script.paths("PUT")) == 2


def test_reactivate_gives_back_a_licence_a_half_applied_put_emptied_earlier():
    # An earlier attempt left sign-in on but no licence: enabling is a no-op, the
    # licence is added.
    half = person(invitePending=False, licenses=[])
    script = (
        Script()
        .on("GET", "/v1/people/P1", reply(200, half))
        .on("PATCH", "/v1/licenses/users", reply(200, {"personId": "P1"}))
    )
    outcome = webex(script).reactivate("P1")
    assert isinstance(outcome, Ok) and outcome.user is not None and outcome.user.licensed
    assert script.paths("PUT") == []
    assert json.loads(script.calls[-1].content)["licenses"] == [
        {"id": "LIC-EE", "operation": "add"}
    ]
