"""``campusconf vendor-check``: passes against the sandbox, fails with the fix named for a
missing scope or a bad credential, and never writes at the vendor."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import os
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from campusconf.provisioning.engine import vendors
from vendor_sandbox.launcher import Sandbox, free_port

pytestmark = pytest.mark.django_db(transaction=True)
WRITES = ("POST", "PUT", "PATCH", "DELETE")


def check(service: str, webhook_url: str | None = None) -> tuple[int, str]:
    out = io.StringIO()
    args = [service] + (["--webhook-url", webhook_url] if webhook_url else [])
    try:
        call_command("vendor-check", *args, stdout=out)
    except CommandError as exc:
        return exc.returncode, out.getvalue() + str(exc)
    return 0, out.getvalue()


def writes_at_the_vendor(vendor: Sandbox) -> dict[str, int]:
    """The write requests the sandbox has counted (token requests are not writes)."""
    time.sleep(1.1)  # each sandbox process flushes its counts every 0.5 s
    requests = vendor.admin("GET", "counters")["requests"]
    return {
        key: n
        for key, n in requests.items()
        if key.split()[1] in WRITES and "oauth.token" not in key
    }


class ZoomValidation(BaseHTTPRequestHandler):
    """Answers Zoom's challenge as our endpoint does (test_second_shell.py runs the check
    against the real one, served by ``campusconf serve``)."""

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        plain = body["payload"]["plainToken"]
        secret = os.environ["CAMPUSCONF_ZOOM_WEBHOOK_SECRET"].encode()
        digest = hmac.new(secret, plain.encode(), hashlib.sha256).hexdigest()
        answer = json.dumps({"plainToken": plain, "encryptedToken": digest}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), ZoomValidation)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/webhooks/zoom"
    server.shutdown()


def test_zoom_and_webex_pass_against_the_sandbox_and_nothing_is_written(
    zoom_service, webex_service, vendor, webhook
):
    before = writes_at_the_vendor(vendor)  # an earlier test's, flushed late
    code, out = check("zoom", webhook)
    assert code == 0, out
    for name in ("settings", "token", "scopes", "licence", "users", "webhook", "rate limits"):
        assert f"[ok  ] {name}" in out, out
    assert "answers Zoom's validation challenge" in out
    assert "held to the contract" in out
    assert "all checks passed: zoom is ready" in out
    code, out = check("webex")
    assert code == 0, out
    assert "Meeting - Webex Enterprise Edition:" in out and "[ok  ] token" in out
    assert writes_at_the_vendor(vendor) == before


def test_a_missing_zoom_scope_fails_with_the_fix_named(zoom_service, vendor, webhook):
    before = writes_at_the_vendor(vendor)
    vendor.admin("PUT", "credentials", json={"vendor": "zoom", "scopes": ["user:read:admin"]})
    code, out = check("zoom", webhook)
    assert code == 1
    assert "[FAIL] scopes" in out
    assert "it lacks user:write:user:admin or user:write:admin" in out
    assert "fix: In the Zoom App Marketplace, add the scope user:write:user:admin or " in out
    assert "1 check(s) failed: zoom is not ready" in out
    assert writes_at_the_vendor(vendor) == before


def test_a_bad_zoom_secret_fails_with_the_fix_named(zoom_service, vendor, monkeypatch):
    monkeypatch.setenv("CAMPUSCONF_ZOOM_CLIENT_SECRET", "not-the-secret")
    vendors.close_all()
    code, out = check("zoom")
    assert code == 1
    assert "[FAIL] token" in out and "Invalid client_id or client_secret" in out
    assert (
        "CAMPUSCONF_ZOOM_ACCOUNT_ID, CAMPUSCONF_ZOOM_CLIENT_ID, CAMPUSCONF_ZOOM_CLIENT_SECRET"
        in out
    )


def test_a_missing_webex_scope_fails_with_the_fix_named(webex_service, vendor):
    scopes = ["spark-admin:people_read", "spark-admin:people_write"]
    vendor.admin("PUT", "credentials", json={"vendor": "webex", "scopes": scopes})
    code, out = check("webex")
    assert code == 1
    assert "[FAIL] licence" in out
    assert "fix: Add the scope spark-admin:licenses_read to the service app" in out


def test_bad_webex_tokens_fail_with_the_fix_named(webex_service, vendor, monkeypatch):
    monkeypatch.setenv("CAMPUSCONF_WEBEX_ACCESS_TOKEN", "expired-or-revoked")
    monkeypatch.setenv("CAMPUSCONF_WEBEX_REFRESH_TOKEN", "revoked")
    vendors.close_all()
    code, out = check("webex")
    assert code == 1
    assert "[FAIL] token" in out and "Webex refused the refresh token" in out
    assert "fix: A full administrator must authorise the service app again in Control Hub" in out


def test_a_webhook_endpoint_that_does_not_answer_fails(zoom_service, vendor):
    code, out = check("zoom", f"http://127.0.0.1:{free_port()}/webhooks/zoom")
    assert code == 1 and "[FAIL] webhook" in out and "ConnectError" in out
    assert "reachable over HTTPS from the internet" in out


def test_a_missing_variable_is_named(zoom_service, vendor, monkeypatch):
    monkeypatch.delenv("CAMPUSCONF_ZOOM_ACCOUNT_ID")
    vendors.close_all()
    code, out = check("zoom")
    assert code == 1
    assert "[FAIL] settings  service 'zoom' needs the environment variable " in out
    assert "CAMPUSCONF_ZOOM_ACCOUNT_ID" in out


def test_an_unknown_service_is_one_line():
    code, out = check("nope")
    assert code == 1 and out.strip() == "no service 'nope' (services: none)"


def test_our_endpoint_answers_zoom_s_challenge_as_zoom_documents(zoom_service, vendor, client):
    """plainToken back, and its HMAC-SHA256 with the secret token in hex."""
    secret = os.environ["CAMPUSCONF_ZOOM_WEBHOOK_SECRET"]
    stamp = str(int(time.time()))
    body = json.dumps(
        {
            "payload": {"plainToken": "qgg8vlvZRS6UYooatFL8Aw"},
            "event_ts": 1654503849680,
            "event": "endpoint.url_validation",
        }
    )
    signature = (
        "v0=" + hmac.new(secret.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256).hexdigest()
    )
    answer = client.post(
        "/webhooks/zoom",
        body,
        content_type="application/json",
        HTTP_X_ZM_REQUEST_TIMESTAMP=stamp,
        HTTP_X_ZM_SIGNATURE=signature,
    )
    expected = hmac.new(secret.encode(), b"qgg8vlvZRS6UYooatFL8Aw", hashlib.sha256).hexdigest()
    assert answer.status_code == 200
    assert answer.json() == {"plainToken": "qgg8vlvZRS6UYooatFL8Aw", "encryptedToken": expected}


def test_a_users_page_outside_the_contract_fails(zoom_service, vendor, monkeypatch):
    # The vendor changed its answer: the page is held to the contract, not only parsed.
    from campusconf.connectors.bearer import BearerClient

    real = BearerClient.probe

    def without_users(self: Any, path: str, params: Any = None) -> Any:
        answer = real(self, path, params)
        if path == "/users" and isinstance(answer.body, dict):
            answer = type(answer)(answer.outcome, answer.status, answer.headers, {"people": []})
        return answer

    monkeypatch.setattr(BearerClient, "probe", without_users)
    code, out = check("zoom")
    assert code == 1
    assert "[FAIL] users" in out and "'users' is a required property" in out, out
    assert "the vendor's answer left the contract" in out
