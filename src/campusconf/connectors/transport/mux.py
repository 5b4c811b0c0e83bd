"""Many requests in flight from one thread: the engine's creates, multiplexed.

A thread per call in flight costs the engine more CPU than the call itself: each
answer wakes a thread, passes the interpreter lock around and crosses a future, and
http.client parses every header through the e-mail parser. A worker's main thread
instead writes a batch's creates to a few keep-alive connections and reads the
answers as they arrive (``selectors``), parsing only what HTTP/1.1 needs here: the
status line, the header fields and a body framed by Content-Length, chunks or the
end of the connection.

Connections are made by the connector's own transport (``PerThreadConnections.dial``:
the same proxy, TLS context and time-outs), then used without blocking. One request
per connection at a time, as the threaded transport sends them: no pipelining, so a
lost answer stays one request's problem. The errors are the threaded transport's
too, so a connector reads an answer the same whichever way it travelled.
"""

from __future__ import annotations

import contextlib
import select
import selectors
import socket
import ssl
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from campusconf.connectors.transport.framing import dechunk, encode, parse_head
from campusconf.connectors.transport.http_client import (
    ConnectError,
    Link,
    PerThreadConnections,
    ReadError,
    ReadTimeout,
    RemoteProtocolError,
    Request,
    Response,
    TransportError,
)

T = TypeVar("T")

MAX_HEAD = 64 * 1024  # header section; more is not an answer we asked for
_NO_BODY = (204, 304)
_WOULD_BLOCK = (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError)


@dataclass(slots=True)
class _Sent(Generic[T]):
    tag: T
    request: Request
    via: PerThreadConnections
    retried: bool = False  # a read sent again once after a reused connection dropped


@dataclass(slots=True, eq=False)
class _Conn(Generic[T]):
    """One connection, and the request it carries (if any)."""

    link: Link
    key: tuple[int, str, str]
    out: bytes = b""
    buf: bytearray = field(default_factory=bytearray)
    sent: _Sent[T] | None = None
    deadline: float = 0.0
    reused: bool = False
    head: tuple[int, dict[str, str], bool] | None = None  # status, fields, keep-alive
    got_bytes: bool = False
    writing: bool = False  # registered for write events too: a send did not complete

    @property
    def sock(self) -> socket.socket:
        sock: socket.socket | None = self.link.connection.sock
        assert sock is not None
        return sock


