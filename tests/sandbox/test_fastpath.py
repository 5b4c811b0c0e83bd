"""The lean create path answers exactly as the Django path does.

With limits off and no fault on, ``POST /zoom/v2/users`` and ``POST /webex/v1/people``
are served by ``vendor_sandbox.fast``; a fault that never fires (1 ms of latency)
sends the same request through Django. Both must give the same status, headers, body
shape, stored user and invitation mail.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from tests.fixtures.sandbox import unique_email
from vendor_sandbox.launcher import Sandbox

VOLATILE = {"id", "email", "emails", "created", "lastModified", "created_at", "user_created_at"}


def _shape(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in VOLATILE}


def _zoom_create(z: httpx.Client, email: str, action: str = "create") -> httpx.Response:
    info = {"email": email, "type": 2, "first_name": "Hanako", "last_name": "Sato"}
    return z.post("/users", json={"action": action, "user_info": info})


def _both(sandbox: Sandbox, vendor: str, create: Any) -> tuple[Any, Any]:
    fast = create(unique_email("fast"))
    sandbox.set_faults(latency_ms=1, scope=vendor)  # forces the Django path
    slow = create(unique_email("slow"))
    sandbox.set_faults(latency_ms=0, scope="all")
    return fast, slow


def test_zoom_create_same_on_both_paths(sandbox: Sandbox) -> None:
    with sandbox.zoom() as z:
        for action in ("create", "custCreate"):
            fast, slow = _both(sandbox, "zoom", lambda e, a=action: (e, _zoom_create(z, e, a)))
            (fast_email, fast_resp), (slow_email, slow_resp) = fast, slow
            assert fast_resp.status_code == slow_resp.status_code == 201
            assert set(fast_resp.headers) == set(slow_resp.headers)
            assert list(fast_resp.json()) == list(slow_resp.json())
            # committed and visible at once, stored alike
            got_fast = z.get(f"/users/{fast_resp.json()['id']}").json()
            got_slow = z.get(f"/users/{slow_resp.json()['id']}").json()
            assert _shape(got_fast) == _shape(got_slow)
            if action == "create":
                fast_mail, slow_mail = sandbox.mails(fast_email)[0], sandbox.mails(slow_email)[0]
                assert fast_mail["subject"] == slow_mail["subject"] == "Activate Zoom Account"
                assert list(fast_mail["links"]) == list(slow_mail["links"])
                assert fast_mail["html"].count("href") == slow_mail["html"].count("href")
            # a second create of the address goes to Django and gets Zoom's 1005
            again = _zoom_create(z, fast_email)
            assert again.status_code == 409 and again.json()["code"] == 1005


def test_webex_create_same_on_both_paths(sandbox: Sandbox) -> None:
    licence = sandbox.creds["webex"]["licenses"]["Meeting - Webex Enterprise Edition"]
    with sandbox.webex() as w:

        def create(email: str) -> tuple[str, httpx.Response]:
            body = {"emails": [email], "displayName": "Taro Y", "licenses": [licence]}
            return email, w.post("/people", json=body)

        (fast_email, fast), (slow_email, slow) = _both(sandbox, "webex", create)
        assert fast.status_code == slow.status_code == 200
        assert set(fast.headers) == set(slow.headers)
        assert _shape(fast.json()) == _shape(slow.json())
        got = w.get(f"/people/{fast.json()['id']}")
        assert got.status_code == 200 and got.json()["invitePending"] == "true"
        fast_mail, slow_mail = sandbox.mails(fast_email)[0], sandbox.mails(slow_email)[0]
        assert fast_mail["subject"] == slow_mail["subject"]
        assert list(fast_mail["links"]) == list(slow_mail["links"]) == ["Activate"]
        assert (
            w.post("/people", json={"emails": [fast_email], "displayName": "x"}).status_code == 409
        )


def test_an_expired_token_is_refused_on_the_fast_path(sandbox: Sandbox) -> None:
    with sandbox.zoom() as z:
        sandbox.move_clock(seconds=3601)
        resp = _zoom_create(z, unique_email("late"))
        assert resp.status_code == 401 and resp.json()["code"] == 124


def test_concurrent_creates_of_one_address_make_one_user(sandbox: Sandbox) -> None:
    """Within one group commit, a second insert of an address rolls back alone."""
    email = unique_email("race")
    others = [unique_email(f"o{i}-") for i in range(6)]
    with sandbox.zoom() as z, ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(lambda e: _zoom_create(z, e), [email] * 6 + others))
    same, rest = answers[:6], answers[6:]
    assert sorted(r.status_code for r in same) == [201] + [409] * 5
    assert all(r.json()["code"] == 1005 for r in same if r.status_code == 409)
    assert all(r.status_code == 201 for r in rest)
    stored = sandbox.admin_response("GET", "users", params={"vendor": "zoom"}).json()["zoom"]
    assert [u["email"] for u in stored].count(email) == 1
    assert {u["email"] for u in stored} >= set(others)
