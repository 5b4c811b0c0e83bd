"""The multiplexer (transport/mux.py) against real servers on 127.0.0.1: framing, keep-alive,
lost and late answers, TLS; and a connector's create read from it as from its own call.

A raw server answers each request with the bytes a test scripts, cut into pieces sent
apart, so every way HTTP/1.1 frames a body is read across packet boundaries.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from campusconf.connectors import Created, RateLimited, TransientFailure, UnknownOutcome
from campusconf.connectors.base import SingleRequestCreate
from campusconf.connectors.transport.http_client import (
    ConnectError,
    PerThreadConnections,
    ReadError,
    ReadTimeout,
    RemoteProtocolError,
    Request,
    Response,
    Timeout,
)
from campusconf.connectors.transport.mux import Multiplexer
from tests.connectors.test_transport_http_client import SPEC, USER, FakeZoom, tls_server, zoom

__all__ = ["tls_server"]  # the https server fixture, shared with test_transport_http_client

BODY = json.dumps(USER).encode()
CREATED = (
    b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
    b"Content-Length: " + str(len(BODY)).encode() + b"\r\n\r\n" + BODY
)


class RawServer:
    """Answers each request with the next scripted pieces (then closes, if told)."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.script: list[tuple[list[bytes], bool]] = []
        self.requests: list[bytes] = []
        self.accepted = 0
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.accepted += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        # A client that closes with answers unread resets the connection: that ends
        # this connection, as a server's would, and is no failure of the test.
        with conn, contextlib.suppress(ConnectionResetError, BrokenPipeError):
            self._answer(conn)

    def _answer(self, conn: socket.socket) -> None:
        buf = b""
        while True:
            while b"\r\n\r\n" not in buf:
                data = conn.recv(65536)
                if not data:
                    return
                buf += data
            head, _, buf = buf.partition(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            while len(buf) < length:
                buf += conn.recv(65536)
            with self.lock:
                self.requests.append(head + b"\r\n\r\n" + buf[:length])
                pieces, close = self.script.pop(0) if self.script else ([CREATED], False)
            buf = buf[length:]
            for piece in pieces:
                conn.sendall(piece)
                time.sleep(0.01)  # apart: the reader sees each piece on its own
            if close:
                return

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def raw() -> Iterator[RawServer]:
    server = RawServer()
    yield server
    server.close()


def post(url: str, body: bytes = b"{}") -> Request:
    return Request("POST", url + "/v2/users", {"Content-Type": "application/json"}, body)


def exchange(
    requests: list[Request], per_origin: int = 4, timeout: Timeout | None = None
) -> dict[int, Response | Exception]:
    via = PerThreadConnections(timeout or Timeout(connect=2, read=2))
    mux: Multiplexer[int] = Multiplexer(per_origin)
    for i, request in enumerate(requests):
        mux.send(request, i, via)
    answers: dict[int, Response | Exception] = {}
    deadline = time.monotonic() + 10
    while len(answers) < len(requests) and time.monotonic() < deadline:
        answers.update(mux.poll(0.5))
    mux.close()
    return answers


def split(data: bytes, *cuts: int) -> list[bytes]:
    points = [0, *cuts, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(points)]


CHUNKED = (
    b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\nX-Zm-Trackingid: t1\r\n\r\n"
    + b"%x;ext=1\r\n" % 10
    + BODY[:10]
    + b"\r\n"
    + b"%x\r\n" % (len(BODY) - 10)
    + BODY[10:]
    + b"\r\n0\r\nX-Trailer: yes\r\n\r\n"
)
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n" + CREATED


@pytest.mark.parametrize(
    ("pieces", "close"),
    [
        (split(CREATED, 5, 40, len(CREATED) - 3), False),  # by length, cut anywhere
        (split(CHUNKED, 30, 90, len(CHUNKED) - 4), False),  # chunks and a trailer
        (split(CONTINUE, 10, 30), False),  # an interim answer first
        ([b"HTTP/1.1 201 Created\r\nConnection: close\r\n\r\n", BODY], True),  # to the end
    ],
    ids=["content-length", "chunked", "100-continue", "until-close"],
)
def test_a_body_however_framed_is_read_whole(
    raw: RawServer, pieces: list[bytes], close: bool
) -> None:
    raw.script = [(pieces, close)]
    [answer] = exchange([post(raw.url)]).values()
    assert isinstance(answer, Response)
    assert (answer.status_code, json.loads(answer.content)) == (201, USER)


def test_requests_beyond_the_connections_wait_their_turn_on_kept_connections(
    raw: RawServer,
) -> None:
    answers = exchange([post(raw.url, b'{"n": %d}' % i) for i in range(30)], per_origin=3)
    assert sorted(answers) == list(range(30))
    assert all(isinstance(a, Response) and a.status_code == 201 for a in answers.values())
    assert raw.accepted == 3
    # Sent as given: the body, its length and the Host; no body is sent twice.
    bodies = sorted(r.partition(b"\r\n\r\n")[2] for r in raw.requests)
    assert bodies == sorted(b'{"n": %d}' % i for i in range(30))
    assert all(b"\r\nHost: 127.0.0.1:" in r for r in raw.requests)


def test_a_connection_the_server_closed_while_idle_is_replaced(raw: RawServer) -> None:
    raw.script = [([CREATED], True), ([CREATED], True)]  # closes without saying so
    via = PerThreadConnections(Timeout(2, 2))
    mux: Multiplexer[int] = Multiplexer(1)
    answers = []
    for i in range(3):
        mux.send(post(raw.url), i, via)
        deadline = time.monotonic() + 5
        while len(answers) <= i and time.monotonic() < deadline:
            answers += mux.poll(0.5)
        time.sleep(0.1)  # idle: the server's close arrives
    mux.close()
    assert all(isinstance(a, Response) for _, a in answers)
    assert len(raw.requests) == 3  # none lost, none sent twice
    assert raw.accepted == 3


def test_an_answer_cut_short_or_garbled_is_a_protocol_error(raw: RawServer) -> None:
    raw.script = [
        ([CREATED[:-5]], True),  # the connection ends inside the body
        ([b"SMTP ready\r\n\r\n"], True),
        ([b""], True),  # closed without a byte: may have been processed
    ]
    answers = exchange([post(raw.url) for _ in range(3)], per_origin=1)
    assert [type(answers[i]) for i in range(3)] == [
        RemoteProtocolError,
        RemoteProtocolError,
        ReadError,
    ]


def test_no_answer_in_time_is_a_read_timeout_and_the_others_still_arrive(
    raw: RawServer,
) -> None:
    raw.script = [([b"HTTP/1.1 201 Created\r\nContent-Length: 500\r\n\r\n{"], False)]
    started = time.monotonic()
    answers = exchange([post(raw.url), post(raw.url)], per_origin=2, timeout=Timeout(2, 0.5))
    assert 0.4 < time.monotonic() - started < 5
    kinds = sorted(type(a).__name__ for a in answers.values())
    assert kinds == ["ReadTimeout", "Response"]
    assert isinstance(next(a for a in answers.values() if not isinstance(a, Response)), ReadTimeout)


def test_a_refused_connection_fails_every_waiting_request_at_once() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens once it is closed
    answers = exchange([post(f"http://127.0.0.1:{port}") for _ in range(5)], per_origin=2)
    assert len(answers) == 5
    assert all(isinstance(a, ConnectError) and a.never_sent for a in answers.values())


@pytest.fixture
def fake_zoom() -> Iterator[FakeZoom]:
    from tests.connectors.test_transport_http_client import serving

    yield from serving()


def warm(url: str) -> SingleRequestCreate:
    connector = zoom(url)
    assert isinstance(connector.create_user(SPEC), Created)  # fetches the token
    assert isinstance(connector, SingleRequestCreate)
    return connector


def read_one(connector: SingleRequestCreate, timeout: float = 5.0) -> object:
    made = connector.create_exchange(SPEC)
    assert made is not None
    mux: Multiplexer[int] = Multiplexer(2)
    mux.send(made.request, 1, made.via)
    answers: list[tuple[int, object]] = []
    deadline = time.monotonic() + timeout
    while not answers and time.monotonic() < deadline:
        answers = mux.poll(0.2)
    mux.close()
    [(_, answer)] = answers
    return made.read(answer)  # type: ignore[arg-type]


def test_a_create_read_from_the_multiplexer_is_what_create_user_returns(
    fake_zoom: FakeZoom,
) -> None:
    connector = warm(fake_zoom.url)
    outcome = read_one(connector)
    assert isinstance(outcome, Created) and outcome.user.vendor_id == "u1"
    # A write dropped without an answer: unknown (look before retrying), sent once.
    fake_zoom.actions = ["drop"]
    posts = len([s for s in fake_zoom.seen if s[0] == "POST"])
    assert isinstance(read_one(connector), UnknownOutcome)
    assert len([s for s in fake_zoom.seen if s[0] == "POST"]) == posts + 1


def test_a_create_that_needs_a_token_first_is_left_to_create_user(fake_zoom: FakeZoom) -> None:
    connector = zoom(fake_zoom.url)
    assert isinstance(connector, SingleRequestCreate)
    assert connector.create_exchange(SPEC) is None  # no token yet
    assert fake_zoom.seen == []


def test_a_401_on_the_multiplexer_hands_the_create_back_and_forgets_the_token(
    raw: RawServer,
) -> None:
    token = json.dumps({"access_token": "t", "expires_in": 3600}).encode()
    ok = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(token) + token
    unauthorised = b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 2\r\n\r\n{}"
    limited = (
        b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 3\r\nX-RateLimit-Type: QPS\r\n"
        b"Content-Length: 2\r\n\r\n{}"
    )
    raw.script = [([ok], False), ([CREATED], False), ([unauthorised], False), ([limited], False)]
    connector = warm(raw.url)
    assert read_one(connector) is None  # nothing was done: the caller runs create_user
    assert connector.create_exchange(SPEC) is None  # the token is gone with the 401
    connector.create_user(SPEC)  # renews (the default answer is no token: a failure)
    raw.script = [([ok], False), ([CREATED], False), ([limited], False)]
    connector = warm(raw.url)
    outcome = read_one(connector)
    assert isinstance(outcome, RateLimited) and outcome.retry_after == 3.0


def test_https_through_the_multiplexer_verifies_and_reuses_the_tls_connection(
    tls_server: tuple[FakeZoom, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, cert_file = tls_server
    monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))
    connector = warm(server.url)
    for _ in range(3):
        assert isinstance(read_one(connector), Created)
    assert len(server.seen) == 5  # the token, the warm-up create, three creates


def test_https_to_an_untrusted_certificate_is_never_sent(
    tls_server: tuple[FakeZoom, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, cert_file = tls_server
    monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))
    connector = warm(server.url)
    monkeypatch.delenv("SSL_CERT_FILE")
    via = PerThreadConnections(Timeout(2, 2))  # a new context, without the certificate
    made = connector.create_exchange(SPEC)
    assert made is not None
    mux: Multiplexer[int] = Multiplexer(1)
    mux.send(made.request, 1, via)
    [(_, answer)] = mux.poll(1)
    mux.close()
    assert isinstance(answer, ConnectError)
    assert isinstance(made.read(answer), TransientFailure)
    assert len(server.seen) == 2