class Multiplexer(Generic[T]):
    """Requests sent from the calling thread, answers collected by ``poll``.

    ``send`` queues a request with a tag; ``poll`` writes what can be written, reads
    what has arrived and returns ``(tag, Response | TransportError)`` for every
    request that ended. At most ``per_origin`` connections per origin; requests
    beyond that wait for a free one, in order. Not thread-safe, but for ``wake``:
    another thread may cut a ``poll`` short with it.
    """

    def __init__(self, per_origin: int) -> None:
        self.per_origin = max(1, per_origin)
        self._selector = selectors.DefaultSelector()
        # A poll waits on this too, so that another thread can end the wait at once.
        self._bell, self._ringer = socket.socketpair()
        self._bell.setblocking(False)
        self._ringer.setblocking(False)
        self._selector.register(self._bell, selectors.EVENT_READ, None)
        self._idle: dict[tuple[int, str, str], list[_Conn[T]]] = {}
        self._open: dict[tuple[int, str, str], int] = {}
        self._queued: dict[tuple[int, str, str], deque[_Sent[T]]] = {}
        self._busy: set[_Conn[T]] = set()
        self._ended: list[tuple[T, Response | TransportError]] = []

    def __len__(self) -> int:
        """Requests queued or in flight."""
        return len(self._busy) + sum(len(q) for q in self._queued.values())

    def send(self, request: Request, tag: T, via: PerThreadConnections) -> None:
        """Send ``request`` over ``via``'s connections; its answer comes from ``poll``."""
        scheme, _, rest = request.url.partition("://")
        origin = rest.partition("/")[0]
        key = (id(via), scheme, origin)
        self._queued.setdefault(key, deque()).append(_Sent(tag, request, via))
        self._dispatch(key)

    def wake(self) -> None:
        """End the current (or the next) ``poll``'s wait now; safe from any thread."""
        # Already rung (the buffer is full), or closed: either way no poll waits.
        with contextlib.suppress(OSError):
            self._ringer.send(b"\0")

    def poll(self, timeout: float) -> list[tuple[T, Response | TransportError]]:
        """Wait up to ``timeout`` seconds for answers (or a ``wake``); every request
        that ended since."""
        if not self._ended:
            if self._busy:
                timeout = min(timeout, min(c.deadline for c in self._busy) - time.monotonic())
            events = self._selector.select(max(0.0, timeout))
            for selector_key, mask in events:
                conn: _Conn[T] | None = selector_key.data
                if conn is None:
                    self._hush()
                    continue
                if mask & selectors.EVENT_WRITE:
                    self._write(conn)
                if not mask & selectors.EVENT_READ:
                    continue
                if conn in self._busy:
                    self._read(conn)
                elif conn in self._idle.get(conn.key, ()):
                    # Idle and readable: the server closed it (or sent what we never asked).
                    self._idle[conn.key].remove(conn)
                    self._drop(conn)
            now = time.monotonic()
            for conn in [c for c in self._busy if c.deadline <= now]:
                self._fail(conn, ReadTimeout("no answer in time"))
        ended, self._ended = self._ended, []
        return ended

    def _hush(self) -> None:
        with contextlib.suppress(BlockingIOError, InterruptedError):
            while self._bell.recv(4096):
                pass

    def close(self) -> None:
        """Close every connection; answers still awaited are dropped."""
        self._queued.clear()
        for conn in list(self._busy):
            self._release(conn)
            self._drop(conn)
        for conns in self._idle.values():
            for conn in conns:
                self._drop(conn)
        self._idle.clear()
        self._open.clear()
        self._ended.clear()
        self._selector.close()
        self._bell.close()
        self._ringer.close()

    # --- connections ----------------------------------------------------------------

    def _dispatch(self, key: tuple[int, str, str]) -> None:
        queued = self._queued.get(key)
        while queued:
            conn = self._take(key, queued[0])
            if conn is None:
                return
            self._start(conn, queued.popleft())

    def _take(self, key: tuple[int, str, str], first: _Sent[T]) -> _Conn[T] | None:
        """An idle connection of ``key`` still open, or a new one if there is room."""
        idle = self._idle.get(key)
        while idle:
            conn = idle.pop()
            if _closed_by_peer(conn):
                self._drop(conn)
                continue
            conn.reused = True
            return conn
        if self._open.get(key, 0) >= self.per_origin:
            return None
        _, scheme, origin = key
        try:
            link = first.via.dial(scheme, origin)
        except ConnectError as exc:
            # Nothing was sent: every request waiting for this origin fails alike now
            # rather than paying the connect time-out once each.
            for sent in self._queued.pop(key, deque()):
                self._ended.append((sent.tag, exc))
            return None
        link.connection.sock.setblocking(False)
        self._open[key] = self._open.get(key, 0) + 1
        new: _Conn[T] = _Conn(link, key)
        # Registered for its whole life: reading is what it waits for, between requests too.
        self._selector.register(new.sock, selectors.EVENT_READ, new)
        return new

    def _start(self, conn: _Conn[T], sent: _Sent[T]) -> None:
        conn.sent, conn.head, conn.got_bytes = sent, None, False
        conn.buf.clear()
        conn.out = encode(sent.request, conn.link)
        conn.deadline = time.monotonic() + sent.via.read_timeout
        self._busy.add(conn)
        self._write(conn)

    def _write(self, conn: _Conn[T]) -> None:
        try:
            while conn.out:
                conn.out = conn.out[conn.sock.send(conn.out) :]
        except _WOULD_BLOCK:
            pass
        except OSError as exc:
            self._lost(conn, exc)
            return
        if conn.out and not conn.writing:
            conn.writing = True  # the rest goes when the socket can take it
            self._selector.modify(conn.sock, selectors.EVENT_READ | selectors.EVENT_WRITE, conn)
        elif not conn.out and conn.writing:
            conn.writing = False
            self._selector.modify(conn.sock, selectors.EVENT_READ, conn)

    def _read(self, conn: _Conn[T]) -> None:
        try:
            while True:
                chunk = conn.sock.recv(65536)
                if not chunk:
                    self._eof(conn)
                    return
                conn.got_bytes = True
                conn.buf += chunk
                if not (isinstance(conn.sock, ssl.SSLSocket) and conn.sock.pending()):
                    break
        except _WOULD_BLOCK:
            pass
        except OSError as exc:
            self._lost(conn, exc)
            return
        try:
            answer = self._answer(conn, eof=False)
        except RemoteProtocolError as exc:
            self._fail(conn, exc)
            return
        if answer is not None:
            self._finish(conn, answer)

    def _eof(self, conn: _Conn[T]) -> None:
        if not conn.got_bytes:
            self._lost(conn, ConnectionResetError("the server closed the connection"))
            return
        try:
            answer = self._answer(conn, eof=True)
        except RemoteProtocolError as exc:
            self._fail(conn, exc)
            return
        if answer is None:
            self._fail(conn, RemoteProtocolError("the connection closed inside the answer"))
        else:
            conn.head = (conn.head[0], conn.head[1], False) if conn.head else None
            self._finish(conn, answer)

    def _answer(self, conn: _Conn[T], *, eof: bool) -> Response | None:
        """The complete answer in ``conn.buf``, or None while more is to come."""
        while conn.head is None:
            end = conn.buf.find(b"\r\n\r\n")
            if end < 0:
                if len(conn.buf) > MAX_HEAD:
                    raise RemoteProtocolError("header section too long")
                return None
            status, fields, keep = parse_head(bytes(conn.buf[:end]))
            del conn.buf[: end + 4]
            if 100 <= status < 200:
                continue  # an interim answer (100 Continue): the real one follows
            conn.head = (status, fields, keep)
        status, fields, _ = conn.head
        assert conn.sent is not None
        if status in _NO_BODY or conn.sent.request.method == "HEAD":
            return Response(status, fields, b"")
        if "chunked" in fields.get("transfer-encoding", "").lower():
            body = dechunk(conn.buf)
            return None if body is None else Response(status, fields, body)
        length = fields.get("content-length")
        if length is not None:
            try:
                size = int(length)
            except ValueError:
                raise RemoteProtocolError(f"bad Content-Length {length!r}") from None
            if len(conn.buf) < size:
                return None
            return Response(status, fields, bytes(conn.buf[:size]))
        # Framed by the end of the connection.
        return Response(status, fields, bytes(conn.buf)) if eof else None

    # --- ends of a request ------------------------------------------------------------

    def _finish(self, conn: _Conn[T], answer: Response) -> None:
        assert conn.sent is not None and conn.head is not None
        self._ended.append((conn.sent.tag, answer))
        keep = conn.head[2]
        self._release(conn)
        if keep:
            self._idle.setdefault(conn.key, []).append(conn)
        else:
            self._drop(conn)
        self._dispatch(conn.key)

    def _lost(self, conn: _Conn[T], exc: OSError) -> None:
        """The connection failed before a complete answer."""
        sent = conn.sent
        assert sent is not None
        safe = sent.request.method in ("GET", "HEAD") and not sent.retried
        if conn.reused and not conn.got_bytes and safe:
            # A read on a connection the server dropped as idle: safe to send again.
            sent.retried = True
            self._release(conn)
            self._drop(conn)
            self._queued.setdefault(conn.key, deque()).appendleft(sent)
            self._dispatch(conn.key)
            return
        self._fail(conn, ReadError(f"{type(exc).__name__}: {exc}"))

    def _fail(self, conn: _Conn[T], error: TransportError) -> None:
        """The request ended without an answer; its connection cannot be trusted."""
        assert conn.sent is not None
        self._ended.append((conn.sent.tag, error))
        self._release(conn)
        self._drop(conn)
        self._dispatch(conn.key)

    def _release(self, conn: _Conn[T]) -> None:
        self._busy.discard(conn)
        conn.sent = None
        if conn.writing:
            conn.writing = False
            self._selector.modify(conn.sock, selectors.EVENT_READ, conn)

    def _drop(self, conn: _Conn[T]) -> None:
        self._selector.unregister(conn.sock)
        conn.link.connection.close()
        self._open[conn.key] = max(0, self._open.get(conn.key, 1) - 1)


def _closed_by_peer(conn: _Conn[T]) -> bool:
    """Whether an idle connection is readable: the server closed it (or sent junk)."""
    poller = select.poll()
    poller.register(conn.sock, select.POLLIN)
    return bool(poller.poll(0))
