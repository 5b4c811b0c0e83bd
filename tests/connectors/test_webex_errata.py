"""Webex as Cisco's own spec describes it, where it differs from what SDKs show (Errata
W-a … W-e, docs/vendors.md): recorded answers through the transport seam."""

from __future__ import annotations

import json

import pytest

from campusconf.connectors import (
    NotAuthorised,
    Ok,
    RateLimited,
    Rejected,
    TransientFailure,
    UnknownOutcome,
    UserState,
)
from tests.connectors.scripted import Script, reply
from tests.connectors.test_webex_classify import SPEC, error, person, webex


@pytest.mark.parametrize(
    ("pending", "enabled", "state"),
    [
        ("true", "true", UserState.PENDING),
        ("false", "true", UserState.ACTIVE),
        ("false", "false", UserState.INACTIVE),
        ("true", "false", UserState.INACTIVE),
    ],
)
def test_the_admin_flags_are_read_as_the_spec_types_them(pending, enabled, state):
    # W-a: Cisco's webex-admin.json types invitePending and loginEnabled as "true"/"false".
    script = Script().on(
        "GET", "/v1/people/P1", reply(200, person(invitePending=pending, loginEnabled=enabled))
    )
    outcome = webex(script).get_user("P1")
    assert isinstance(outcome, Ok) and outcome.user is not None
    assert outcome.user.state is state


@pytest.mark.parametrize("missing", ["invitePending", "loginEnabled"])
def test_absent_admin_flags_never_read_as_active(missing):
    # W-a: "only returned if the caller is an admin": without them the state is unknown,
    # and the answer is refused with the cause named, never taken for an active user.
    record = person()
    del record[missing]
    script = Script().on("GET", "/v1/people", reply(200, {"items": [record]}))
    outcome = webex(script).find_by_address([SPEC.email])
    assert isinstance(outcome, TransientFailure)
    assert missing in outcome.reason and "admin" in outcome.reason


def test_listing_licences_without_the_scope_names_the_scope():
    # W-b: GET /licenses needs spark-admin:licenses_read beside the people scopes. A
    # missing scope is the service's problem, not the member's: it pauses the service.
    script = Script().on("GET", "/v1/licenses", reply(403, error("Forbidden")))
    outcome = webex(script).create_user(SPEC)
    assert isinstance(outcome, NotAuthorised) and outcome.http_status == 403
    assert outcome.missing_scopes == ("spark-admin:licenses_read",)
    assert "licence_id" in outcome.reason
    assert script.paths("POST") == []  # nothing was created without a licence


def _patched(status, licences, pending=()):
    body = {"personId": "P1", "email": SPEC.email, "licenses": list(licences)}
    if pending:
        body["pendingLicenses"] = list(pending)
    return reply(status, body)


def test_a_partial_licence_patch_that_left_ours_out_is_refused():
    # W-b: 206 "Partial Content": the body lists what the person now holds.
    script = Script().on("PATCH", "/v1/licenses/users", _patched(206, ["LIC-MS"]))
    outcome = webex(script).set_licence("P1", True)
    assert isinstance(outcome, Rejected) and outcome.http_status == 206
    assert "LIC-EE" in outcome.reason


@pytest.mark.parametrize(
    ("licensed", "answer"),
    [
        (True, _patched(206, ["LIC-EE"])),
        (True, _patched(206, [], pending=["LIC-EE"])),  # outside the org: pending
        (False, _patched(206, ["LIC-MS"])),
    ],
)
def test_a_partial_licence_patch_that_made_our_change_is_ok(licensed, answer):
    script = Script().on("PATCH", "/v1/licenses/users", answer)
    assert isinstance(webex(script).set_licence("P1", licensed), Ok)


