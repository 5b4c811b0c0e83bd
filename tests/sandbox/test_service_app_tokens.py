"""The vendors' tokens as documented: Zoom's Server-to-Server token knocks out the previous
one (Errata Z-a, with its variants), Webex's service-app tokens expire and renew on the
sandbox clock (W-h), every credential has scopes, and an app can be switched off."""

from __future__ import annotations

import base64
import time
from typing import Any

import httpx

from tests.fixtures.sandbox import unique_email
from vendor_sandbox.launcher import Sandbox

DAY = 86400


def zoom_token(server: Sandbox, secret: str | None = None) -> httpx.Response:
    zoom = server.creds["zoom"]
    pair = f"{zoom['client_id']}:{secret or zoom['client_secret']}".encode()
    return httpx.post(
        zoom["oauth_url"],
        params={"grant_type": "account_credentials", "account_id": zoom["account_id"]},
        headers={"Authorization": f"Basic {base64.b64encode(pair).decode()}"},
    )


def zoom_get(server: Sandbox, token: str, path: str = "/users") -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"}
    return httpx.get(server.creds["zoom"]["base_url"] + path, headers=headers)


def change_app(server: Sandbox, vendor: str, **changes: Any) -> dict[str, Any]:
    resp = server.admin_response("PUT", "credentials", json={"vendor": vendor, **changes})
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


def test_a_new_zoom_token_knocks_out_the_previous_one(sandbox: Sandbox) -> None:
    first = zoom_token(sandbox).json()["access_token"]
    assert zoom_get(sandbox, first).status_code == 200
    second = zoom_token(sandbox).json()["access_token"]
    refused = zoom_get(sandbox, first)
    assert refused.status_code == 401
    assert refused.json() == {"code": 124, "message": "Invalid access token."}
    # Every worker process of the sandbox refuses it (the check reads the shared DB).
    assert all(zoom_get(sandbox, first).status_code == 401 for _ in range(6))
    assert all(zoom_get(sandbox, second).status_code == 200 for _ in range(6))


def test_the_reported_tolerance_and_the_current_page_are_variants(
    sandbox: Sandbox,
) -> None:
    sandbox.set_variants(zoom_token_reissue="grace")
    first = zoom_token(sandbox).json()["access_token"]
    zoom_token(sandbox)
    assert zoom_get(sandbox, first).status_code == 200  # within the few seconds' grace
    sandbox.move_clock(seconds=6)
    assert zoom_get(sandbox, first).status_code == 401
    sandbox.set_variants(zoom_token_reissue="independent")
    first = zoom_token(sandbox).json()["access_token"]
    second = zoom_token(sandbox).json()["access_token"]
    assert zoom_get(sandbox, first).status_code == zoom_get(sandbox, second).status_code == 200


def test_a_zoom_token_expires_on_the_sandbox_clock(sandbox: Sandbox) -> None:
    answer = zoom_token(sandbox).json()
    assert answer["expires_in"] == 3600
    assert set(answer["scope"].split()) == {"user:read:admin", "user:write:admin", "user:master"}
    sandbox.move_clock(seconds=3601)
    expired = zoom_get(sandbox, answer["access_token"])
    assert expired.status_code == 401 and expired.json()["message"] == "Access token is expired."


def test_a_zoom_app_without_a_scope_is_refused_as_zoom_does(sandbox: Sandbox) -> None:
    before = zoom_token(sandbox).json()["access_token"]
    change_app(sandbox, "zoom", scopes=["user:read:admin"])
    token = zoom_token(sandbox).json()
    assert token["scope"] == "user:read:admin"
    body = {"action": "create", "user_info": {"email": unique_email(), "type": 1}}
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    # The fast path steps aside for a token without the scope: Django answers.
    refused = httpx.post(sandbox.creds["zoom"]["base_url"] + "/users", json=body, headers=headers)
    assert refused.status_code == 400
    assert refused.json() == {
        "code": 4711,
        "message": "Invalid access token, does not contain scopes:"
        "[user:write:user:admin, user:write:admin].",
    }
    assert zoom_get(sandbox, token["access_token"]).status_code == 200  # reading still works
    assert zoom_get(sandbox, before).status_code == 401  # and the new token knocked it out
    change_app(sandbox, "zoom", scopes=["user:read:admin", "user:write:admin"])
    # A token keeps the scopes it was issued with: only a new one may write.
    again = httpx.post(sandbox.creds["zoom"]["base_url"] + "/users", json=body, headers=headers)
    assert again.status_code == 400
    fresh = {"Authorization": f"Bearer {zoom_token(sandbox).json()['access_token']}"}
    created = httpx.post(sandbox.creds["zoom"]["base_url"] + "/users", json=body, headers=fresh)
    assert created.status_code == 201


def test_a_deactivated_zoom_app_gets_no_token_and_its_tokens_stop(
    sandbox: Sandbox,
) -> None:
    token = zoom_token(sandbox).json()["access_token"]
    change_app(sandbox, "zoom", disabled=True)
    assert zoom_get(sandbox, token).status_code == 401
    refused = zoom_token(sandbox)
    assert refused.status_code == 401 and refused.json()["reason"] == "The app has been disabled"
    change_app(sandbox, "zoom", disabled=False)
    assert zoom_get(sandbox, token).status_code == 200
    sandbox.reset()
    assert sandbox.admin_response("GET", "credentials").json()["zoom"]["scopes"] == [
        "user:read:admin",
        "user:write:admin",
        "user:master",
    ]


