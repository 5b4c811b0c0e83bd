"""The lean paths answer as Django does with rate limits on, and list pages alike.

``vendor_sandbox.fast`` serves creates and the plain list pages; a
fault that never fires (1 ms of latency) sends the same requests through Django. Both
count against the same budgets, so a 429 comes at the same point whichever path serves,
with the same status, headers and body. The sandbox's counters say which path answered
(``fastpath …`` keys, never on the wire), so these tests fail if the fast path stops
serving instead of passing on Django's answers alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures.sandbox import start_sandbox, unique_email
from vendor_sandbox.launcher import Sandbox

VOLATILE_HEADERS = {"date", "x-zm-trackingid", "trackingid"}


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    env = {
        "SANDBOX_LIMITS": "on",
        "SANDBOX_ZOOM_PLAN": "Pro",
        "SANDBOX_RATE_SCALE": "0.1",  # Zoom Light 3/s, Medium 2/s
        "SANDBOX_ZOOM_DAILY_CREATE_LIMIT": "30",  # x0.1 = 3 creates a day
        "SANDBOX_WEBEX_RATE_PER_MINUTE": "40",  # x0.1 = 4 a minute per endpoint
    }
    with start_sandbox(Path(tmp_path_factory.mktemp("fast-limited")), env=env) as server:
        yield server


def _fast(server: Sandbox) -> dict[str, int]:
    """Answers given by the fast paths so far, by vendor, method, endpoint and status."""
    time.sleep(0.6)  # each worker process flushes its counts every 0.5 s
    other = server.admin_response("GET", "counters").json()["other"]
    return {k.removeprefix("fastpath "): v for k, v in other.items() if k.startswith("fastpath ")}


def _new(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {k: v - before.get(k, 0) for k, v in after.items() if v != before.get(k, 0)}


def _headers(resp: httpx.Response) -> list[tuple[str, str]]:
    """Every header, in order, but the date and the per-request tracking id."""
    raw = [(k.decode().lower(), v.decode()) for k, v in resp.headers.raw]
    return [(k, v) for k, v in raw if k not in VOLATILE_HEADERS]


def _django(server: Sandbox, vendor: str) -> Any:
    """A block whose requests Django serves (a fault on that never fires)."""

    class Block:
        def __enter__(self) -> None:
            server.set_faults(latency_ms=1, scope=vendor)

        def __exit__(self, *exc: object) -> None:
            server.set_faults(latency_ms=0, scope="all")

    return Block()


def _zoom_create(z: httpx.Client, email: str, action: str = "create") -> httpx.Response:
    time.sleep(0.4)  # under Light 3/s: only the daily cap may refuse
    info = {"email": email, "type": 1, "first_name": "Hanako", "last_name": "Sato"}
    return z.post("/users", json={"action": action, "user_info": info})


def test_zoom_daily_cap_is_shared_and_refused_alike(limited: Sandbox) -> None:
    limited.move_clock(days=1)  # a fresh day of the cap (and tokens issued after it)
    with limited.zoom() as z:
        before = _fast(limited)
        first = unique_email("cap")
        assert _zoom_create(z, first).status_code == 201  # fast: 1 of 3
        # The fast path counts it, finds the address taken and hands it to Django with its
        # count rolled back: Django counts it once (2 of 3) and answers 1005.
        again = _zoom_create(z, first)
        assert again.status_code == 409 and again.json()["code"] == 1005
        assert _zoom_create(z, unique_email("cap")).status_code == 201  # fast: 3 of 3
        fast_429 = _zoom_create(z, unique_email("cap"))
        with _django(limited, "zoom"):
            slow_429 = _zoom_create(z, unique_email("cap"))
        # the cap counts action=create only
        assert _zoom_create(z, unique_email("cust"), "custCreate").status_code == 201
        served = _new(before, _fast(limited))
    assert fast_429.status_code == slow_429.status_code == 429
    assert fast_429.json() == slow_429.json()
    assert fast_429.json()["message"].startswith("You have exceeded the daily rate limit (3)")
    assert _headers(fast_429) == _headers(slow_429)
    assert fast_429.headers["X-RateLimit-Type"] == "Daily-limit"
    assert fast_429.headers["Retry-After"].endswith("T00:00:00Z")
    assert served == {"zoom POST users.create 201": 3, "zoom POST users.create 429": 1}
    stored = limited.admin_response("GET", "users", params={"vendor": "zoom"}).json()["zoom"]
    refused = {fast_429.request.content, slow_429.request.content}
    assert not any(u["email"].encode() in body for u in stored for body in refused)


def test_webex_budget_is_shared_and_refused_alike(limited: Sandbox) -> None:
    if time.time() % 60 > 45:  # the six requests below must share one minute's budget
        time.sleep(61 - time.time() % 60)
    licence = limited.creds["webex"]["licenses"]["Meeting - Webex Enterprise Edition"]
    with limited.webex() as w:

        def create(email: str) -> httpx.Response:
            return w.post(
                "/people", json={"emails": [email], "displayName": "T Y", "licenses": [licence]}
            )

        before = _fast(limited)
        first = unique_email("wb")
        assert create(first).status_code == 200  # fast: 1 of 4
        assert create(first).status_code == 409  # counted once, by Django: 2 of 4
        with _django(limited, "webex"):
            assert create(unique_email("wb")).status_code == 200  # 3 of 4
            assert create(unique_email("wb")).status_code == 200  # 4 of 4
            slow_429 = create(unique_email("wb"))
        fast_429 = create(unique_email("wb"))
        served = _new(before, _fast(limited))
    assert fast_429.status_code == slow_429.status_code == 429
    fast_body, slow_body = fast_429.json(), slow_429.json()
    assert fast_body.pop("trackingId") == fast_429.headers["trackingid"]
    assert slow_body.pop("trackingId") == slow_429.headers["trackingid"]
    assert (
        fast_body
        == slow_body
        == {
            "message": "Too many requests, please try again later.",
            "errors": [{"description": "Too many requests, please try again later."}],
        }
    )
    assert [k for k, _ in _headers(fast_429)] == [k for k, _ in _headers(slow_429)]
    fast_retry, slow_retry = (
        int(fast_429.headers["Retry-After"]),
        int(slow_429.headers["Retry-After"]),
    )
    assert 1 <= fast_retry <= slow_retry <= 60 and slow_retry - fast_retry <= 2
    assert served == {"webex POST people.create 200": 1, "webex POST people.create 429": 1}


def _first_429(send: Callable[[], httpx.Response], tries: int = 6) -> httpx.Response:
    time.sleep(1 - time.time() % 1)  # from the top of a second
    answers = [send() for _ in range(tries)]
    refused = [r for r in answers if r.status_code == 429]
    assert refused, [r.status_code for r in answers]
    return refused[0]


@pytest.mark.parametrize("what", ["create", "list"])
def test_zoom_per_second_limit_refused_alike(limited: Sandbox, what: str) -> None:
    with limited.zoom() as z:

        def send() -> httpx.Response:
            if what == "list":
                return z.get("/users", params={"page_size": 5})
            info = {"email": unique_email("qps"), "type": 1}
            return z.post("/users", json={"action": "custCreate", "user_info": info})

        before = _fast(limited)
        fast_429 = _first_429(send)
        served = _new(before, _fast(limited))
        with _django(limited, "zoom"):
            slow_429 = _first_429(send)
    assert (
        fast_429.json()
        == slow_429.json()
        == {
            "code": 429,
            "message": "You have reached the maximum per-second rate limit for this API. Try again later.",
        }
    )
    assert _headers(fast_429) == _headers(slow_429)
    category, limit = ("Light", "3") if what == "create" else ("Medium", "2")
    assert fast_429.headers["X-RateLimit-Category"] == category
    assert fast_429.headers["X-RateLimit-Limit"] == limit
    name = "POST users.create" if what == "create" else "GET users.list"
    assert served.get(f"zoom {name} 429", 0) >= 1


# --- list pages: the same bytes from both paths (limits off) ---------------------------


def _pages(client: httpx.Client, path: str, params: dict[str, Any]) -> list[httpx.Response]:
    """Every page of a listing, following Zoom's next_page_token or Webex's Link."""
    pages = [client.get(path, params=params)]
    while True:
        last = pages[-1]
        assert last.status_code == 200, last.text
        if "next" in last.links:
            pages.append(client.get(last.links["next"]["url"]))
        elif path.endswith("/users") and last.json()["next_page_token"]:
            token = last.json()["next_page_token"]
            pages.append(client.get(path, params={"next_page_token": token}))
        else:
            return pages


def _wire(resp: httpx.Response) -> tuple[list[tuple[str, str]], bytes]:
    """Headers and body bytes, with Zoom's random page token blanked (same length)."""
    body = resp.content
    if resp.request.url.path.endswith("/users"):
        token = resp.json()["next_page_token"]
        if token:
            body = body.replace(token.encode(), b"T" * len(token))
    return _headers(resp), body


