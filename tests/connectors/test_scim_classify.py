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
from tests.connectors.scripted import Script, reply

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
