"""The contract held against the sandbox beyond the connector suite.

The connector suite (test_contract.py) checks every exchange of its cases. Here: the
endpoints of the contract it does not reach (Webex's activation-mail job, Zoom's
address check and summary, error answers, the Zoom webhooks the sandbox sends), each
on every variant of its vendor, and the proof that a sandbox answer outside the
contract fails the check.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from campusconf.connectors import Ok, UserSpec
from campusconf.connectors.contract import check_webhook
from campusconf.connectors.transport import http_client
from campusconf.connectors.webex import WebexConnector, WebexCredentials
from campusconf.connectors.zoom import ZoomConnector, ZoomCredentials
from tests.connectors.conftest import WEBEX_LICENCE, variant_combinations, variant_id
from tests.connectors.recording import HttpxRecorder, Recorder, WireRecorder, sandbox_rebase
from tests.fixtures.sandbox import activate_zoom, unique_email
from vendor_sandbox import variants
from vendor_sandbox.launcher import Sandbox


def on_variant(server: Sandbox, combo: dict[str, str]) -> Recorder:
    changed = {k: v for k, v in combo.items() if v != variants.DEFAULTS[k]}
    if changed:
        server.set_variants(**changed)
    return Recorder(sandbox_rebase(server.url))


def zoom_connector(server: Sandbox, transport: http_client.Transport) -> ZoomConnector:
    zoom = server.creds["zoom"]
    return ZoomConnector(
        ZoomCredentials(zoom["account_id"], zoom["client_id"], zoom["client_secret"]),
        base_url=zoom["base_url"],
        oauth_base_url=zoom["oauth_url"].rsplit("/oauth/", 1)[0],
        transport=transport,
    )


@pytest.mark.parametrize(
    "combo", [pytest.param(c, id=variant_id(c)) for c in variant_combinations("webex")]
)
def test_webex_activation_job_and_errors_keep_the_contract(
    sandbox: Sandbox, combo: dict[str, str]
) -> None:
    recorder = on_variant(sandbox, combo)
    webex = sandbox.creds["webex"]
    org = webex["org_id"]
    jobs = f"/identity/organizations/{org}/jobs/sendActivationEmails"
    headers = {"Authorization": f"Bearer {webex['token']}"}
    with httpx.Client(
        base_url=webex["base_url"], headers=headers, transport=HttpxRecorder(recorder)
    ) as client:
        client.post("/people", json={"emails": [unique_email("job")], "displayName": "J"})
        job = client.post(jobs)
        assert job.status_code == 202
        client.get(f"{jobs}/{job.json()['id']}/status").raise_for_status()
        client.get(f"{jobs}/{job.json()['id']}/errors").raise_for_status()
        assert client.get("/people/nobody").status_code == 404
    # Sent wrong on purpose: only the answers are held to the contract.
    wrong = Recorder(recorder.rebase, requests=False)
    with httpx.Client(base_url=webex["base_url"], transport=HttpxRecorder(wrong)) as anon:
        assert anon.get("/people", headers={"Authorization": "Bearer nope"}).status_code == 401
        bad = anon.post("/people", json={"emails": ["not an address"]}, headers=headers)
        assert bad.status_code == 400
    recorder.assert_conforms()
    wrong.assert_conforms()


@pytest.mark.parametrize(
    "combo", [pytest.param(c, id=variant_id(c)) for c in variant_combinations("zoom")]
)
def test_zoom_address_check_summary_and_errors_keep_the_contract(
    sandbox: Sandbox, combo: dict[str, str]
) -> None:
    recorder = on_variant(sandbox, combo)
    transport = WireRecorder(recorder)
    zoom = zoom_connector(sandbox, transport)
    address = unique_email("chk")
    spec = UserSpec(address, "Taro", "Yamada", "Taro Yamada")
    zoom.create_user(spec)
    zoom.create_user(spec)  # 409, code 1005
    zoom.get_user("no-such-user")  # 404, code 1001
    zoom.close()
    transport.close()
    token = sandbox.zoom_token()
    base, headers = sandbox.creds["zoom"]["base_url"], {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=headers, transport=HttpxRecorder(recorder)) as c:
        c.get("/users/summary").raise_for_status()
        # No connector asks any more (Z-b), but the sandbox still answers it as Zoom does.
        checked = c.get("/users/email", params={"email": unique_email("chk")})
        assert checked.json() == {"existed_email": False}
    # Sent wrong on purpose: only the answers are held to the contract.
    wrong = Recorder(recorder.rebase, requests=False)
    with httpx.Client(base_url=base, headers=headers, transport=HttpxRecorder(wrong)) as c:
        bad = c.post("/users", json={"action": "create", "user_info": {"email": "x"}})
        assert bad.status_code == 400
    recorder.assert_conforms()
    wrong.assert_conforms()


class _Receiver(BaseHTTPRequestHandler):
    received: list[tuple[dict[str, str], bytes]]
    arrived: threading.Condition

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with self.arrived:
            self.received.append((dict(self.headers.items()), body))
            self.arrived.notify_all()
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def receiver(sandbox: Sandbox) -> Iterator[type[_Receiver]]:
    handler = type("Receiver", (_Receiver,), {"received": [], "arrived": threading.Condition()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/zoom/events"
    sandbox.admin_response("PUT", "webhook", json={"url": url}).raise_for_status()
    yield handler
    sandbox.admin_response("PUT", "webhook", json={"url": ""}).raise_for_status()
    server.shutdown()
    server.server_close()


def test_the_zoom_webhooks_the_sandbox_sends_keep_the_contract(
    sandbox: Sandbox, receiver: type[_Receiver]
) -> None:
    """Z-g: the sandbox's deliveries, as Zoom's contract describes them."""
    transport = WireRecorder(Recorder(sandbox_rebase(sandbox.url)))
    zoom = zoom_connector(sandbox, transport)
    address = unique_email("hook")
    created = zoom.create_user(UserSpec(address, "Taro", "Yamada", "Taro Yamada"))
    activate_zoom(sandbox, address)
    assert created.user is not None and created.user.vendor_id  # type: ignore[union-attr]
    assert isinstance(zoom.deactivate(created.user.vendor_id), Ok)  # type: ignore[union-attr]
    zoom.close()
    transport.close()
    wanted = {"user.created", "user.deactivated"}
    with receiver.arrived:
        receiver.arrived.wait_for(
            lambda: wanted <= {json.loads(b)["event"] for _, b in receiver.received}, timeout=20
        )
        deliveries = list(receiver.received)
    events = {json.loads(body)["event"] for _, body in deliveries}
    assert wanted <= events, events
    problems = [p for headers, body in deliveries for p in check_webhook(headers, body, None)]
    assert problems == []


class _Tampering:
    """Between the connector and the sandbox: changes one field of person answers."""

    def __init__(self, inner: WireRecorder) -> None:
        self.inner = inner

    def __call__(self, request: http_client.Request) -> http_client.Response:
        answer = self.inner(request)
        if request.method == "GET" and "/people/" in request.url and answer.status_code == 200:
            body = json.loads(answer.content)
            body["invitePending"] = "maybe"
            answer = http_client.Response(200, answer.headers, json.dumps(body).encode())
            # The recorder saw the sandbox's answer: record the changed one instead.
            seen = self.inner.recorder.exchanges
            seen[-1] = replace(seen[-1], response_body=answer.content)
        return answer


def test_a_sandbox_answer_outside_the_contract_fails_the_check(sandbox: Sandbox) -> None:
    recorder = Recorder(sandbox_rebase(sandbox.url))
    inner = WireRecorder(recorder)
    webex = sandbox.creds["webex"]
    connector = WebexConnector(
        WebexCredentials(access_token=webex["token"]),
        base_url=webex["base_url"],
        licence_name=WEBEX_LICENCE,
        transport=_Tampering(inner),
    )
    created = connector.create_user(UserSpec(unique_email("tamper"), "T", "Y", "T Y"))
    assert created.user is not None and created.user.vendor_id  # type: ignore[union-attr]
    connector.get_user(created.user.vendor_id)  # type: ignore[union-attr]
    connector.close()
    inner.close()
    problems = recorder.problems()
    assert len(problems) == 1 and "invitePending" in problems[0], problems
    with pytest.raises(AssertionError, match="outside the vendor contract"):
        recorder.assert_conforms()
