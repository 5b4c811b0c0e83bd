"""The Webex and Zoom connectors' HTTP client, on the standard library's http.client.

httpx cost about 0.7 ms of client CPU per request on the engine's machine (URL and
header models, h11's state machine, its pool), over 90 % of a connector call; the
engine's pace target leaves about 0.3 ms for a whole call. This module does only
what those connectors need: a keep-alive connection per thread and origin, connect
and read time-outs, TLS with the default context, the environment's HTTP proxy
(``proxy``), and typed transport errors that say whether the request may have
reached the vendor. (SCIM stays on httpx.)

`Transport` is the seam tests replace: a function from `Request` to `Response`.
"""

from __future__ import annotations

import base64
import http.client
import re
import select
import socket
import ssl
import threading
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from json import dumps as json_dumps
from typing import Any, ClassVar, cast
from urllib.parse import urlencode

from campusconf.connectors.transport.proxy import Proxy, proxy_for

USER_AGENT = "campusconf-connector"


@dataclass(frozen=True)
class Timeout:
    connect: float = 5.0
    # Also bounds each send. Vendors answer people calls in well under a second; a
    # long read time-out only keeps a worker (and its lease) waiting on a lost answer.
    read: float = 20.0


DEFAULT_TIMEOUT = Timeout()


class TransportError(Exception):
    """No complete HTTP answer came back."""

    # True when the request surely never left: retrying even a write is then safe.
    never_sent: ClassVar[bool] = False


class ConnectError(TransportError):
    never_sent = True


class ConnectTimeout(ConnectError):
    pass


class ReadTimeout(TransportError):
    """Sent, but no answer in time: the vendor may have acted on it."""


class ReadError(TransportError):
    """The connection failed after the request was (partly) sent."""


class RemoteProtocolError(TransportError):
    """The vendor closed the connection without a complete answer, or garbled it."""


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    url: str  # absolute
    headers: Mapping[str, str]
    content: bytes | None = None


