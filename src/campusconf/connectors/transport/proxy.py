"""Which HTTP proxy ``http_client`` goes through to reach a target, from the environment.

A university's servers often reach the vendors only through an HTTP proxy, named the
way urllib, httpx and curl read it: HTTPS_PROXY for https targets, HTTP_PROXY for
http ones, NO_PROXY for the hosts to reach directly (either case; lower case wins).
"""

from __future__ import annotations

import base64
import ipaddress
import urllib.request
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit


@dataclass(frozen=True, slots=True)
class Proxy:
    host: str
    port: int
    # Proxy-Authorization (Basic) when the proxy URL carries user:password; sent with
    # CONNECT for https targets, with every request for http ones.
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


def proxy_for(scheme: str, origin: str) -> Proxy | None:
    """The proxy to reach scheme://origin through, or None to connect directly.

    Reads the environment on each call (``http_client`` calls it once per target). Loopback
    targets are always direct, as Go's net/http does (urllib and httpx on Linux only
    look at NO_PROXY): the sandbox and the tests listen on 127.0.0.1, and a proxy's
    loopback is not ours. Raises ValueError for a proxy URL we cannot use.
    """
    url = urllib.request.getproxies().get(scheme)
    if not url or _loopback(urlsplit("//" + origin).hostname or "") or _bypass(origin):
        return None
    parts = urlsplit(url if "://" in url else "http://" + url)
    if parts.scheme != "http":
        # TLS to the proxy itself or SOCKS: http.client has neither.
        raise ValueError(f"unsupported proxy URL scheme {parts.scheme!r} (use http://)")
    if not parts.hostname:
        raise ValueError(f"proxy URL without a host: {url!r}")
    headers = {}
    if parts.username is not None:
        credentials = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        headers["Proxy-Authorization"] = "Basic " + base64.b64encode(credentials.encode()).decode(
            "ascii"
        )
    return Proxy(parts.hostname, parts.port or 80, headers)  # .port raises on a bad port


def _bypass(origin: str) -> bool:
    return bool(urllib.request.proxy_bypass(origin))  # NO_PROXY, host or host:port


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a name
        return False