def test_a_put_writes_back_every_field_with_login_enabled_as_a_boolean():
    # W-d: PUT replaces the whole person and takes loginEnabled as a boolean, while a read
    # gives it as a string: every field PUT accepts goes back, the flag as a boolean.
    current = person(
        invitePending="false",
        loginEnabled="true",
        phoneNumbers=[{"type": "work", "value": "+81 3 1234 5678"}],
        extension="1234",
        locationId="LOC1",
        siteUrls=["campusconf.webex.com#attendee"],
        roles=["R1"],
        department="Science",
    )
    disabled = {**current, "loginEnabled": "false"}
    script = (
        Script()
        .on("GET", "/v1/people/P1", reply(200, current))
        .on("PUT", "/v1/people/P1", reply(200, disabled))
    )
    outcome = webex(script).deactivate("P1")
    assert isinstance(outcome, Ok) and outcome.user is not None
    assert outcome.user.state is UserState.INACTIVE
    body = json.loads(script.calls[-1].content)
    assert body["loginEnabled"] is False
    for key in ("phoneNumbers", "extension", "locationId", "siteUrls", "roles", "licenses"):
        assert body[key] == current[key]
    assert body["emails"] == [SPEC.email]
    assert "invitePending" not in body and "created" not in body


def test_a_string_flag_that_is_already_as_wanted_writes_nothing():
    script = Script().on(
        "GET", "/v1/people/P1", reply(200, person(invitePending="false", loginEnabled="true"))
    )
    assert isinstance(webex(script).reactivate("P1"), Ok)
    assert script.paths("PUT") == []


def test_a_person_with_several_addresses_is_not_put_with_a_guessed_primary():
    # W-d: a PUT must list the primary address first, and a read's order is not
    # guaranteed: rather than change the primary address, nothing is written.
    two = person(emails=["alias@example.ac.jp", SPEC.email], invitePending=False)
    script = Script().on("GET", "/v1/people/P1", reply(200, two))
    outcome = webex(script).deactivate("P1")
    assert isinstance(outcome, Rejected) and "primary" in outcome.reason
    assert script.paths("PUT") == []


@pytest.mark.parametrize("status", [429, 423])
def test_a_rate_limit_without_retry_after_waits_fifteen_seconds(status):
    # W-e: Webex says a Retry-After "should be present"; Cisco's SDK waits 15 s without.
    script = Script().on("GET", "/v1/people/P1", reply(status, error("Too many requests")))
    outcome = webex(script).get_user("P1")
    assert isinstance(outcome, RateLimited)
    assert outcome.retry_after == 15.0 and outcome.wait_seconds() == 15.0


def test_a_create_sends_no_calling_data_and_a_400_is_still_looked_up():
    # W-c: "400 although created" is documented for requests with callingData, which we
    # never send; a 400 on a create is still an unknown outcome (looked up before a retry).
    script = Script().on("POST", "/v1/people", reply(400, error("Bad request")))
    outcome = webex(script).create_user(SPEC)
    assert isinstance(outcome, UnknownOutcome)
    sent = script.calls[-1]
    assert "callingData" not in sent.params and "callingData" not in json.loads(sent.content)


def test_a_read_by_id_list_without_licences_leaves_the_licence_unknown():
    # W-i: Cisco's "List People" says GET /people?id= leaves out "administrative fields
    # like licenses, roles". Then the licence is unknown (partial), never "unlicensed".
    bare = person(pid="P2", invitePending="false", loginEnabled="true")
    del bare["licenses"]
    body = {"items": [person(), bare], "notFoundIds": ["P3"]}
    script = Script().on("GET", "/v1/people", reply(200, body))
    found = webex(script).get_users(["P1", "P2", "P3"])
    assert isinstance(found, dict) and sorted(found) == ["P1", "P2"]
    p1, p2 = found["P1"], found["P2"]
    assert (p1.state, p1.licensed, p1.partial) == (UserState.PENDING, True, False)
    assert (p2.state, p2.partial) == (UserState.ACTIVE, True)
    assert script.calls[-1].params["id"] == "P1,P2,P3"


def test_a_read_by_id_list_without_the_invitation_flags_is_refused():
    # W-i: should such a list leave out invitePending/loginEnabled too, it cannot tell
    # pending from active: Rejected, and the watch reads one person at a time.
    record = person()
    del record["invitePending"]
    script = Script().on("GET", "/v1/people", reply(200, {"items": [record]}))
    outcome = webex(script).get_users(["P1"])
    assert isinstance(outcome, Rejected) and "invitePending" in outcome.reason