# rel="next" (or rel="prev next") in an RFC 8288 Link header's parameters.
_LINK = re.compile(r"<([^>]*)>((?:\s*;\s*[^;,]+)*)")
_REL_NEXT = re.compile(r"""\brel\s*=\s*(?:"[^"]*\bnext\b[^"]*"|next\b)""", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Response:
    status_code: int
    headers: Mapping[str, str]  # names in lower case; repeated fields joined by ", "
    content: bytes = b""

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def next_link(self) -> str | None:
        """The URL of the Link header's rel="next", if any."""
        header = self.headers.get("link")
        if not header:
            return None
        for match in _LINK.finditer(header):
            if _REL_NEXT.search(match.group(2)):
                return match.group(1)
        return None


Transport = Callable[[Request], Response]


def basic_auth(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


class HttpClient:
    """Builds requests against a base URL and hands them to a transport."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: Timeout = DEFAULT_TIMEOUT,
        transport: Transport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._pool: PerThreadConnections | None = None
        if transport is None:
            self._pool = transport = PerThreadConnections(timeout)
        self._transport = transport
        self._headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()

    @property
    def connections(self) -> PerThreadConnections | None:
        """The real transport, whose dialling a multiplexer shares; None when a test
        replaced it (requests must then go through ``request``)."""
        return self._pool

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str | int] | None = None,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        data: Mapping[str, str] | None = None,
    ) -> Response:
        """Send one request (a path under the base URL, or an absolute URL).

        Raises TransportError when no complete answer came back.
        """
        return self._transport(
            self.build(method, url, params=params, headers=headers, json=json, data=data)
        )

    def build(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str | int] | None = None,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        data: Mapping[str, str] | None = None,
    ) -> Request:
        """The request ``request`` would send, for a caller that sends it itself."""
        if not url.startswith(("https://", "http://")):
            url = self.base_url + url
        if params:
            url += ("&" if "?" in url else "?") + urlencode(params)
        all_headers = {**self._headers, **headers} if headers else dict(self._headers)
        content = None
        if json is not None:
            content = json_dumps(json).encode()
            all_headers["Content-Type"] = "application/json"
        elif data is not None:
            content = urlencode(data).encode()
            all_headers["Content-Type"] = "application/x-www-form-urlencoded"
        return Request(method, url, all_headers, content)


@dataclass(slots=True)
class Link:
    """One thread's connection to one origin, direct or through a proxy."""

    connection: http.client.HTTPConnection
    name: str  # for errors: the origin, and the proxy it goes through
    # Through a forward proxy (http targets): the headers to add to each request,
    # which then names the absolute URL. None when direct or tunnelled.
    forward: dict[str, str] | None = None


class PerThreadConnections:
    """The real transport: one persistent HTTP/1.1 connection per thread and origin.

    A connector is shared by the engine's threads; http.client connections are not
    thread-safe, so each thread keeps its own. A connection the server closed while
    idle (its keep-alive time-out) is noticed before reuse and replaced. An https
    origin behind a proxy is reached through a CONNECT tunnel (TLS and its certificate
    check run end to end with the vendor); an http one by sending the proxy the
    absolute URL. Each connection to the proxy serves one origin only.
    """

    def __init__(self, timeout: Timeout) -> None:
        self._timeout = timeout
        self._local = threading.local()
        # Every connection, so close() reaches other threads' too; weak, so a
        # finished thread's connections go with it.
        self._all: weakref.WeakSet[http.client.HTTPConnection] = weakref.WeakSet()
        self._lock = threading.Lock()
        self._tls: ssl.SSLContext | None = None  # made once: loading the CAs costs ms
        # The environment's proxy per (scheme, origin), read once per target.
        self._proxies: dict[tuple[str, str], Proxy | None] = {}

    def close(self) -> None:
        with self._lock:
            for connection in list(self._all):
                connection.close()

    def __call__(self, request: Request) -> Response:
        scheme, _, rest = request.url.partition("://")
        origin, slash, path = rest.partition("/")
        target = slash + path or "/"
        link = self._link(scheme, origin)
        headers = request.headers
        if link.forward is not None:
            target = f"{scheme}://{origin}{target}"  # absolute-form, RFC 9112 3.2.2
            if link.forward:
                headers = {**headers, **link.forward}
        connection = link.connection
        reused = connection.sock is not None
        if reused and _closed_by_peer(connection):
            connection.close()
            reused = False
        try:
            return self._exchange(link, request, target, headers)
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
            # The server dropped a reused connection, e.g. closing it as idle just as
            # we sent. A read is safe to send again on a new one; a write may have
            # been processed, so it is reported and the engine looks first.
            connection.close()
            if not (reused and request.method in ("GET", "HEAD")):
                raise _after_send(exc) from exc
        try:
            return self._exchange(link, request, target, headers)
        except (http.client.HTTPException, OSError) as exc:
            connection.close()
            raise _after_send(exc) from exc

    def _link(self, scheme: str, origin: str) -> Link:
        links: dict[tuple[str, str], Link] | None = getattr(self._local, "links", None)
        if links is None:
            links = self._local.links = {}
        link = links.get((scheme, origin))
        if link is None:
            link = links[(scheme, origin)] = self._open(scheme, origin)
            with self._lock:
                self._all.add(link.connection)
        return link

    def _open(self, scheme: str, origin: str) -> Link:
        if scheme not in ("https", "http"):
            raise ConnectError(f"unsupported URL scheme {scheme!r}")
        with self._lock:
            if (scheme, origin) in self._proxies:
                proxy = self._proxies[(scheme, origin)]
            else:
                try:
                    proxy = proxy_for(scheme, origin)
                except ValueError as exc:  # not cached: the next call says it again
                    raise ConnectError(f"proxy for {scheme}://{origin}: {exc}") from exc
                self._proxies[(scheme, origin)] = proxy
            if scheme == "https" and self._tls is None:
                self._tls = ssl.create_default_context()
        connect = self._timeout.connect
        if proxy is None:
            if scheme == "https":
                return Link(
                    http.client.HTTPSConnection(origin, timeout=connect, context=self._tls),
                    origin,
                )
            return Link(http.client.HTTPConnection(origin, timeout=connect), origin)
        name = f"{origin} via proxy {proxy.address}"
        if scheme == "https":
            tunnel = http.client.HTTPSConnection(
                proxy.host, proxy.port, timeout=connect, context=self._tls
            )
            # connect() sends CONNECT (with the proxy's credentials), then TLS to origin.
            tunnel.set_tunnel(origin, headers=dict(proxy.headers))
            return Link(tunnel, name)
        connection = http.client.HTTPConnection(proxy.host, proxy.port, timeout=connect)
        return Link(connection, name, forward=dict(proxy.headers))

    @property
    def read_timeout(self) -> float:
        return self._timeout.read

    def dial(self, scheme: str, origin: str) -> Link:
        """A new connection of its own to ``origin``, connected (the multiplexer's).

        Raises ConnectError when it cannot be made: nothing has been sent then.
        """
        link = self._open(scheme, origin)
        self._connect(link)
        return link

    def _connect(self, link: Link) -> None:
        connection = link.connection
        try:
            # TCP, the proxy's CONNECT if any, and the TLS handshake, under the
            # connect time-out: nothing has gone to the vendor yet.
            connection.connect()
        except TimeoutError as exc:
            connection.close()
            raise ConnectTimeout(f"connect to {link.name}: timed out") from exc
        except (OSError, http.client.HTTPException) as exc:
            # Refused, unreachable, DNS, TLS certificate; a proxy refusing the
            # tunnel (403, 407, 502...), dropping it or answering garbage.
            connection.close()
            raise ConnectError(f"connect to {link.name}: {exc}") from exc
        sock = cast(socket.socket, connection.sock)
        sock.settimeout(self._timeout.read)
        # http.client sends a body apart from the headers: without this, Nagle's
        # algorithm may hold the body until the server's delayed ACK.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _exchange(
        self, link: Link, request: Request, target: str, headers: Mapping[str, str]
    ) -> Response:
        connection = link.connection
        if connection.sock is None:
            self._connect(link)
        try:
            connection.request(request.method, target, body=request.content, headers=headers)
            answer = connection.getresponse()
            content = answer.read()
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            raise  # the caller decides whether a retry on a new connection is safe
        except (http.client.HTTPException, OSError) as exc:
            connection.close()
            raise _after_send(exc) from exc
        fields: dict[str, str] = {}
        for name, value in answer.getheaders():
            key = name.lower()
            fields[key] = f"{fields[key]}, {value}" if key in fields else value
        return Response(answer.status, fields, content)


def _closed_by_peer(connection: http.client.HTTPConnection) -> bool:
    """Whether an idle connection is readable: the server closed it (or sent junk)."""
    poller = select.poll()
    poller.register(connection.sock, select.POLLIN)
    return bool(poller.poll(0))


def _after_send(exc: BaseException) -> TransportError:
    """A failure once the request may have left: the vendor may have acted on it."""
    if isinstance(exc, TimeoutError):
        return ReadTimeout(f"no answer in time: {exc}")
    if isinstance(exc, http.client.HTTPException):
        return RemoteProtocolError(f"{type(exc).__name__}: {exc}")
    return ReadError(f"{type(exc).__name__}: {exc}")
