"""SANDBOX_COUNT_CLIENTS: the sandbox counts every request by the client's address too,
so that a proof with several machines (bench/multihost.py) can say which one asked."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.fixtures.sandbox import start_sandbox


def _other(server) -> dict[str, int]:
    time.sleep(1.1)  # each sandbox process flushes its counts every 0.5 s
    return dict(server.admin("GET", "counters").json()["other"])


@pytest.mark.parametrize("on", [True, False])
def test_requests_are_counted_by_client_address_only_when_asked(tmp_path: Path, on: bool) -> None:
    env = {"SANDBOX_COUNT_CLIENTS": "1" if on else "0", "SANDBOX_WORKERS": "1"}
    with start_sandbox(tmp_path, env=env) as server, server.zoom() as zoom:
        created = zoom.post(
            "/users",
            json={"action": "create", "user_info": {"email": "a@example.ac.jp", "type": 1}},
        )
        assert created.status_code == 201, created.text
        assert zoom.get("/users/nobody@example.ac.jp").status_code == 404
        other = _other(server)
    clients = {k: n for k, n in other.items() if k.startswith("client ")}
    if not on:
        assert clients == {}
        return
    assert clients["client 127.0.0.1 POST 201"] == 1
    assert clients["client 127.0.0.1 GET 404"] == 1
    assert clients["client 127.0.0.1 POST 200"] >= 1  # the token
