"""Rate limits (a dedicated sandbox with tiny limits) and faults (with a fixed seed)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from tests.fixtures.sandbox import start_sandbox
from vendor_sandbox.launcher import Sandbox


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    env = {
        "SANDBOX_LIMITS": "on",
        "SANDBOX_RATE_SCALE": "0.1",  # Pro: Light 3/s, Medium 2/s
        "SANDBOX_ZOOM_DAILY_CREATE_LIMIT": "40",  # ×0.1 = 4 creates a day
        "SANDBOX_WEBEX_RATE_PER_MINUTE": "50",  # ×0.1 = 5 a minute per endpoint
    }
    with start_sandbox(Path(tmp_path_factory.mktemp("limited")), env=env) as server:
        yield server


def _burst(client: httpx.Client, n: int, *args: str) -> list[httpx.Response]:
    return [client.get(*args) for _ in range(n)]


def test_zoom_qps_429(limited: Sandbox) -> None:
    with limited.zoom() as z:
        time.sleep(1 - time.time() % 1)  # start at the top of a second
        answers = _burst(z, 6, "/users")
    limited_answers = [r for r in answers if r.status_code == 429]
    assert limited_answers, [r.status_code for r in answers]
    r = limited_answers[0]
    assert r.json() == {
        "code": 429,
        "message": "You have reached the maximum per-second rate limit for this API. Try again later.",
    }
    assert r.headers["X-RateLimit-Category"] == "Medium"
    assert r.headers["X-RateLimit-Type"] == "QPS"
    assert r.headers["X-RateLimit-Limit"] == "2"
    assert r.headers["X-RateLimit-Remaining"] == "0"
    assert r.headers["Retry-After"] == "1"


def test_zoom_daily_create_cap(limited: Sandbox) -> None:
    statuses = []
    with limited.zoom() as z:
        for i in range(6):
            time.sleep(0.4)  # stay under 3 a second
            info = {"email": f"cap{i}@example.ac.jp", "type": 1}
            resp = z.post("/users", json={"action": "create", "user_info": info})
            statuses.append(resp.status_code)
        assert statuses == [201, 201, 201, 201, 429, 429]
        assert resp.headers["X-RateLimit-Type"] == "Daily-limit"
        assert resp.headers["X-RateLimit-Category"] == "Light"
        assert resp.headers["X-RateLimit-Limit"] == "4"
        reset = datetime.fromisoformat(resp.headers["Retry-After"].replace("Z", "+00:00"))
        assert reset.hour == 0 and reset.minute == 0
        assert resp.json()["message"].startswith("You have exceeded the daily rate limit")
        limited.move_clock(days=1)  # the cap resets on the next day of the sandbox clock
        z.headers["Authorization"] = f"Bearer {limited.zoom_token()}"
        info = {"email": "capnext@example.ac.jp", "type": 1}
        assert z.post("/users", json={"action": "create", "user_info": info}).status_code == 201
    counters = limited.admin_response("GET", "counters").json()
    assert counters["rate_limited"] >= 2


def test_webex_per_minute_429(limited: Sandbox) -> None:
    with limited.webex() as w:
        answers = _burst(w, 7, "/licenses")
    r = next(r for r in answers if r.status_code == 429)
    assert [a.status_code for a in answers[:5]] == [200] * 5
    assert 1 <= int(r.headers["Retry-After"]) <= 60
    assert set(r.json()) == {"message", "errors", "trackingId"}


def test_error_rate_is_seeded_and_repeats(sandbox: Sandbox) -> None:
    def run() -> list[int]:
        sandbox.set_faults(seed=11, error_rate=0.5, scope="webex")
        with sandbox.webex() as w:
            return [w.get("/licenses").status_code for _ in range(16)]

    first, second = run(), run()
    assert first == second
    assert {500, 502, 503} & set(first) and 200 in first
    sandbox.admin_response("DELETE", "faults")


def test_latency_and_timeout(sandbox: Sandbox) -> None:
    sandbox.set_faults(latency_ms=300)
    with sandbox.webex() as w:
        start = time.monotonic()
        assert w.get("/licenses").status_code == 200
        assert time.monotonic() - start >= 0.3
    sandbox.set_faults(latency_ms=0, timeout_rate=1.0, timeout_seconds=2.0)
    with sandbox.zoom() as z, pytest.raises(httpx.ReadTimeout):
        z.get("/users", timeout=0.5)
    sandbox.admin_response("DELETE", "faults")


def test_lost_response_commits_the_change(sandbox: Sandbox) -> None:
    sandbox.set_faults(lost_response_rate=1.0)
    with sandbox.zoom() as z:
        info = {"email": "lost@example.ac.jp", "type": 1}
        with pytest.raises(httpx.RemoteProtocolError):
            z.post("/users", json={"action": "custCreate", "user_info": info})
        sandbox.admin_response("DELETE", "faults")
        assert z.get("/users/lost@example.ac.jp").json()["status"] == "active"


def test_webex_400_although_created(sandbox: Sandbox) -> None:
    sandbox.set_faults(webex_400_after_create_rate=1.0)
    with sandbox.webex() as w:
        resp = w.post("/people", json={"emails": ["quirk@example.ac.jp"], "displayName": "Q"})
        assert resp.status_code == 400 and "trackingId" in resp.json()
        sandbox.admin_response("DELETE", "faults")
        found = w.get("/people", params={"email": "quirk@example.ac.jp"}).json()["items"]
        assert len(found) == 1


def test_eventual_consistency(sandbox: Sandbox) -> None:
    sandbox.set_faults(consistency_delay_seconds=30)
    with sandbox.zoom() as z:
        info = {"email": "late@example.ac.jp", "type": 1}
        assert z.post("/users", json={"action": "custCreate", "user_info": info}).status_code == 201
        missing = z.get("/users/late@example.ac.jp")
        assert missing.status_code == 404 and missing.json()["code"] == 1001
        assert z.get("/users").json()["total_records"] == 0
    with sandbox.webex() as w:
        w.post("/people", json={"emails": ["late@example.ac.jp"], "displayName": "L"})
        assert w.get("/people", params={"email": "late@example.ac.jp"}).json()["items"] == []
    sandbox.move_clock(seconds=31)
    with sandbox.zoom() as z:
        assert z.get("/users/late@example.ac.jp").status_code == 200
    sandbox.admin_response("DELETE", "faults")


def test_admin_api_needs_token_and_validates(sandbox: Sandbox) -> None:
    assert httpx.post(f"{sandbox.url}/_admin/reset").status_code == 401
    assert sandbox.admin_response("PUT", "faults", json={"error_rate": 2}).status_code == 400
    assert sandbox.admin_response("PUT", "faults", json={"nonsense": 1}).status_code == 400
    assert sandbox.admin_response("PUT", "faults", content=b"{x").status_code == 400
    users = sandbox.admin_response("GET", "users").json()
    assert set(users) == {"webex", "zoom", "personal"}
    clock = sandbox.admin_response("POST", "clock", json={"advance_days": 2}).json()
    assert clock["offset_seconds"] == pytest.approx(172800)
