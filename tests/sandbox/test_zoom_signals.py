"""What Zoom shows of a member's activation, as the sandbox models it (docs/vendors.md):
a pending user read alone (Z-c), "Check a user email" (Z-b), the variants of "Sign in
with Google" (S12), login types (Z-f), and webhook deliveries with Zoom's retries (Z-g).
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import httpx
import pytest

from tests.fixtures.sandbox import _latest_link, _post_form, activate_zoom, unique_email
from vendor_sandbox.launcher import Sandbox, free_port


def _create(z: httpx.Client, email: str, action: str = "create") -> str:
    info = {"email": email, "type": 2, "first_name": "Hanako", "last_name": "Sato"}
    resp = z.post("/users", json={"action": action, "user_info": info})
    assert resp.status_code == 201, resp.text
    return str(resp.json()["id"])


def _when(stamp: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def _wait_for(probe: Callable[[], Any], what: str, seconds: float = 20) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"gave up waiting for {what}")


def test_a_pending_user_read_alone_is_its_id_and_the_time_of_the_call(
    sandbox: Sandbox,
) -> None:
    email = unique_email("pend")
    with sandbox.zoom() as z:
        user_id = _create(z, email)
        [listed] = z.get("/users", params={"status": "pending"}).json()["users"]
    sandbox.move_clock(days=2)
    with sandbox.zoom() as z:
        for key in (user_id, email):
            alone = z.get(f"/users/{key}").json()
            assert set(alone) == {"id", "created_at"} and alone["id"] == user_id
            # created_at is when we asked, not when the invitation was made
            assert _when(alone["created_at"]) - _when(listed["created_at"]) >= datetime.timedelta(
                days=2
            )


def test_the_full_variant_sends_every_field_with_the_time_of_the_call(
    sandbox: Sandbox,
) -> None:
    sandbox.set_variants(zoom_pending_user_get="full")
    email = unique_email("full")
    with sandbox.zoom() as z:
        user_id = _create(z, email)
    sandbox.move_clock(days=1)
    with sandbox.zoom() as z:  # a day later: a new token
        alone = z.get(f"/users/{user_id}").json()
        [listed] = z.get("/users", params={"status": "pending"}).json()["users"]
    assert alone["status"] == "pending" and alone["email"] == email and alone["type"] == 2
    assert _when(alone["created_at"]) > _when(listed["created_at"])


def _google(sandbox: Sandbox, email: str) -> httpx.Response:
    """The member presses "Sign in with Google" on the activation page."""
    url = _latest_link(sandbox, email, "Activate Zoom Account")
    with httpx.Client(follow_redirects=True, timeout=30) as client:
        return _post_form(client, url, {"action": "google"})


def _org_user(sandbox: Sandbox, email: str) -> dict[str, Any]:
    users = sandbox.admin_response("GET", "users", params={"vendor": "zoom"}).json()["zoom"]
    return next(u for u in users if u["email"] == email)


def _personal(sandbox: Sandbox, email: str) -> list[dict[str, Any]]:
    items = sandbox.admin_response("GET", "personal-accounts").json()["items"]
    return [a for a in items if a["email"] == email]


@pytest.mark.parametrize(
    ("choice", "status", "user_type", "personal"),
    [
        ("personal_outside", "pending", 2, True),
        ("joined_basic", "active", 1, False),
        ("joined_licensed", "active", 2, False),
    ],
)
def test_sign_in_with_google_as_each_variant_has_it(
    sandbox: Sandbox, choice: str, status: str, user_type: int, personal: bool
) -> None:
    sandbox.set_variants(zoom_google_activation=choice)
    email = unique_email("g")
    with sandbox.zoom() as z:
        _create(z, email)
    page = _google(sandbox, email)
    assert "Google" in page.text  # the sign-in method My Account shows
    user = _org_user(sandbox, email)
    assert (user["status"], user["type"]) == (status, user_type)
    assert bool(_personal(sandbox, email)) is personal
    if status == "active":
        assert user["login_types"] == [1]
    with sandbox.zoom() as z:
        # "Check a user email" counts no Google sign-up, inside the account or outside.
        check = z.get("/users/email", params={"email": email}).json()
    assert check == {"existed_email": False}


def test_check_user_email_counts_only_e_mail_sign_ups_in_the_account(
    sandbox: Sandbox,
) -> None:
    inside, pending, outside, sso = (unique_email(p) for p in ("in", "pe", "out", "sso"))
    sandbox.seed_personal("zoom", outside)
    with sandbox.zoom() as z:
        _create(z, inside, "custCreate")
        _create(z, pending)
        _create(z, sso, "ssoCreate")
        answers = {
            e: z.get("/users/email", params={"email": e}).json()["existed_email"]
            for e in (inside, pending, outside, sso)
        }
    assert answers == {inside: True, pending: False, outside: False, sso: False}


def test_a_password_activation_is_an_e_mail_sign_up(sandbox: Sandbox) -> None:
    email = unique_email("pw")
    with sandbox.zoom() as z:
        _create(z, email)
    activate_zoom(sandbox, email)
    with sandbox.zoom() as z:
        assert z.get("/users/email", params={"email": email}).json() == {"existed_email": True}
        assert z.get(f"/users/{email}").json()["login_types"] == [100]


@pytest.mark.parametrize("login_type", [24, 27, 97, 98, 11, 21, 23, 555])
def test_a_join_request_keeps_the_sign_in_method_of_the_account_that_joins(
    sandbox: Sandbox, login_type: int
) -> None:
    """How the sandbox produces any login type (Z-f): a personal account signed in with
    it (the admin API) accepts the university's join request."""
    email = unique_email("lt")
    sandbox.seed_personal("zoom", email, login_type=login_type)
    with sandbox.zoom() as z:
        user_id = _create(z, email)
    url = _latest_link(sandbox, email, "Approve Request")
    with httpx.Client(follow_redirects=True, timeout=30) as client:
        _post_form(client, url, {"action": "approve"})
        assert "Account switched successfully" in _post_form(client, url, {"action": "switch"}).text
    with sandbox.zoom() as z:
        user = z.get(f"/users/{user_id}").json()
    assert user["status"] == "active" and user["login_types"] == [login_type]


