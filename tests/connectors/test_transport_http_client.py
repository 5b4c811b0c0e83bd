"""The connectors' own HTTP client (transport/http_client.py) against real servers on 127.0.0.1.

A small HTTP/1.1 server answers as Zoom would, and can be told how to treat each
next request: answer, answer and then close the connection without saying so (as a
server whose keep-alive time-out ran out), drop it without an answer, or hang.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import socket
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from campusconf.connectors import (
    Created,
    Ok,
    TransientFailure,
    UnknownOutcome,
    UserSpec,
    build_connector,
)
from campusconf.connectors.base import Connector
from campusconf.connectors.transport.http_client import Response

SPEC = UserSpec("1234567890@g.ecc.example.ac.jp", "Taro", "Yamada", "Taro Yamada")
USER = {"id": "u1", "email": SPEC.email, "status": "pending", "type": 2}


class FakeZoom(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.tls = tls
        self.actions: list[str] = []  # for the next requests; "answer" when empty
        self.seen: list[tuple[str, str, int]] = []  # method, path, client port
        self.closed = threading.Event()  # set each time the server closes a connection
        self.release = threading.Event()  # ends every hanging request
        self.lock = threading.Lock()

    def next_action(self, method: str, path: str, port: int) -> str:
        with self.lock:
            self.seen.append((method, path, port))
            return self.actions.pop(0) if self.actions else "answer"

    def connections(self) -> int:
        return len({port for _, _, port in self.seen})

    def get_request(self) -> tuple[Any, Any]:
        sock, address = super().get_request()
        if self.tls is not None:  # a failed handshake is an OSError: socketserver drops it
            sock = self.tls.wrap_socket(sock, server_side=True)
        return sock, address

    def shutdown_request(self, request: Any) -> None:
        super().shutdown_request(request)
        self.closed.set()

    @property
    def url(self) -> str:
        scheme = "http" if self.tls is None else "https"
        return f"{scheme}://127.0.0.1:{self.server_address[1]}"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive unless told otherwise
    server: FakeZoom

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _handle(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        path = self.path.split("?")[0]
        action = self.server.next_action(self.command, path, self.client_address[1])
        if action == "hang":
            self.server.release.wait(10)
        if action in ("drop", "hang"):
            self.close_connection = True
            return
        if path == "/oauth/token":
            status, body = 200, {"access_token": "tok", "expires_in": 3600}
        else:
            status, body = (201 if self.command == "POST" else 200), USER
        content = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)
        # "answer-close": close after answering, without a Connection: close header.
        self.close_connection = action == "answer-close"

    do_GET = do_POST = _handle


def serving(tls: ssl.SSLContext | None = None) -> Iterator[FakeZoom]:
    server = FakeZoom(tls)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def server() -> Iterator[FakeZoom]:
    yield from serving()


def self_signed(tmp_path: Path, names: list[x509.GeneralName]) -> tuple[ssl.SSLContext, Path]:
    """A server TLS context with a new self-signed certificate for `names`, and the
    certificate's file (for SSL_CERT_FILE)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "campusconf test only")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    return context, cert_file


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[FakeZoom, Path]]:
    """An https server whose self-signed certificate (for 127.0.0.1) is in cert.pem."""
    context, cert_file = self_signed(tmp_path, [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
    for server in serving(context):
        yield server, cert_file


def zoom(url: str, timeout: float | None = None) -> Connector:
    return build_connector(
        "zoom",
        {"base_url": f"{url}/v2", "oauth_base_url": url},
        {"account_id": "a", "client_id": "c", "client_secret": "s"},
        timeout=timeout,
    )


def test_one_keep_alive_connection_per_thread(server: FakeZoom) -> None:
    connector = zoom(server.url)
    assert isinstance(connector.create_user(SPEC), Created)
    assert isinstance(connector.get_user("u1"), Ok)
    assert isinstance(connector.get_user("u1"), Ok)
    assert server.connections() == 1  # token, create and both reads on one connection

    results: list[object] = []
    threads = [
        threading.Thread(target=lambda: results.append(connector.get_user("u1"))) for _ in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(isinstance(r, Ok) for r in results)
    assert server.connections() == 3  # each thread its own


def test_a_connection_the_server_closed_while_idle_is_replaced(server: FakeZoom) -> None:
    connector = zoom(server.url)
    server.actions = ["answer", "answer-close"]  # the token, then a read
    assert isinstance(connector.get_user("u1"), Ok)
    assert server.closed.wait(5)
    # A write, so nothing may be sent twice: the dead connection is noticed first.
    assert isinstance(connector.create_user(SPEC), Created)
    assert [m for m, _, _ in server.seen] == ["POST", "GET", "POST"]
    assert server.connections() == 2


def test_a_read_dropped_on_a_kept_connection_is_sent_again(server: FakeZoom) -> None:
    connector = zoom(server.url)
    assert isinstance(connector.get_user("u1"), Ok)
    server.actions = ["drop"]
    assert isinstance(connector.get_user("u1"), Ok)
    assert [p for _, p, _ in server.seen] == ["/oauth/token", *["/v2/users/u1"] * 3]
    assert server.connections() == 2


def test_a_write_dropped_without_an_answer_is_unknown_and_not_sent_again(
    server: FakeZoom,
) -> None:
    connector = zoom(server.url)
    assert isinstance(connector.get_user("u1"), Ok)
    server.actions = ["drop"]
    outcome = connector.create_user(SPEC)
    assert isinstance(outcome, UnknownOutcome), outcome
    assert [m for m, _, _ in server.seen].count("POST") == 2  # the token and one create
    assert isinstance(connector.get_user("u1"), Ok)  # and the next call reconnects


def test_a_read_time_out_is_unknown_for_a_write_and_transient_for_a_read(
    server: FakeZoom,
) -> None:
    connector = zoom(server.url, timeout=0.3)
    assert isinstance(connector.get_user("u1"), Ok)
    server.actions = ["hang", "hang"]
    created = connector.create_user(SPEC)
    assert isinstance(created, UnknownOutcome) and "ReadTimeout" in created.reason
    read = connector.get_user("u1")
    assert isinstance(read, TransientFailure) and "ReadTimeout" in read.reason
    server.release.set()
    assert isinstance(connector.get_user("u1"), Ok)


def test_a_refused_connection_is_transient_even_for_a_write() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens once it is closed
    outcome = zoom(f"http://127.0.0.1:{port}").create_user(SPEC)
    assert isinstance(outcome, TransientFailure) and "ConnectError" in outcome.reason


def test_https_verifies_the_certificate_with_the_default_context(
    tls_server: tuple[FakeZoom, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, cert_file = tls_server
    # Not trusted: the handshake fails before anything is sent, so even a write is
    # only a transient failure.
    outcome = zoom(server.url).create_user(SPEC)
    assert isinstance(outcome, TransientFailure) and "ConnectError" in outcome.reason
    assert server.seen == []
    # Trusted (OpenSSL's default verify paths honour SSL_CERT_FILE): the same calls work.
    monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))
    connector = zoom(server.url)
    assert isinstance(connector.create_user(SPEC), Created)
    assert isinstance(connector.get_user("u1"), Ok)
    assert server.connections() == 1


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ('<https://x.test/v1/people?c=2>; rel="next"', "https://x.test/v1/people?c=2"),
        ('<https://x.test/a>; rel="prev", <https://x.test/b>; rel="next"', "https://x.test/b"),
        ("<https://x.test/b>; rel=next", "https://x.test/b"),
        ('<https://x.test/a>; rel="prev"', None),
        (None, None),
    ],
)
def test_the_link_header_gives_the_next_page(header: str | None, expected: str | None) -> None:
    headers = {} if header is None else {"link": header}
    assert Response(200, headers).next_link() == expected