def test_zoom_list_pages_are_the_same_bytes(sandbox: Sandbox) -> None:
    with sandbox.zoom() as z:
        for i in range(7):
            info = {"email": unique_email(f"l{i}-"), "type": 1 + i % 2, "first_name": f"N{i}"}
            action = "create" if i % 3 == 0 else "custCreate"
            assert z.post("/users", json={"action": action, "user_info": info}).status_code == 201
        some = z.get("/users", params={"page_size": 1}).json()["users"][0]["id"]
        assert (
            z.patch(f"/users/{some}", json={"timezone": "Europe/Paris", "pmi": 55}).status_code
            == 204
        )
        for params in ({"page_size": 2}, {"status": "pending", "page_size": 1}, {}):
            before = _fast(sandbox)
            fast = _pages(z, "/users", params)
            served = _new(before, _fast(sandbox))
            with _django(sandbox, "zoom"):
                slow = _pages(z, "/users", params)
            assert [_wire(r) for r in fast] == [_wire(r) for r in slow]
            assert served == {"zoom GET users.list 200": len(fast)}
        assert len(_pages(z, "/users", {"page_size": 2})) == 2  # 4 active users, 2 a page
        assert "Europe/Paris" in b"".join(r.content for r in fast + slow).decode()


def test_webex_list_pages_are_the_same_bytes(sandbox: Sandbox) -> None:
    licence = sandbox.creds["webex"]["licenses"]["Meeting - Webex Enterprise Edition"]
    with sandbox.webex() as w:
        for i in range(5):
            body = {"emails": [unique_email(f"p{i}-")], "firstName": f"F{i}", "lastName": "L"}
            if i % 2:
                body |= {
                    "licenses": [licence],
                    "title": "Dr",
                    "phoneNumbers": [{"type": "work", "value": "1"}],
                }
            assert w.post("/people", json=body).status_code == 200
        for params in ({"max": 2}, {}):
            before = _fast(sandbox)
            fast = _pages(w, "/people", params)
            served = _new(before, _fast(sandbox))
            with _django(sandbox, "webex"):
                slow = _pages(w, "/people", params)
            assert [_wire(r) for r in fast] == [_wire(r) for r in slow]
            assert served == {"webex GET people.list 200": len(fast)}
        assert len(fast) == 1 and len(_pages(w, "/people", {"max": 2})) == 3
        # another filter is Django's: answered, and not by the fast path
        before = _fast(sandbox)
        assert (
            w.get("/people", params={"displayName": "F1"}).json()["items"][0]["firstName"] == "F1"
        )
        assert _new(before, _fast(sandbox)) == {}