def test_a_rotated_zoom_secret_refuses_the_old_one(sandbox: Sandbox) -> None:
    old = sandbox.admin_response("GET", "credentials").json()["zoom"]["client_secret"]
    new = change_app(sandbox, "zoom", rotate_secret=True)["zoom"]["client_secret"]
    try:
        assert new != old
        refused = zoom_token(sandbox, secret=old)
        assert refused.status_code == 401
        assert refused.json() == {
            "reason": "Invalid client_id or client_secret",
            "error": "invalid_client",
        }
        assert zoom_token(sandbox, secret=new).status_code == 200
    finally:
        _put_secret_back(sandbox, "zoom", old)


def _put_secret_back(server: Sandbox, vendor: str, secret: str) -> None:
    """The session's sandbox is shared: other tests use the credentials it started with."""
    import sqlite3

    table = "vendor_sandbox_zoomaccount" if vendor == "zoom" else "vendor_sandbox_webexapp"
    with sqlite3.connect(server.db) as db:
        db.execute(f"UPDATE {table} SET client_secret = ?", (secret,))  # noqa: S608


# --- Webex service app ------------------------------------------------------------------


def refresh(server: Sandbox, refresh_token: str, secret: str | None = None) -> httpx.Response:
    webex = server.admin_response("GET", "credentials").json()["webex"]
    form = {
        "grant_type": "refresh_token",
        "client_id": webex["client_id"],
        "client_secret": secret or webex["client_secret"],
        "refresh_token": refresh_token,
    }
    return httpx.post(webex["base_url"] + "/access_token", data=form)


def people(server: Sandbox, token: str, method: str = "GET", **kw: Any) -> httpx.Response:
    url = server.creds["webex"]["base_url"] + "/people"
    return httpx.request(method, url, headers={"Authorization": f"Bearer {token}"}, **kw)


def test_webex_service_app_tokens_expire_and_a_used_refresh_token_lives_on(
    sandbox: Sandbox,
) -> None:
    first = sandbox.admin_response("GET", "credentials").json()["webex"]
    assert first["access_token_expires_at"] > time.time()
    webex = sandbox.admin_response("GET", "credentials").json()["webex"]
    assert webex["access_token"] and webex["refresh_token"] and webex["client_id"]
    # A token of its own, issued now (the session's sandbox may have issued others on a
    # moved clock): 14 days from now, and the refresh token's 90 days start again.
    fresh = refresh(sandbox, webex["refresh_token"]).json()
    assert people(sandbox, fresh["access_token"], params={"max": 1}).status_code == 200
    sandbox.move_clock(days=15)  # past the access token's 14 days
    expired = people(sandbox, fresh["access_token"])
    assert expired.status_code == 401 and "valid access token" in expired.json()["message"]
    answer = refresh(sandbox, webex["refresh_token"])
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["refresh_token"] == webex["refresh_token"]
    assert (body["expires_in"], body["refresh_token_expires_in"]) == (14 * DAY, 90 * DAY)
    assert people(sandbox, body["access_token"]).status_code == 200
    # Used every 80 days, the refresh token outlives its first 90 (W-h) ...
    for _ in range(2):
        sandbox.move_clock(days=80)
        assert refresh(sandbox, webex["refresh_token"]).status_code == 200
    # ... and unused for longer than that, it is gone.
    sandbox.move_clock(days=91)
    gone = refresh(sandbox, webex["refresh_token"])
    assert gone.status_code == 400
    assert gone.json()["message"] == (
        "The refresh token provided is expired, revoked, malformed, or invalid."
    )
    assert gone.headers["trackingid"].startswith("ROUTER_")


def test_webex_refresh_with_a_wrong_secret_is_refused(sandbox: Sandbox) -> None:
    webex = sandbox.admin_response("GET", "credentials").json()["webex"]
    assert refresh(sandbox, webex["refresh_token"], secret="0" * 64).status_code == 401


def test_a_webex_token_without_a_scope_is_refused_with_403(sandbox: Sandbox) -> None:
    webex = change_app(sandbox, "webex", scopes=["spark-admin:people_read"])["webex"]
    token = webex["access_token"]
    assert people(sandbox, token).status_code == 200
    body = {"emails": [unique_email()], "displayName": "No Write"}
    refused = people(sandbox, token, "POST", json=body)
    assert refused.status_code == 403
    assert refused.json()["message"] == (
        "The request is understood, but it has been refused or access is not allowed."
    )
    licences = httpx.get(
        webex["base_url"] + "/licenses", headers={"Authorization": f"Bearer {token}"}
    )
    assert licences.status_code == 403  # spark-admin:licenses_read (Errata W-b)
    sandbox.reset()
    assert people(sandbox, token, "POST", json=body).status_code == 200


def test_a_revoked_webex_authorisation_refuses_both_tokens(sandbox: Sandbox) -> None:
    webex = sandbox.admin_response("GET", "credentials").json()["webex"]
    change_app(sandbox, "webex", disabled=True)
    assert people(sandbox, webex["access_token"]).status_code == 401
    assert refresh(sandbox, webex["refresh_token"]).status_code == 400
    change_app(sandbox, "webex", disabled=False)
    assert people(sandbox, webex["access_token"]).status_code == 200


def test_the_fixed_org_token_still_reads_and_writes(sandbox: Sandbox) -> None:
    with sandbox.webex() as client:
        assert client.get("/people", params={"max": 1}).status_code == 200
