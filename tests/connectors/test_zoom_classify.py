"""Zoom answers (recorded from docs/vendors.md's wire formats) → typed outcomes."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

import pytest

from campusconf.connectors import (
    AlreadyExists,
    AuthProblem,
    Created,
    HeldElsewhere,
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
from campusconf.connectors.transport import http_client
from campusconf.connectors.zoom import ZoomConnector, ZoomCredentials
from tests.connectors.scripted import Script, reply

TOKEN = reply(200, {"access_token": "tok-1", "token_type": "bearer", "expires_in": 3600})
SPEC = UserSpec("1234567890@g.ecc.example.ac.jp", "Taro", "Yamada", "Taro Yamada")
TRACK = {"x-zm-trackingid": "v=2.0;clid=aw1;rid=WEB_abc"}


def zoom(script: Script, **kwargs: object) -> ZoomConnector:
    script.on("POST", "/oauth/token", TOKEN)
    return ZoomConnector(
        ZoomCredentials("acct", "cid", "secret"),
        base_url="https://api.zoom.test/v2",
        oauth_base_url="https://zoom.test",
        transport=script.transport,
        sleep=lambda _s: None,
        **kwargs,  # type: ignore[arg-type]
    )


def test_create_answers_created_with_tracking_id():
    body = {
        "id": "z8A",
        "email": SPEC.email,
        "first_name": "Taro",
        "last_name": "Yamada",
        "type": 2,
    }
    script = Script().on("POST", "/v2/users", reply(201, body, TRACK))
    outcome = zoom(script).create_user(SPEC)
    assert isinstance(outcome, Created)
    assert outcome.user.vendor_id == "z8A" and outcome.user.licensed
    assert outcome.user.state is UserState.PENDING
    assert outcome.tracking_id == TRACK["x-zm-trackingid"] and outcome.http_status == 201
    sent = script.calls[-1]
    assert sent.headers["authorization"] == "Bearer tok-1"
    sent_body = json.loads(sent.content)
    assert sent_body["action"] == "create" and sent_body["user_info"]["type"] == 2


@pytest.mark.parametrize(
    ("status", "body", "expected", "code"),
    [
        (409, {"code": 1005, "message": "User already in the account: x"}, AlreadyExists, "1005"),
        # Zoom's reference: 409 "User with that email already exists", inside the account
        # or not: the engine looks the user up to tell (Z-d).
        (
            409,
            {"code": 1005, "message": "User with that email already exists."},
            AlreadyExists,
            "1005",
        ),
        # A paid account elsewhere, as Zoom's forum reports it: not to be linked (Z-d).
        (
            409,
            {"code": 1009, "message": "The user already holds an active account"},
            HeldElsewhere,
            "1009",
        ),
        (400, {"code": 200, "message": "You can add max 10 paid users"}, Rejected, "200"),
        (
            400,
            {
                "code": 300,
                "message": "Validation Failed.",
                "errors": [{"field": "user_info.email", "message": "Invalid field."}],
            },
            Rejected,
            "300",
        ),
        (404, {"code": 1001, "message": "User does not exist: x"}, NotFound, "1001"),
    ],
)
def test_create_error_codes(status, body, expected, code):
    script = Script().on("POST", "/v2/users", reply(status, body, TRACK))
    outcome = zoom(script).create_user(SPEC)
    assert isinstance(outcome, expected)
    assert outcome.vendor_code == code
    assert outcome.tracking_id == TRACK["x-zm-trackingid"]


def test_user_does_not_exist_is_not_found():
    script = Script().on(
        "GET",
        "/v2/users/nobody",
        reply(404, {"code": 1001, "message": "User does not exist: nobody"}),
    )
    assert isinstance(zoom(script).get_user("nobody"), NotFound)


def test_qps_rate_limit_waits_seconds():
    headers = {"X-RateLimit-Category": "Light", "X-RateLimit-Type": "QPS", "Retry-After": "2"}
    message = "You have reached the maximum per-second rate limit for this API. Try again later."
    script = Script().on(
        "GET", "/v2/users/u1", reply(429, {"code": 429, "message": message}, headers)
    )
    outcome = zoom(script).get_user("u1")
    assert isinstance(outcome, RateLimited)
    assert outcome.scope is RateScope.QPS and outcome.retry_after == 2.0
    assert outcome.wait_seconds() == 2.0


def test_daily_cap_waits_until_a_date_time():
    headers = {"X-RateLimit-Type": "Daily-limit", "Retry-After": "2026-11-23T00:00:00Z"}
    script = Script().on(
        "POST",
        "/v2/users",
        reply(429, {"code": 429, "message": "You have exceeded the daily rate limit"}, headers),
    )
    outcome = zoom(script).create_user(SPEC)
    assert isinstance(outcome, RateLimited)
    assert outcome.scope is RateScope.DAILY
    assert outcome.retry_at == datetime(2026, 11, 23, tzinfo=UTC)
    assert outcome.wait_seconds(datetime(2026, 11, 22, 23, 0, tzinfo=UTC)) == 3600


def test_a_daily_cap_without_its_headers_waits_until_the_next_utc_midnight():
    # Zoom forum 18928: the daily cap's 429 came with neither X-RateLimit-Type nor
    # Retry-After, only its message (Z-e). Not a one-second QPS wait: the vendor's reset.
    message = (
        "You have exceeded the daily rate limit (1500) of Create User API requests permitted "
        "for this account. You may resume these requests at GMT 00:00:00."
    )
    script = Script().on("POST", "/v2/users", reply(429, {"code": 429, "message": message}))
    before = datetime.now(UTC)
    outcome = zoom(script).create_user(SPEC)
    assert isinstance(outcome, RateLimited)
    assert outcome.scope is RateScope.DAILY and outcome.retry_after is None
    assert outcome.retry_at is not None
    assert (outcome.retry_at.hour, outcome.retry_at.minute, outcome.retry_at.second) == (0, 0, 0)
    assert outcome.retry_at.utcoffset() == timedelta(0)
    assert before < outcome.retry_at <= before + timedelta(days=1)


def test_a_429_that_names_no_limit_stays_unknown():
    script = Script().on("GET", "/v2/users/u1", reply(429, {"code": 429, "message": "Slow down"}))
    outcome = zoom(script).get_user("u1")
    assert isinstance(outcome, RateLimited) and outcome.scope is RateScope.UNKNOWN
    assert outcome.retry_at is None


def test_5xx_is_transient_on_reads_and_unknown_on_create():
    script = (
        Script()
        .on("GET", "/v2/users/u1", reply(503, "<html>busy</html>"))
        .on("POST", "/v2/users", reply(502, "bad gateway"))
    )
    connector = zoom(script)
    assert isinstance(connector.get_user("u1"), TransientFailure)
    assert isinstance(connector.create_user(SPEC), UnknownOutcome)


@pytest.mark.parametrize(
    "error",
    [
        http_client.ReadTimeout("slow"),
        http_client.ReadError("reset"),
        http_client.RemoteProtocolError("closed"),
    ],
)
def test_a_write_without_answer_is_unknown_and_a_read_transient(error):
    script = Script().on("POST", "/v2/users", error).on("GET", "/v2/users/u1", error)
    connector = zoom(script)
    assert isinstance(connector.create_user(SPEC), UnknownOutcome)
    assert isinstance(connector.get_user("u1"), TransientFailure)


def test_a_refused_connection_is_transient_even_for_a_write():
    script = Script().on("POST", "/v2/users", http_client.ConnectError("refused"))
    assert isinstance(zoom(script).create_user(SPEC), TransientFailure)


def test_malformed_answers_are_typed_failures_logged_with_tracking_id(caplog):
    script = Script()
    script.on("GET", "/v2/users/u1", reply(200, "<html>not json</html>", TRACK))
    script.on("GET", "/v2/users/u2", reply(200, {"id": "u2", "email": 42}, TRACK))
    script.on("POST", "/v2/users", reply(201, {"id": 3}, TRACK))
    connector = zoom(script)
    with caplog.at_level(logging.WARNING, logger="campusconf.connectors"):
        first, second, created = (
            connector.get_user("u1"),
            connector.get_user("u2"),
            connector.create_user(SPEC),
        )
    assert isinstance(first, TransientFailure) and "broke the API contract" in first.reason
    assert isinstance(second, TransientFailure) and "'email'" in second.reason
    # The create answered 201: the user probably exists, so look before retrying.
    assert isinstance(created, UnknownOutcome)
    assert all(TRACK["x-zm-trackingid"] in r.getMessage() for r in caplog.records)
    assert len(caplog.records) == 3


def test_token_is_cached_then_renewed_on_expiry_and_on_401():
    now = [1000.0]
    script = Script().on(
        "GET",
        "/v2/users/u1",
        reply(200, {"id": "u1", "email": "a@x", "status": "active", "type": 2}),
    )
    connector = zoom(script, clock=lambda: now[0])
    for _ in range(3):
        assert isinstance(connector.get_user("u1"), Ok)
    assert script.paths("POST") == ["/oauth/token"]
    token_call = script.calls[0]
    assert token_call.params["grant_type"] == "account_credentials"
    assert token_call.params["account_id"] == "acct"
    assert token_call.headers["authorization"].startswith("Basic ")
    now[0] += 3600
    connector.get_user("u1")
    assert script.paths("POST") == ["/oauth/token"] * 2
    script.routes[("GET", "/v2/users/u1")].insert(
        0, reply(401, {"code": 124, "message": "Invalid access token."})
    )
    assert isinstance(connector.get_user("u1"), Ok)
    assert script.paths("POST") == ["/oauth/token"] * 3


def test_a_token_refused_even_when_new_is_not_authorised_not_looped():
    script = Script().on(
        "GET", "/v2/users/u1", reply(401, {"code": 124, "message": "Invalid access token."})
    )
    outcome = zoom(script).get_user("u1")
    assert isinstance(outcome, NotAuthorised) and outcome.http_status == 401
    assert outcome.problem is AuthProblem.CREDENTIAL
    # The first token and two new ones (tokens.RENEWAL_ROUNDS sends), then it stops.
    assert script.paths("POST") == ["/oauth/token"] * 3


def _page(users, token=""):
    return reply(
        200,
        {
            "next_page_token": token,
            "page_count": 1,
            "page_size": 2,
            "total_records": len(users),
            "users": users,
        },
    )


def _listing_script(*answers_by_status):
    script = Script()
    script.on("GET", "/v2/users", *[a for answers in answers_by_status for a in answers])
    return script


def test_listing_walks_every_status_and_keeps_pending_users_without_id():
    script = _listing_script(
        [
            _page(
                [{"id": "a1", "email": "a1@x", "status": "active", "type": 2, "login_types": [1]}],
                "t2",
            ),
            _page([{"id": "a2", "email": "a2@x", "status": "active", "type": 1}]),
        ],
        [_page([{"id": "i1", "email": "i1@x", "status": "inactive", "type": 1}])],
        [_page([{"email": "p1@x", "status": "pending", "type": 2}])],
    )
    users = list(zoom(script).iter_users(page_size=500))
    assert [u.email for u in users] == ["a1@x", "a2@x", "i1@x", "p1@x"]
    assert users[0].login_types == ("google",) and users[0].licensed and not users[1].licensed
    assert users[3].vendor_id is None and users[3].state is UserState.PENDING
    statuses = [r.params["status"] for r in script.calls if r.method == "GET"]
    assert statuses == ["active", "active", "inactive", "pending"]
    assert {r.params["page_size"] for r in script.calls if r.method == "GET"} == {"300"}
    assert script.calls[2].params["next_page_token"] == "t2"


def test_an_expired_page_token_restarts_that_status_without_duplicates():
    expired = reply(400, {"code": 300, "message": "The next page token is invalid or expired."})
    script = _listing_script(
        [
            _page([{"id": "a1", "email": "a1@x", "status": "active"}], "t2"),
            expired,
            _page([{"id": "a1", "email": "a1@x", "status": "active"}], "t3"),
            _page([{"id": "a2", "email": "a2@x", "status": "active"}]),
        ],
        [_page([])],
        [_page([])],
    )
    assert [u.vendor_id for u in zoom(script).iter_users()] == ["a1", "a2"]


def test_listing_retries_a_short_rate_limit_then_stops_on_a_broken_page():
    limited = reply(
        429, {"code": 429, "message": "slow down"}, {"X-RateLimit-Type": "QPS", "Retry-After": "1"}
    )
    script = _listing_script(
        [limited, _page([{"id": "a1", "email": "a1@x"}], "t2"), reply(200, {"users": "oops"})]
    )
    listing = zoom(script).iter_users()
    assert next(listing).vendor_id == "a1"
    with pytest.raises(ListingFailed) as failed:
        next(listing)
    assert isinstance(failed.value.outcome, TransientFailure)


def test_reinvite_disassociates_the_pending_user_and_creates_it_again():
    created = {
        "id": "new",
        "email": SPEC.email,
        "first_name": "Taro",
        "last_name": "Yamada",
        "type": 2,
    }
    script = (
        Script()
        .on("DELETE", "/v2/users/old", reply(204))
        .on("POST", "/v2/users", reply(201, created))
    )
    pending = VendorUser(
        "old", SPEC.email, "Taro", "Yamada", "Taro Yamada", UserState.PENDING, True
    )
    outcome = zoom(script).reinvite(pending)
    assert isinstance(outcome, Created) and outcome.user.vendor_id == "new"
    assert script.calls[1].params["action"] == "disassociate"


def test_reinvite_of_an_active_user_is_rejected():
    active = VendorUser("u1", SPEC.email, state=UserState.ACTIVE)
    assert isinstance(zoom(Script()).reinvite(active), Rejected)


def test_delete_uses_disassociate_for_pending_users():
    script = Script()
    script.on("GET", "/v2/users/p1", reply(200, {"id": "p1", "email": "p@x", "status": "pending"}))
    script.on("DELETE", "/v2/users/p1", reply(204))
    assert isinstance(zoom(script).delete("p1"), Ok)
    assert script.calls[-1].params["action"] == "disassociate"


# A pending user read alone, as Zoom's reference describes it (Errata Z-c): its id and
# the time of the call; no email, status, type or names.
SPARSE = {"id": "p1", "created_at": "2026-12-06T09:00:00Z"}


def test_a_pending_user_read_by_address_is_that_address_and_partial():
    script = Script().on("GET", f"/v2/users/{SPEC.email}", reply(200, SPARSE, TRACK))
    outcome = zoom(script).find_by_address([SPEC.email])
    assert isinstance(outcome, Ok) and outcome.user is not None
    user = outcome.user
    assert (user.vendor_id, user.email, user.state) == ("p1", SPEC.email, UserState.PENDING)
    assert user.partial and user.created is None  # created_at is the time of the call


def test_a_pending_user_read_by_id_keeps_its_id_and_no_address():
    script = Script().on("GET", "/v2/users/p1", reply(200, SPARSE))
    outcome = zoom(script).get_user("p1")
    assert isinstance(outcome, Ok) and outcome.user is not None
    assert (outcome.user.vendor_id, outcome.user.email) == ("p1", "")
    assert outcome.user.partial and outcome.user.state is UserState.PENDING


def test_a_pending_user_with_an_empty_address_is_read_by_the_key_asked():
    body = {**SPARSE, "email": "", "status": "pending"}
    script = Script().on("GET", f"/v2/users/{SPEC.email}", reply(200, body))
    outcome = zoom(script).find_by_address([SPEC.email])
    assert isinstance(outcome, Ok) and outcome.user is not None
    assert outcome.user.email == SPEC.email and outcome.user.partial


def test_delete_and_reactivate_of_a_sparse_pending_user_are_decided_not_retried():
    script = Script()
    script.on("GET", "/v2/users/p1", reply(200, SPARSE))
    script.on("DELETE", "/v2/users/p1", reply(204))
    assert isinstance(zoom(script).delete("p1"), Ok)
    assert script.calls[-1].params["action"] == "disassociate"
    refused = zoom(Script().on("GET", "/v2/users/p1", reply(200, SPARSE))).reactivate("p1")
    assert isinstance(refused, Rejected) and "never activated" in refused.reason


def test_a_user_with_neither_id_nor_address_breaks_the_contract():
    script = Script().on("GET", "/v2/users", reply(200, {"users": [{"type": 1}]}))
    with pytest.raises(ListingFailed) as failed:
        next(zoom(script).iter_users())
    assert "neither 'id' nor 'email'" in str(failed.value.outcome)


def test_a_create_answered_with_the_id_alone_is_created_at_the_address_sent():
    script = Script().on("POST", "/v2/users", reply(201, {"id": "z9"}, TRACK))
    outcome = zoom(script).create_user(SPEC)
    assert isinstance(outcome, Created)
    assert (outcome.user.vendor_id, outcome.user.email) == ("z9", SPEC.email)
    assert outcome.user.partial


def test_reinvite_of_a_pending_user_without_address_is_refused_not_sent():
    user = VendorUser("p1", "", state=UserState.PENDING, partial=True)
    script = Script()
    assert isinstance(zoom(script).reinvite(user), Rejected)
    assert script.paths("DELETE") == [] and script.paths("POST") == []


@pytest.mark.parametrize(
    ("types", "names"),
    [
        ([0, 1, 99, 100, 101], ("facebook", "google", "api", "zoom", "sso")),
        ([24, 27, 97, 98], ("apple", "microsoft", "mobile", "ringcentral")),
        ([11, 21, 23], ("phone", "wechat", "alipay")),
        ([555], ("login-555",)),
        (["27", None, "x", True], ("microsoft",)),  # what can be read is; the rest skipped
        (1, ("google",)),
    ],
    ids=["documented", "rivet", "china", "unknown", "garbled", "not-a-list"],
)
def test_every_login_type_is_read_and_none_fails_the_user(types, names):
    body = {"id": "u1", "email": SPEC.email, "status": "active", "type": 2, "login_types": types}
    outcome = zoom(Script().on("GET", "/v2/users/u1", reply(200, body))).get_user("u1")
    assert isinstance(outcome, Ok) and outcome.user is not None
    assert outcome.user.login_types == names and not outcome.user.partial


def _zoom_user(status: str, user_type: int) -> http_client.Response:
    record = {"id": "u1", "email": SPEC.email, "status": status, "type": user_type}
    return reply(200, record, TRACK)


def test_reactivate_activates_then_gives_the_licence_back():
    script = (
        Script()
        .on("GET", "/v2/users/u1", _zoom_user("inactive", 1))
        .on("PUT", "/v2/users/u1/status", reply(204))
        .on("PATCH", "/v2/users/u1", reply(204))
    )
    outcome = zoom(script).reactivate("u1")
    assert isinstance(outcome, Ok) and outcome.user is not None
    assert (outcome.user.vendor_id, outcome.user.state) == ("u1", UserState.ACTIVE)
    assert outcome.user.licensed
    writes = [r for r in script.calls if r.method in ("PUT", "PATCH")]
    assert [json.loads(r.content) for r in writes] == [{"action": "activate"}, {"type": 2}]


def test_reactivate_of_an_active_licensed_user_writes_nothing():
    script = Script().on("GET", "/v2/users/u1", _zoom_user("active", 2))
    assert isinstance(zoom(script).reactivate("u1"), Ok)
    assert script.paths("PUT") == [] and script.paths("PATCH") == []


def test_reactivate_after_a_lost_licence_call_only_sets_the_licence():
    # The first attempt activated, then the licence call failed: the retry finds the
    # user active but basic, and sets the licence without activating again.
    script = (
        Script()
        .on("GET", "/v2/users/u1", _zoom_user("active", 1))
        .on("PATCH", "/v2/users/u1", reply(204))
    )
    assert isinstance(zoom(script).reactivate("u1"), Ok)
    assert script.paths("PUT") == [] and script.paths("PATCH") == ["/v2/users/u1"]


def test_reactivate_reports_a_seat_refusal_and_a_pending_user():
    full = {"code": 200, "message": "You can add max 10 paid users"}
    script = (
        Script()
        .on("GET", "/v2/users/u1", _zoom_user("inactive", 1))
        .on("PUT", "/v2/users/u1/status", reply(204))
        .on("PATCH", "/v2/users/u1", reply(400, full, TRACK))
    )
    refused = zoom(script).reactivate("u1")
    assert isinstance(refused, Rejected) and refused.vendor_code == "200"
    pending = Script().on("GET", "/v2/users/u1", _zoom_user("pending", 2))
    assert isinstance(zoom(pending).reactivate("u1"), Rejected)
    assert pending.paths("PUT") == []


def test_reactivate_status_call_failing_is_transient():
    script = (
        Script()
        .on("GET", "/v2/users/u1", _zoom_user("inactive", 1))
        .on("PUT", "/v2/users/u1/status", reply(503, {"code": 0, "message": "busy"}))
    )
    assert isinstance(zoom(script).reactivate("u1"), TransientFailure)
    assert script.paths("PATCH") == []
