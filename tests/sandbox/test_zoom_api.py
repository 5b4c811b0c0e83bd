"""Zoom Users API wire format: OAuth, users, paging, errors, webhooks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import httpx

from tests.fixtures.sandbox import SmtpCapture, link, unique_email
from vendor_sandbox.launcher import Sandbox, free_port


def _zoom_error(resp: httpx.Response, status: int, code: int) -> dict:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["code"] == code and isinstance(body["message"], str)
    assert resp.headers["x-zm-trackingid"]
    return body


def _create(z: httpx.Client, email: str, action: str = "create", utype: int = 2) -> httpx.Response:
    info = {"email": email, "type": utype, "first_name": "Hanako", "last_name": "Sato"}
    return z.post("/users", json={"action": action, "user_info": info})


def test_oauth_token(sandbox: Sandbox) -> None:
    zoom = sandbox.creds["zoom"]
    basic = base64.b64encode(f"{zoom['client_id']}:{zoom['client_secret']}".encode()).decode()
    params = {"grant_type": "account_credentials", "account_id": zoom["account_id"]}
    ok = httpx.post(zoom["oauth_url"], params=params, headers={"Authorization": f"Basic {basic}"})
    assert ok.status_code == 200
    body = ok.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600
    assert "refresh_token" not in body and "user:write:admin" in body["scope"]
    bad = httpx.post(zoom["oauth_url"], params=params, headers={"Authorization": "Basic eDp5"})
    assert bad.status_code == 401 and bad.json()["error"] == "invalid_client"
    grant = {**params, "grant_type": "password"}
    assert (
        httpx.post(
            zoom["oauth_url"], params=grant, headers={"Authorization": f"Basic {basic}"}
        ).status_code
        == 400
    )
    # an expired token answers Zoom's 124
    with sandbox.zoom() as z:
        assert z.get("/users").status_code == 200
        sandbox.move_clock(seconds=3601)
        _zoom_error(z.get("/users"), 401, 124)
    _zoom_error(httpx.get(f"{zoom['base_url']}/users"), 401, 124)


def test_create_and_lookups(sandbox: Sandbox, smtp_capture: SmtpCapture) -> None:
    email = unique_email("zm")
    with sandbox.zoom() as z:
        resp = _create(z, email)
        assert resp.status_code == 201
        assert set(resp.json()) == {"id", "first_name", "last_name", "email", "type"}
        user_id = resp.json()["id"]
        pending = z.get("/users", params={"status": "pending"}).json()
        assert pending["users"][0]["email"] == email
        assert "id" not in pending["users"][0]  # pending users are listed without id
        assert z.get("/users").json()["total_records"] == 0  # default status=active
        # A pending user read alone: its id and the time of the call, nothing else (Z-c).
        by_id, by_email = z.get(f"/users/{user_id}").json(), z.get(f"/users/{email}").json()
        assert set(by_id) == set(by_email) == {"id", "created_at"}
        assert by_id["id"] == by_email["id"] == user_id
        # a pending invitation alone is not an existing Zoom account
        assert z.get("/users/email", params={"email": email}).json() == {"existed_email": False}
        assert z.get("/users/email", params={"email": "no@x.example"}).json() == {
            "existed_email": False
        }
        assert z.get("/users/summary").json()["pending_users_count"] == 1
        _zoom_error(_create(z, email), 409, 1005)
        # PATCH on a pending user: success, but nothing changes
        assert z.patch(f"/users/{user_id}", json={"first_name": "Changed"}).status_code == 204
        listed = z.get("/users", params={"status": "pending"}).json()["users"]
        assert listed[0]["first_name"] == "Hanako"
        _zoom_error(z.put(f"/users/{user_id}/status", json={"action": "deactivate"}), 400, 1000)
        assert z.delete(f"/users/{email}", params={"action": "disassociate"}).status_code == 204
        _zoom_error(z.get(f"/users/{user_id}"), 404, 1001)
    mail = smtp_capture.wait_for(email, "Activate Zoom Account")
    assert link(mail, "Activate Zoom Account").startswith(sandbox.url + "/zoom/activate/")


def test_active_user_update_status_delete(sandbox: Sandbox) -> None:
    with sandbox.zoom() as z:
        user_id = _create(z, "auto@example.ac.jp", "custCreate").json()["id"]
        user = z.get(f"/users/{user_id}").json()
        assert user["status"] == "active" and user["type"] == 2
        assert (
            z.patch(f"/users/{user_id}", json={"first_name": "New", "dept": "Sci"}).status_code
            == 204
        )
        assert z.get(f"/users/{user_id}").json()["first_name"] == "New"
        _zoom_error(z.patch(f"/users/{user_id}", json={"first_name": 5}), 400, 300)
        _zoom_error(z.patch(f"/users/{user_id}", json={"shoe_size": 5}), 400, 300)
        assert z.put(f"/users/{user_id}/status", json={"action": "deactivate"}).status_code == 204
        after = z.get(f"/users/{user_id}").json()
        assert after["status"] == "inactive" and after["type"] == 1  # licence removed
        assert z.put(f"/users/{user_id}/status", json={"action": "activate"}).status_code == 204
        _zoom_error(z.put(f"/users/{user_id}/status", json={"action": "explode"}), 400, 300)
        # disassociating leaves the person a Zoom account of their own, outside the org
        assert z.delete(f"/users/{user_id}").status_code == 204
        _zoom_error(z.get("/users/auto@example.ac.jp"), 400, 1010)
        _zoom_error(_create(z, "auto@example.ac.jp", "custCreate"), 409, 1009)
        _zoom_error(z.delete("/users/auto@example.ac.jp", params={"action": "nuke"}), 400, 300)


def test_paging_and_token_expiry(sandbox: Sandbox) -> None:
    with sandbox.zoom() as z:
        for i in range(7):
            _create(z, f"pg{i}@example.ac.jp", "ssoCreate")
        first = z.get("/users", params={"page_size": 3}).json()
        assert first["page_size"] == 3 and first["total_records"] == 7 and first["page_count"] == 3
        emails, token = [u["email"] for u in first["users"]], first["next_page_token"]
        while token:
            page = z.get("/users", params={"next_page_token": token}).json()
            emails += [u["email"] for u in page["users"]]
            token = page["next_page_token"]
        assert emails == [f"pg{i}@example.ac.jp" for i in range(7)]
        assert z.get("/users", params={"page_size": 1000}).json()["page_size"] == 300
        stale = z.get("/users", params={"page_size": 3}).json()["next_page_token"]
        sandbox.move_clock(seconds=15 * 60 + 1)
        z.headers["Authorization"] = f"Bearer {sandbox.zoom_token()}"
        _zoom_error(z.get("/users", params={"next_page_token": stale}), 400, 300)


def test_pending_expiry_and_reinvite(sandbox: Sandbox, smtp_capture: SmtpCapture) -> None:
    with sandbox.zoom() as z:
        _create(z, "late@example.ac.jp")
        sandbox.move_clock(days=30.01)
        z.headers["Authorization"] = f"Bearer {sandbox.zoom_token()}"
        assert z.get("/users", params={"status": "pending"}).json()["total_records"] == 0
        _zoom_error(z.get("/users/late@example.ac.jp"), 404, 1001)
        before = smtp_capture.count()
        assert _create(z, "late@example.ac.jp").status_code == 201  # a new invitation
        assert z.get("/users/summary").json()["pending_users_count"] == 1
    smtp_capture.wait_for("late@example.ac.jp", "Activate Zoom Account", after=before)


def test_validation_errors(sandbox: Sandbox) -> None:
    with sandbox.zoom() as z:
        body = _zoom_error(_create(z, "not-an-address"), 400, 300)
        assert body["errors"] == [{"field": "user_info.email", "message": "Invalid field."}]
        _zoom_error(z.post("/users", json={"action": "explode", "user_info": {}}), 400, 300)
        _zoom_error(
            z.post(
                "/users",
                json={"action": "create", "user_info": {"email": "a@b.example", "type": "2"}},
            ),
            400,
            300,
        )
        _zoom_error(
            z.post(
                "/users",
                json={"action": "create", "user_info": {"email": "a@b.example", "type": 1, "x": 1}},
            ),
            400,
            300,
        )
        _zoom_error(
            z.post("/users", content=b"{oops", headers={"Content-Type": "application/json"}),
            400,
            300,
        )
        _zoom_error(z.post("/users", content=b"x" * 300_000), 413, 300)
        _zoom_error(z.get("/users", params={"status": "sleeping"}), 400, 300)
        _zoom_error(z.get("/users/email"), 400, 300)
        _zoom_error(z.get("/users/nobody"), 404, 1001)
        _zoom_error(z.put("/users"), 405, 405)


class _Receiver(BaseHTTPRequestHandler):
    got: list[tuple[dict, bytes]] = []
    event = threading.Event()

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Receiver.got.append((dict(self.headers), body))
        _Receiver.event.set()
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_webhooks_are_signed(sandbox: Sandbox) -> None:
    server = HTTPServer(("127.0.0.1", free_port()), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        sandbox.admin_response(
            "PUT", "webhook", json={"url": f"http://127.0.0.1:{server.server_port}/hook"}
        )
        # Saving the receiver sent Zoom's endpoint.url_validation challenge: not our event.
        _Receiver.event.clear()
        _Receiver.got.clear()
        with sandbox.zoom() as z:
            user_id = _create(z, "hook@example.ac.jp", "custCreate").json()["id"]
        assert _Receiver.event.wait(10)
        headers, body = _Receiver.got[0]
        headers = {k.lower(): v for k, v in headers.items()}
        secret = sandbox.creds["zoom"]["webhook_secret_token"]
        message = f"v0:{headers['x-zm-request-timestamp']}:".encode() + body
        expected = "v0=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
        assert headers["x-zm-signature"] == expected
        event = json.loads(body)
        assert event["event"] == "user.created" and isinstance(event["event_ts"], int)
        assert event["payload"]["account_id"] == sandbox.creds["zoom"]["account_id"]
        assert event["payload"]["object"]["id"] == user_id
        assert set(event["payload"]["object"]) == {"id", "email", "first_name", "last_name", "type"}
    finally:
        sandbox.admin_response("PUT", "webhook", json={"url": ""})
        server.shutdown()


def test_webhook_receiver_down_does_not_fail_api(sandbox: Sandbox) -> None:
    sandbox.admin_response("PUT", "webhook", json={"url": f"http://127.0.0.1:{free_port()}/gone"})
    try:
        with sandbox.zoom() as z:
            assert _create(z, "nohook@example.ac.jp", "custCreate").status_code == 201
    finally:
        sandbox.admin_response("PUT", "webhook", json={"url": ""})
