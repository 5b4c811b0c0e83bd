"""The sandbox as the vendors document, with the reported behaviours as variants
(Errata Z-d, Z-e, W-a, W-b, W-e, W-f; docs/vendors.md)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from campusconf.connectors import ListingFailed
from campusconf.connectors.webex import WebexConnector, WebexCredentials
from tests.fixtures.sandbox import start_sandbox, unique_email
from vendor_sandbox.launcher import Sandbox

MEETING = "Meeting - Webex Enterprise Edition"


def _create_zoom(server: Sandbox, email: str):
    with server.zoom() as z:
        info = {"email": email, "type": 2, "first_name": "Taro", "last_name": "Yamada"}
        return z.post("/users", json={"action": "create", "user_info": info})


def test_a_paid_zoom_account_elsewhere_is_refused_as_documented(sandbox: Sandbox) -> None:
    email = unique_email("paid")
    sandbox.seed_personal("zoom", email, paid=True)
    resp = _create_zoom(sandbox, email)
    # Zoom's reference: 409 "User with that email already exists" (Z-d).
    assert resp.status_code == 409
    assert resp.json() == {"code": 1005, "message": "User with that email already exists."}
    assert sandbox.mails(email) == []  # no invitation, no join request


def test_a_paid_zoom_account_elsewhere_answers_1009_when_switched(sandbox: Sandbox) -> None:
    sandbox.set_variants(zoom_account_elsewhere="code_1009")
    email = unique_email("paid")
    sandbox.seed_personal("zoom", email, paid=True)
    resp = _create_zoom(sandbox, email)
    assert resp.status_code == 409
    assert resp.json()["code"] == 1009 and "already holds an active account" in resp.text


def test_a_free_zoom_account_gets_the_join_request_and_a_released_one_an_invitation(
    sandbox: Sandbox,
) -> None:
    free, released = unique_email("free"), unique_email("released")
    sandbox.seed_personal("zoom", free)
    sandbox.seed_personal("zoom", released, paid=True)
    sandbox.admin_response(
        "DELETE", "personal-accounts", params={"vendor": "zoom", "email": released}
    )
    assert _create_zoom(sandbox, free).status_code == 201
    assert _create_zoom(sandbox, released).status_code == 201
    assert [m["kind"] for m in sandbox.mails(free)] == ["zoom_join"]
    assert [m["kind"] for m in sandbox.mails(released)] == ["zoom_activate"]


def test_webex_adds_a_free_account_only_on_a_verified_domain(sandbox: Sandbox) -> None:
    claimed, refused = "claimed@verified.example.jp", "refused@free.example.com"
    answer = sandbox.admin_response(
        "PUT", "webex-domains", json={"verified_domains": ["verified.example.jp"]}
    )
    assert answer.json() == {"verified_domains": ["verified.example.jp"]}
    for email in (claimed, refused):
        sandbox.seed_personal("webex", email)
    with sandbox.webex() as w:
        ok = w.post("/people", json={"emails": [claimed], "displayName": "C"})
        no = w.post("/people", json={"emails": [refused], "displayName": "R"})
    assert ok.status_code == 200  # claimed: the conversion mail (S7)
    assert [m["kind"] for m in sandbox.mails(claimed)] == ["webex_convert"]
    assert no.status_code == 409 and no.json()["trackingId"].startswith("ROUTER_")
    assert sandbox.mails(refused) == []
    sandbox.reset()
    assert sandbox.admin_response("GET", "webex-domains").json() == {"verified_domains": ["*"]}


def test_webex_admin_flags_are_strings_by_default_and_booleans_when_switched(
    sandbox: Sandbox,
) -> None:
    with sandbox.webex() as w:
        made = w.post("/people", json={"emails": [unique_email("wa")], "displayName": "A"})
        pid = made.json()["id"]
        assert (made.json()["invitePending"], made.json()["loginEnabled"]) == ("true", "true")
        listed = w.get("/people", params={"max": 10}).json()["items"][0]
        assert (listed["invitePending"], listed["loginEnabled"]) == ("true", "true")
        sandbox.set_variants(webex_admin_flags="booleans")
        got = w.get(f"/people/{pid}").json()
        assert (got["invitePending"], got["loginEnabled"]) == (True, True)
        # PUT takes loginEnabled as a boolean in either case, as the spec's request says.
        put = w.put(f"/people/{pid}", json={"displayName": "A", "loginEnabled": False})
        assert put.json()["loginEnabled"] is False


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    env = {"SANDBOX_WEBEX_PAGE_MAX": "2", "SANDBOX_WEBEX_LICENCE_UNITS": "1"}
    with start_sandbox(Path(tmp_path_factory.mktemp("small")), env=env) as server:
        yield server


def test_a_max_above_the_limit_is_clamped_not_refused(small: Sandbox) -> None:
    small.reset()
    with small.webex() as w:
        for i in range(3):
            w.post("/people", json={"emails": [f"clamp{i}@example.ac.jp"], "displayName": "C"})
        page = w.get("/people", params={"max": 100})
    assert page.status_code == 200 and len(page.json()["items"]) == 2
    assert re.fullmatch(r'<[^>]+>; rel="next"', page.headers["link"])
    # The connector asks for its own page size and follows rel="next" (W-e).
    connector = WebexConnector(
        WebexCredentials(small.creds["webex"]["token"]),
        base_url=small.creds["webex"]["base_url"],
        licence_name=MEETING,
    )
    try:
        emails = [u.email for u in connector.iter_users(page_size=100)]
    except ListingFailed as failed:  # pragma: no cover - the message says why
        pytest.fail(str(failed))
    finally:
        connector.close()
    assert emails == [f"clamp{i}@example.ac.jp" for i in range(3)]


def test_a_licence_patch_that_can_do_only_part_answers_206(small: Sandbox) -> None:
    small.reset()
    licences = small.creds["webex"]["licenses"]
    meeting, messaging = licences[MEETING], licences["Messaging"]
    with small.webex() as w:
        for email in ("first@example.ac.jp", "second@example.ac.jp"):
            w.post("/people", json={"emails": [email], "displayName": "L"})
        add = [{"id": meeting, "operation": "add"}]
        first = w.patch("/licenses/users", json={"email": "first@example.ac.jp", "licenses": add})
        assert first.status_code == 200 and first.json()["licenses"] == [meeting]
        # One unit each: the meeting licence is used up, the messaging one is not.
        both = [*add, {"id": messaging, "operation": "add"}]
        part = w.patch("/licenses/users", json={"email": "second@example.ac.jp", "licenses": both})
        assert part.status_code == 206 and part.json()["licenses"] == [messaging]
        none = w.patch("/licenses/users", json={"email": "second@example.ac.jp", "licenses": add})
        assert none.status_code == 400 and none.json()["message"] == "License assignment failed"


def test_the_daily_cap_message_names_the_reset(tmp_path: Path) -> None:
    env = {"SANDBOX_LIMITS": "on", "SANDBOX_ZOOM_DAILY_CREATE_LIMIT": "1"}
    with start_sandbox(tmp_path, env=env) as server:
        server.set_variants(zoom_daily_cap_headers="absent")
        _create_zoom(server, unique_email("cap"))
        capped = _create_zoom(server, unique_email("cap"))
    assert capped.status_code == 429 and "Retry-After" not in capped.headers
    # Zoom forum 18928: the only hint left is the message, which names 00:00 GMT (Z-e).
    assert "You may resume these requests at GMT 00:00:00." in capped.json()["message"]
