"""The client's address, taken from ``X-Forwarded-For`` only when a trusted proxy sent it.

Behind the TLS proxy every request comes from the proxy's address, so anything keyed on
``REMOTE_ADDR`` (the sign-in limits, django-axes, the logs) would lump every member
together. The proxy names the client in ``X-Forwarded-For``; anyone else can write that
header too, so it is read only from peers in ``CAMPUSCONF_TRUSTED_PROXIES``, and from
the right: each trusted hop appends the address it saw, and the first address that is
not a trusted proxy is the client, and becomes ``REMOTE_ADDR``; the headers that name
a client are then removed, so nothing reads them again. From any other peer every
forwarding header is dropped, so nothing later (Django's ``SECURE_PROXY_SSL_HEADER``
included) believes them.
"""

import ipaddress
import logging
from collections.abc import Callable, Iterable, Sequence

from django.conf import settings
from django.http import HttpRequest, HttpResponse

logger = logging.getLogger(__name__)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

PEER_KEY = "CAMPUSCONF_PEER_ADDR"  # request.META: the address the connection came from
FORWARDED_FOR_KEY = "CAMPUSCONF_FORWARDED_FOR"  # the chain a trusted proxy sent, for logs
CLIENT_HEADERS = ("HTTP_X_REAL_IP", "HTTP_FORWARDED", "HTTP_CLIENT_IP", "HTTP_X_CLUSTER_CLIENT_IP")
FORWARDING_HEADERS = (
    "HTTP_X_FORWARDED_FOR",
    "HTTP_X_FORWARDED_PROTO",
    "HTTP_X_FORWARDED_HOST",
    "HTTP_X_FORWARDED_PORT",
    "HTTP_X_REAL_IP",
    "HTTP_FORWARDED",
    "HTTP_CLIENT_IP",
    "HTTP_X_CLUSTER_CLIENT_IP",
)


def parse_networks(entries: Iterable[str]) -> list[Network]:
    """``["10.0.0.0/8", "192.0.2.7"]`` → networks; a wrong entry stops the start-up."""
    return [ipaddress.ip_network(entry.strip()) for entry in entries if entry.strip()]


def _address(text: str) -> Address | None:
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _trusted(address: Address, proxies: Sequence[Network]) -> bool:
    return any(address in network for network in proxies)


def client_address(peer: str, forwarded_for: str, proxies: Sequence[Network]) -> str:
    """The client's address for a connection from ``peer`` carrying ``forwarded_for``."""
    peer_address = _address(peer)
    if peer_address is None or not _trusted(peer_address, proxies):
        return peer
    client = str(peer_address)
    for hop in reversed([part for part in forwarded_for.split(",") if part.strip()]):
        address = _address(hop)
        if address is None:
            # A hop we cannot read: the chain beyond it says nothing we can trust.
            logger.warning("unreadable X-Forwarded-For hop %r from proxy %s", hop[:64], peer)
            break
        client = str(address)
        if not _trusted(address, proxies):
            break
    return client


class TrustedProxyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.proxies = parse_networks(settings.CAMPUSCONF_TRUSTED_PROXIES)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        meta = request.META
        peer = str(meta.get("REMOTE_ADDR", ""))
        meta[PEER_KEY] = peer
        peer_address = _address(peer)
        if peer_address is not None and _trusted(peer_address, self.proxies):
            chain = str(meta.pop("HTTP_X_FORWARDED_FOR", ""))
            meta[FORWARDED_FOR_KEY] = chain
            meta["REMOTE_ADDR"] = client_address(peer, chain, self.proxies)
            # Consumed: libraries that read the client from these headers first (ipware,
            # in django-axes) would take the chain's leftmost, forgeable entry.
            for header in CLIENT_HEADERS:
                meta.pop(header, None)
        else:
            for header in FORWARDING_HEADERS:
                meta.pop(header, None)
        return self.get_response(request)