class _Hook(BaseHTTPRequestHandler):
    got: list[dict[str, Any]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Hook.got.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def hook_port(sandbox: Sandbox) -> Iterator[int]:
    port = free_port()
    sandbox.admin_response("PUT", "webhook", json={"url": f"http://127.0.0.1:{port}/hook"})
    _Hook.got = []
    yield port
    sandbox.admin_response("PUT", "webhook", json={"url": ""})


def _delivery(sandbox: Sandbox) -> dict[str, Any]:
    [latest] = sandbox.admin_response("GET", "webhook").json()["deliveries"]["latest"]
    return dict(latest)


def _sandbox_now(sandbox: Sandbox) -> str:
    return str(sandbox.admin_response("GET", "clock").json()["now"])


def _tried(sandbox: Sandbox, attempts: int) -> dict[str, Any]:
    return dict(
        _wait_for(
            lambda: (d := _delivery(sandbox))["attempts"] >= attempts and d,
            f"try number {attempts}",
        )
    )


def test_a_receiver_that_never_answers_gets_three_retries_then_the_event_is_dropped(
    sandbox: Sandbox, hook_port: int
) -> None:
    with sandbox.zoom() as z:
        _create(z, unique_email("drop"), "custCreate")
    first = _tried(sandbox, 1)
    assert first["status"] == "queued" and first["event"] == "user.created"
    for attempt, minutes in ((2, 5), (3, 20), (4, 60)):
        failed = _delivery(sandbox)
        # The next try is due that many minutes after the failed one, on the sandbox clock.
        wait = _when(failed["next_attempt_at"]) - _when(_sandbox_now(sandbox))
        assert datetime.timedelta(minutes=minutes - 1) < wait <= datetime.timedelta(minutes=minutes)
        sandbox.move_clock(seconds=minutes * 60)
        assert _tried(sandbox, attempt)["last_error"]
    assert _delivery(sandbox)["status"] == "dropped"
    sandbox.move_clock(days=1)
    assert _delivery(sandbox)["attempts"] == 4  # dropped for good: never tried again


def test_a_receiver_back_before_the_retry_gets_the_event(sandbox: Sandbox, hook_port: int) -> None:
    email = unique_email("back")
    with sandbox.zoom() as z:
        _create(z, email, "custCreate")
    _tried(sandbox, 1)
    server = HTTPServer(("127.0.0.1", hook_port), _Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        sandbox.move_clock(seconds=5 * 60)
        _wait_for(lambda: _delivery(sandbox)["status"] == "delivered", "the retry")
    finally:
        server.shutdown()
        server.server_close()
    assert [e["payload"]["object"]["email"] for e in _Hook.got] == [email]
    assert _delivery(sandbox)["attempts"] == 2


class _Validator(BaseHTTPRequestHandler):
    """An endpoint that answers Zoom's challenge as the documents ask, or wrongly."""

    secret = ""
    wrong = False

    def do_POST(self) -> None:
        event = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        plain = event["payload"]["plainToken"]
        digest = hmac.new(_Validator.secret.encode(), plain.encode(), hashlib.sha256)
        answer = {"plainToken": plain, "encryptedToken": "0" if self.wrong else digest.hexdigest()}
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.parametrize("wrong", [False, True], ids=["answered", "wrong-hash"])
def test_saving_a_receiver_sends_zooms_validation_challenge(sandbox: Sandbox, wrong: bool) -> None:
    _Validator.secret = sandbox.creds["zoom"]["webhook_secret_token"]
    _Validator.wrong = wrong
    server = HTTPServer(("127.0.0.1", free_port()), _Validator)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/hook"
        saved = sandbox.admin_response("PUT", "webhook", json={"url": url}).json()
    finally:
        sandbox.admin_response("PUT", "webhook", json={"url": ""})
        server.shutdown()
        server.server_close()
    assert saved["validation"]["validated"] is not wrong
    dead = sandbox.admin_response(
        "PUT", "webhook", json={"url": f"http://127.0.0.1:{free_port()}/"}
    )
    sandbox.admin_response("PUT", "webhook", json={"url": ""})
    assert dead.json()["validation"]["validated"] is False
