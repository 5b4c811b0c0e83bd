"""Connector fixtures: an independent SCIM server, and the vendor sandbox.

The contract suite is parametrised over `connector_case`; each case is a connector
talking to a real server on 127.0.0.1, plus the vendor-side action a member would take:
activating the invitation by following the link in the sandbox's mail and submitting
its page, CSRF token included. Against the sandbox, each case runs once per variant of
its vendor (`vendor_sandbox.variants.every_combination_of_one`, so a variant added
later is covered without editing this file), and every exchange the connector has is
recorded and held against the vendor contracts when the test ends: a request the
connector sends, or an answer the sandbox gives, outside the contract fails the test.
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
from campusconf.connectors.scim import ScimConnector
from campusconf.connectors.webex import WebexConnector, WebexCredentials
from campusconf.connectors.zoom import ZoomConnector, ZoomCredentials
from tests.connectors.recording import HttpxRecorder, Recorder, WireRecorder, sandbox_rebase
from tests.fixtures.sandbox import activate_webex, activate_zoom
from vendor_sandbox import variants
from vendor_sandbox.launcher import Sandbox

WEBEX_LICENCE = "Meeting - Webex Enterprise Edition"

_serial = itertools.count(1)


@dataclass
class ConnectorCase:
    name: str
    connector: Connector
    # Does what the member would do in the vendor's activation page.
    activate: Callable[[VendorUser], None]
    recorder: Recorder | None = None

    def address(self) -> str:
        return f"c{next(_serial)}-{secrets.token_hex(4)}@g.ecc.example.ac.jp"


def variant_combinations(vendor: str) -> list[dict[str, str]]:
    """The defaults, then each choice off its default of each variant that can change
    what ``vendor``'s APIs answer (its own, and any that names no single vendor)."""

    def concerns(name: str) -> bool:
        owner = variants.VARIANTS[name].vendor
        return owner == vendor or owner not in ("webex", "zoom")

    return [
        combo
        for combo in variants.every_combination_of_one()
        if all(choice == variants.DEFAULTS[n] or concerns(n) for n, choice in combo.items())
    ]


def variant_id(combo: dict[str, str]) -> str:
    changed = [f"{k}={v}" for k, v in combo.items() if v != variants.DEFAULTS[k]]
    return ",".join(changed) or "documented"


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


def _on_variant(server: Sandbox, combo: dict[str, str] | None) -> Recorder:
    """The sandbox (already reset by the ``sandbox`` fixture) set to ``combo``."""
    changed = {k: v for k, v in (combo or {}).items() if v != variants.DEFAULTS[k]}
    if changed:
        assert server.set_variants(**changed) == {**variants.DEFAULTS, **changed}
    return Recorder(sandbox_rebase(server.url))


def _webex_case(server: Sandbox, combo: dict[str, str] | None) -> Iterator[ConnectorCase]:
    recorder = _on_variant(server, combo)
    transport = WireRecorder(recorder)
    webex = server.creds["webex"]
    connector = WebexConnector(
        WebexCredentials(access_token=webex["token"]),
        base_url=webex["base_url"],
        licence_name=WEBEX_LICENCE,
        transport=transport,
    )
    activate = lambda user: activate_webex(server, user.email)  # noqa: E731
    yield ConnectorCase("webex", connector, activate, recorder)
    connector.close()
    transport.close()
    recorder.assert_conforms()


def _zoom_case(server: Sandbox, combo: dict[str, str] | None) -> Iterator[ConnectorCase]:
    recorder = _on_variant(server, combo)
    transport = WireRecorder(recorder)
    zoom = server.creds["zoom"]
    connector = ZoomConnector(
        ZoomCredentials(**{k: zoom[k] for k in ("account_id", "client_id", "client_secret")}),
        base_url=zoom["base_url"],
        oauth_base_url=zoom["oauth_url"].rsplit("/oauth/", 1)[0],
        transport=transport,
    )
    activate = lambda user: activate_zoom(server, user.email)  # noqa: E731
    yield ConnectorCase("zoom", connector, activate, recorder)
    connector.close()
    transport.close()
    recorder.assert_conforms()


def _scim_case(
    server: Sandbox, combo: dict[str, str] | None, vendor: str
) -> Iterator[ConnectorCase]:
    """The SCIM connector at the vendor's own SCIM API, with the vendor's profile."""
    recorder = _on_variant(server, combo)
    transport = HttpxRecorder(recorder)
    creds = server.creds[vendor]
    token = creds["token"] if vendor == "webex" else server.zoom_token()
    connector = ScimConnector(
        creds["scim_base_url"],
        token,
        profile=vendor,
        licence_name=WEBEX_LICENCE if vendor == "webex" else "",
        transport=transport,
    )
    yield ConnectorCase(f"scim-{vendor}", connector, lambda _user: None, recorder)
    connector.close()
    transport.close()
    recorder.assert_conforms()


@pytest.fixture
def webex_sandbox_case(sandbox: Sandbox) -> Iterator[ConnectorCase]:
    """The Webex connector on the documented sandbox (for Webex-only tests)."""
    yield from _webex_case(sandbox, None)


@pytest.fixture
def zoom_sandbox_case(sandbox: Sandbox) -> Iterator[ConnectorCase]:
    yield from _zoom_case(sandbox, None)


def _case_params() -> list[object]:
    out: list[object] = [pytest.param(("scim", None), id="scim")]
    for kind, vendor in (("webex", "webex"), ("zoom", "zoom")):
        out += [
            pytest.param((kind, combo), id=f"{kind}-{variant_id(combo)}")
            for combo in variant_combinations(vendor)
        ]
    for vendor in ("webex", "zoom"):
        out += [
            pytest.param((f"scim-{vendor}", combo), id=f"scim-{vendor}-{variant_id(combo)}")
            for combo in variant_combinations(vendor)
        ]
    return out


@pytest.fixture(params=_case_params())
def connector_case(request: pytest.FixtureRequest) -> Iterator[ConnectorCase]:
    kind, combo = request.param
    if kind == "scim":
        # An independent SCIM server: no vendor contract to hold it to.
        base_url, token = request.getfixturevalue("scim_server")
        connector = ScimConnector(base_url, token)
        yield ConnectorCase("scim", connector, lambda _user: None)
        connector.close()
        return
    server: Sandbox = request.getfixturevalue("sandbox")  # reset for each test
    if kind.startswith("scim-"):
        yield from _scim_case(server, combo, kind.removeprefix("scim-"))
    else:
        yield from {"webex": _webex_case, "zoom": _zoom_case}[kind](server, combo)
