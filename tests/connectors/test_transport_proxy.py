"""transport.http_client through the environment's HTTP proxy, against real servers on 127.0.0.1.

A small proxy answers CONNECT by relaying bytes to the test server (https targets)
and forwards absolute-URL requests (http targets); it records what it was asked and
can refuse, drop or garble its answer. The vendor's name, api.zoom.test, resolves
nowhere: a call that works through the proxy cannot have gone around it.
"""

from __future__ import annotations

import base64
import http.client
import select
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from cryptography import x509

from campusconf.connectors import Created, Ok, TransientFailure
from campusconf.connectors.transport.proxy import Proxy, proxy_for
from tests.connectors.test_transport_http_client import SPEC, FakeZoom, self_signed, serving, zoom

VENDOR = "api.zoom.test"
PROXY_VARIABLES = ["http_proxy", "https_proxy", "no_proxy", "all_proxy"]


class FakeProxy(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, credentials: str | None = None) -> None:
        super().__init__(("127.0.0.1", 0), ProxyHandler)
        self.expected = None if credentials is None else basic(credentials)
        self.mode = "relay"  # or "forbid" (403), "drop", "garble"
        self.seen: list[tuple[str, str, str | None, int]] = []  # method, target, auth, port
        self.closed = threading.Event()  # set each time the proxy closes a client's connection

    def shutdown_request(self, request: Any) -> None:
        super().shutdown_request(request)
        self.closed.set()

    def connects(self) -> list[tuple[str, str | None]]:
        return [(target, auth) for method, target, auth, _ in self.seen if method == "CONNECT"]

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server_address[1]}"


class ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FakeProxy

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _admit(self) -> bool:
        auth = self.headers.get("Proxy-Authorization")
        self.server.seen.append((self.command, self.path, auth, self.client_address[1]))
        mode = self.server.mode
        self.close_connection = mode != "relay"
        if mode == "drop":
            return False
        if mode == "garble":
            self.wfile.write(b"SPDY/9 what\r\n\r\n")
            return False
        if mode == "relay" and auth == self.server.expected:
            return True
        self.close_connection = True
        self.send_response(403 if mode == "forbid" else 407)
        self.send_header("Proxy-Authenticate", 'Basic realm="campus"')
        self.send_header("Content-Length", "0")
        self.end_headers()
        return False

    def do_CONNECT(self) -> None:
        if not self._admit():
            return
        port = int(self.path.rpartition(":")[2])  # every host is the test server
        with socket.create_connection(("127.0.0.1", port)) as upstream:
            self.send_response(200, "Connection established")
            self.end_headers()
            relay(self.connection, upstream)
        self.close_connection = True

    def _forward(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if not self._admit():
            return
        url = urlsplit(self.path)
        assert url.scheme == "http", self.path  # a forward proxy needs the absolute URL
        hop = ("proxy-authorization", "proxy-connection", "connection", "content-length")
        headers = {k: v for k, v in self.headers.items() if k.lower() not in hop}
        upstream = http.client.HTTPConnection("127.0.0.1", url.port or 80, timeout=10)
        try:
            path = url.path + (f"?{url.query}" if url.query else "")
            upstream.request(self.command, path, body=body or None, headers=headers)
            answer = upstream.getresponse()
            content = answer.read()
        finally:
            upstream.close()
        self.send_response(answer.status)
        for name, value in answer.getheaders():
            if name.lower() not in ("connection", "content-length", "server", "date"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    do_GET = do_POST = _forward


def relay(client: socket.socket, upstream: socket.socket) -> None:
    """Bytes both ways until either side closes (then so does the tunnel)."""
    while True:
        readable, _, _ = select.select([client, upstream], [], [], 10)
        if not readable:
            return
        for source in readable:
            data = source.recv(65536)
            if not data:
                return
            (upstream if source is client else client).sendall(data)


def basic(credentials: str) -> str:
    return "Basic " + base64.b64encode(credentials.encode()).decode("ascii")


@pytest.fixture
def proxy() -> Iterator[FakeProxy]:
    yield from running(FakeProxy("campus:s@cret"))


def running(proxy: FakeProxy) -> Iterator[FakeProxy]:
    thread = threading.Thread(target=proxy.serve_forever, daemon=True)
    thread.start()
    yield proxy
    proxy.shutdown()
    proxy.server_close()
    thread.join(5)


@pytest.fixture(autouse=True)
def no_proxy_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only what a test sets: not the proxy of the machine running the tests."""
    for variable in PROXY_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
        monkeypatch.delenv(variable.upper(), raising=False)


@pytest.fixture
def server() -> Iterator[FakeZoom]:
    yield from serving()


@pytest.fixture
def vendor_tls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeZoom]:
    """An https server with a trusted certificate for api.zoom.test only, not 127.0.0.1:
    the client must check the vendor's name, not the proxy's."""
    context, cert_file = self_signed(tmp_path, [x509.DNSName(VENDOR)])
    monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))
    yield from serving(context)


def port(server: FakeZoom | FakeProxy) -> int:
    return int(server.server_address[1])


def test_https_goes_through_one_connect_tunnel_with_the_proxy_credentials(
    vendor_tls: FakeZoom, proxy: FakeProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Percent-encoded in the URL, as a password with an @ must be.
    monkeypatch.setenv("HTTPS_PROXY", f"http://campus:s%40cret@{proxy.address}")
    connector = zoom(f"https://{VENDOR}:{port(vendor_tls)}")
    assert isinstance(connector.create_user(SPEC), Created)
    assert isinstance(connector.get_user("u1"), Ok)
    assert isinstance(connector.get_user("u1"), Ok)
    target = f"{VENDOR}:{port(vendor_tls)}"
    assert proxy.connects() == [(target, basic("campus:s@cret"))]  # one kept tunnel
    assert [p for _, p, _ in vendor_tls.seen] == [
        "/oauth/token",
        "/v2/users",
        *["/v2/users/u1"] * 2,
    ]
    assert vendor_tls.connections() == 1


def test_a_tunnel_the_vendor_closed_while_idle_is_replaced(
    vendor_tls: FakeZoom, proxy: FakeProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("https_proxy", f"http://campus:s%40cret@{proxy.address}")
    connector = zoom(f"https://{VENDOR}:{port(vendor_tls)}")
    vendor_tls.actions = ["answer", "answer-close"]  # the token, then a read
    assert isinstance(connector.get_user("u1"), Ok)
    assert vendor_tls.closed.wait(5)
    assert proxy.closed.wait(5)  # the tunnel closes behind it
    # A write: the closed tunnel is noticed before sending, so it is sent once.
    assert isinstance(connector.create_user(SPEC), Created)
    assert [m for m, _, _ in vendor_tls.seen] == ["POST", "GET", "POST"]
    assert len(proxy.connects()) == 2


def test_http_goes_to_the_forward_proxy_as_absolute_urls(
    server: FakeZoom, proxy: FakeProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", f"http://campus:s%40cret@{proxy.address}")
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")  # for https only: unused
    connector = zoom(f"http://{VENDOR}:{port(server)}")
    assert isinstance(connector.create_user(SPEC), Created)
    assert isinstance(connector.get_user("u1"), Ok)
    origin = f"http://{VENDOR}:{port(server)}"
    assert [(m, t.split("?")[0], a) for m, t, a, _ in proxy.seen] == [
        ("POST", f"{origin}/oauth/token", basic("campus:s@cret")),
        ("POST", f"{origin}/v2/users", basic("campus:s@cret")),
        ("GET", f"{origin}/v2/users/u1", basic("campus:s@cret")),
    ]
    assert len({client_port for *_, client_port in proxy.seen}) == 1  # kept alive
    assert [p for _, p, _ in server.seen] == ["/oauth/token", "/v2/users", "/v2/users/u1"]


def test_no_proxy_hosts_are_reached_directly(
    server: FakeZoom, proxy: FakeProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", f"http://{proxy.address}")
    monkeypatch.setenv("NO_PROXY", "intranet.example, .zoom.test")
    looked_up: list[str] = []
    resolve = socket.getaddrinfo

    def test_names_are_loopback(host: Any, *args: Any, **kwargs: Any) -> Any:
        looked_up.append(host)
        return resolve("127.0.0.1" if host.endswith(".test") else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", test_names_are_loopback)
    assert isinstance(zoom(f"http://{VENDOR}:{port(server)}").get_user("u1"), Ok)
    assert proxy.seen == []
    assert looked_up == [VENDOR]  # one connection, made by the client itself
    assert [p for _, p, _ in server.seen] == ["/oauth/token", "/v2/users/u1"]


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_loopback_is_reached_directly_without_no_proxy(
    host: str, server: FakeZoom, proxy: FakeProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", f"http://{proxy.address}")
    assert isinstance(zoom(f"http://{host}:{port(server)}").get_user("u1"), Ok)
    assert proxy.seen == []
    assert len(server.seen) == 2


@pytest.mark.parametrize(
    ("mode", "credentials", "expected"),
    [
        ("forbid", "campus:s%40cret@", "403"),
        ("relay", "", "407"),  # no credentials
        ("relay", "campus:wrong@", "407"),
        ("drop", "campus:s%40cret@", "ConnectError"),
        ("garble", "campus:s%40cret@", "SPDY/9"),
    ],
)
def test_a_proxy_that_refuses_the_tunnel_is_transient_and_nothing_is_sent(
    mode: str,
    credentials: str,
    expected: str,
    vendor_tls: FakeZoom,
    proxy: FakeProxy,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", f"http://{credentials}{proxy.address}")
    proxy.mode = mode
    outcome = zoom(f"https://{VENDOR}:{port(vendor_tls)}").create_user(SPEC)
    assert isinstance(outcome, TransientFailure), outcome  # even for a write
    assert "ConnectError" in outcome.reason and expected in outcome.reason
    assert f"via proxy {proxy.address}" in outcome.reason
    assert len(proxy.connects()) == 1
    assert vendor_tls.seen == []


def test_a_proxy_that_is_not_listening_is_transient(
    vendor_tls: FakeZoom, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]  # nothing listens once it is closed
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{free}")
    outcome = zoom(f"https://{VENDOR}:{port(vendor_tls)}").create_user(SPEC)
    assert isinstance(outcome, TransientFailure) and "ConnectError" in outcome.reason
    assert vendor_tls.seen == []


def test_a_proxy_url_wire_cannot_use_is_a_connect_error(
    vendor_tls: FakeZoom, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "socks5://127.0.0.1:1080")
    outcome = zoom(f"https://{VENDOR}:{port(vendor_tls)}").create_user(SPEC)
    assert isinstance(outcome, TransientFailure) and "socks5" in outcome.reason
    assert vendor_tls.seen == []


@pytest.mark.parametrize(
    ("env", "scheme", "origin", "expected"),
    [
        ({}, "https", "api.zoom.us", None),
        ({"HTTPS_PROXY": "proxy.campus:3128"}, "https", "api.zoom.us", Proxy("proxy.campus", 3128)),
        ({"HTTPS_PROXY": "http://proxy.campus"}, "https", "api.zoom.us", Proxy("proxy.campus", 80)),
        ({"HTTPS_PROXY": "http://proxy.campus:3128"}, "http", "api.zoom.us", None),
        (
            {"HTTPS_PROXY": "http://a:3128", "https_proxy": "http://b:3128"},
            "https",
            "api.zoom.us",
            Proxy("b", 3128),  # lower case wins, as in urllib
        ),
        (
            {"HTTPS_PROXY": "http://u:p@proxy.campus:3128"},
            "https",
            "webexapis.com",
            Proxy("proxy.campus", 3128, {"Proxy-Authorization": basic("u:p")}),
        ),
        ({"HTTPS_PROXY": "http://p:3128", "NO_PROXY": "zoom.us"}, "https", "api.zoom.us", None),
        ({"HTTPS_PROXY": "http://p:3128", "no_proxy": "*"}, "https", "webexapis.com", None),
        (
            {"HTTPS_PROXY": "http://p:3128", "NO_PROXY": "zoom.us"},
            "https",
            "webexapis.com",
            Proxy("p", 3128),
        ),
        ({"HTTPS_PROXY": "http://p:3128"}, "https", "127.0.0.2:8443", None),
        ({"HTTPS_PROXY": "http://p:3128"}, "https", "[::1]:8443", None),
        ({"HTTPS_PROXY": "http://p:3128"}, "https", "LOCALHOST:8443", None),
    ],
)
def test_proxy_for_reads_the_environment_as_urllib_does(
    env: dict[str, str],
    scheme: str,
    origin: str,
    expected: Proxy | None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert proxy_for(scheme, origin) == expected
