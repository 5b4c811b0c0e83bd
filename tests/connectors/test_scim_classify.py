"""SCIM answers that a well-behaved server will not give on demand → typed outcomes."""

from __future__ import annotations

import httpx
import pytest

from campusconf.connectors import (
    AlreadyExists,
    ListingFailed,
    NotFound,
    RateLimited,
    Rejected,
    TransientFailure,
    UnknownOutcome,
    UserSpec,
)
from campusconf.connectors.scim import ScimConnector
from tests.connectors.scripted_httpx import Script, reply

SPEC = UserSpec("1234567890@g.ecc.example.ac.jp", "Taro", "Yamada", "Taro Yamada")
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


def scim(script: Script) -> ScimConnector:
    return ScimConnector(
        "https://idp.test/scim/v2", "t", transport=script.transport, sleep=lambda _s: None
    )


def scim_error(status: int, detail: str, scim_type: str | None = None) -> httpx.Response:
    body = {"schemas": [ERROR], "status": str(status), "detail": detail}
    if scim_type:
        body["scimType"] = scim_type
    return reply(status, body, {"content-type": "application/scim+json", "x-request-id": "req-1"})


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (scim_error(409, "taken", "uniqueness"), AlreadyExists),
        (scim_error(400, "bad", "invalidValue"), Rejected),
        (scim_error(500, "boom"), UnknownOutcome),
        (reply(503, "<html>maintenance</html>"), UnknownOutcome),
        (reply(429, "slow down", {"Retry-After": "3"}), RateLimited),
        (reply(201, "<html>ok?</html>"), UnknownOutcome),
        (httpx.ReadTimeout("slow"), UnknownOutcome),
        (httpx.ConnectError("refused"), TransientFailure),
    ],
)
def test_create_answers(answer, expected):
    script = Script().on("POST", "/scim/v2/Users", answer)
    assert isinstance(scim(script).create_user(SPEC), expected)


def test_reads_map_status_and_keep_the_request_id():
    script = Script().on("GET", "/scim/v2/Users/u1", scim_error(404, "no such user"))
    outcome = scim(script).get_user("u1")
    assert isinstance(outcome, NotFound)
    assert outcome.tracking_id == "req-1" and outcome.http_status == 404


def test_a_503_on_a_read_is_transient():
    script = Script().on("GET", "/scim/v2/Users/u1", reply(503, "<html>maintenance</html>"))
    assert isinstance(scim(script).get_user("u1"), TransientFailure)


def test_a_list_page_that_is_not_a_list_response_stops_the_listing():
    script = Script().on(
        "GET", "/scim/v2/Users", reply(200, {"schemas": ["urn:x"], "totalResults": "many"})
    )
    with pytest.raises(ListingFailed) as failed:
        list(scim(script).iter_users())
    assert isinstance(failed.value.outcome, TransientFailure)
    assert "broke the API contract" in failed.value.outcome.reason


def test_reinvite_is_not_a_scim_operation():
    from campusconf.connectors import VendorUser

    assert isinstance(scim(Script()).reinvite(VendorUser("u1", SPEC.email)), Rejected)


def test_reactivate_patches_active_true_and_reads_the_user_back():
    import json

    from campusconf.connectors import Ok, UserState

    user = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": "u1",
        "userName": SPEC.email,
        "active": True,
        "entitlements": [{"value": "licensed"}],
    }
    headers = {"content-type": "application/scim+json"}
    script = (
        Script()
        .on("PATCH", "/scim/v2/Users/u1", reply(200, user, headers))
        .on("GET", "/scim/v2/Users/u1", reply(200, user, headers))
    )
    outcome = scim(script).reactivate("u1")
    assert isinstance(outcome, Ok) and outcome.user is not None
    assert outcome.user.state is UserState.ACTIVE and outcome.user.licensed
    patch = json.loads(script.calls[0].content)
    assert patch["Operations"] == [{"op": "replace", "path": "active", "value": True}]


def test_reactivate_of_a_missing_user_is_not_found():
    script = Script().on("PATCH", "/scim/v2/Users/u1", scim_error(404, "no such user"))
    assert isinstance(scim(script).reactivate("u1"), NotFound)
