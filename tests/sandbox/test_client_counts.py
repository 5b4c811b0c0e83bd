"""SANDBOX_COUNT_CLIENTS: the sandbox counts every request by the client's address too,
so that a proof with several machines (bench/multihost.py) can say which one asked."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from vendor_sandbox.launcher import running_sandbox


@pytest.mark.parametrize("on", [True, False])
def test_requests_are_counted_by_client_address_only_when_asked(tmp_path: Path, on: bool) -> None:
    settings = {"SANDBOX_COUNT_CLIENTS": "1" if on else "0", "SANDBOX_WORKERS": "1"}
    with running_sandbox(tmp_path, SANDBOX_LIMITS="0", **settings) as sandbox:
        with sandbox.zoom() as zoom:
            created = zoom.post(
                "/users",
                json={"action": "create", "user_info": {"email": "a@example.ac.jp", "type": 1}},
            )
            assert created.status_code == 201, created.text
            assert zoom.get("/users/nobody@example.ac.jp").status_code == 404
        time.sleep(1.1)  # each sandbox process flushes its counts every 0.5 s
        other = sandbox.counters()["other"]
    clients = {k: n for k, n in other.items() if k.startswith("client ")}
    if not on:
        assert clients == {}
        return
    assert clients["client 127.0.0.1 POST 201"] == 1
    assert clients["client 127.0.0.1 GET 404"] == 1
    assert clients["client 127.0.0.1 POST 200"] >= 1  # the token
