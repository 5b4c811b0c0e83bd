"""Connector fixtures: an independent SCIM server, and the vendor sandbox.

The contract suite is parametrised over `connector_case`; each case is a
connector talking to a real server on 127.0.0.1, plus the vendor-side
action a member would take: activating the invitation by following the link
in the sandbox's mail and submitting its page, CSRF token included.
"""

from __future__ import annotations

import itertools
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest

from campusconf.connectors import Connector, VendorUser
from campusconf.connectors.factory import build_connector
from campusconf.connectors.scim import ScimConnector
from tests.fixtures.sandbox import SandboxServer, activate_webex, activate_zoom

WEBEX_LICENCE = "Meeting - Webex Enterprise Edition"

_serial = itertools.count(1)


@dataclass
class ConnectorCase:
    name: str
    connector: Connector
    # Does what the member would do in the vendor's activation page.
    activate: Callable[[VendorUser], None]

    def address(self) -> str:
        return f"c{next(_serial)}-{secrets.token_hex(4)}@g.ecc.example.ac.jp"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def scim_server() -> Iterator[tuple[str, str]]:
    """scim2-server (an independent SCIM 2.0 implementation) in a subprocess."""
    port, token = _free_port(), "scim-test-token"
    command = [sys.executable, "-m", "scim2_server.testserver.cli"]
    process = subprocess.Popen(
        [*command, "--hostname", "127.0.0.1", "--port", str(port), "--bearer-token", token],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base_url = f"http://127.0.0.1:{port}/v2"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"{base_url}/ServiceProviderConfig", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("scim2-server did not start") from None
                time.sleep(0.1)
        yield base_url, token
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def webex_sandbox_case(request: pytest.FixtureRequest) -> Iterator[ConnectorCase]:
    server: SandboxServer = request.getfixturevalue("sandbox")  # reset for each test
    webex = server.creds["webex"]
    connector = build_connector(
        "webex",
        {"base_url": webex["base_url"], "licence_name": WEBEX_LICENCE},
        {"access_token": webex["token"]},
    )
    yield ConnectorCase("webex", connector, lambda user: activate_webex(server, user.email))
    connector.close()


@pytest.fixture
def zoom_sandbox_case(request: pytest.FixtureRequest) -> Iterator[ConnectorCase]:
    server: SandboxServer = request.getfixturevalue("sandbox")  # reset for each test
    zoom = server.creds["zoom"]
    connector = build_connector(
        "zoom",
        {"base_url": zoom["base_url"], "oauth_base_url": zoom["oauth_url"].rsplit("/oauth/", 1)[0]},
        {k: zoom[k] for k in ("account_id", "client_id", "client_secret")},
    )
    yield ConnectorCase("zoom", connector, lambda user: activate_zoom(server, user.email))
    connector.close()


@pytest.fixture(params=["scim", "webex", "zoom"])
def connector_case(request: pytest.FixtureRequest) -> Iterator[ConnectorCase]:
    if request.param == "scim":
        base_url, token = request.getfixturevalue("scim_server")
        connector = ScimConnector(base_url, token)
        yield ConnectorCase("scim", connector, activate=lambda _user: None)
        connector.close()
    else:
        yield request.getfixturevalue(f"{request.param}_sandbox_case")
