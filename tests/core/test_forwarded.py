"""Which address is the client's: X-Forwarded-For only from trusted proxies, read from
the right, and forwarding headers from anyone else dropped."""

import pytest
from django.test import Client, override_settings

from campusconf.core.middleware.forwarded import client_address, parse_networks
from campusconf.signin import ratelimit

PROXIES = parse_networks(["10.0.0.0/8", "192.0.2.7"])


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        ("198.51.100.5", "", "198.51.100.5"),  # no proxy at all
        ("198.51.100.5", "203.0.113.9", "198.51.100.5"),  # forged by an untrusted peer
        ("192.0.2.7", "203.0.113.9", "203.0.113.9"),  # one trusted proxy
        ("192.0.2.7", "203.0.113.9, 10.1.2.3", "203.0.113.9"),  # two trusted hops
        ("192.0.2.7", "6.6.6.6, 203.0.113.9", "203.0.113.9"),  # forged left part ignored
        ("192.0.2.7", "", "192.0.2.7"),  # a trusted proxy that names nobody
        ("192.0.2.7", "junk, 203.0.113.9", "203.0.113.9"),
        ("192.0.2.7", "203.0.113.9, junk", "192.0.2.7"),  # unreadable last hop: stop
        ("192.0.2.7", "::ffff:203.0.113.9", "203.0.113.9"),  # IPv4 written as IPv6
        ("192.0.2.7", "2001:db8::1", "2001:db8::1"),
        ("192.0.2.7", "10.0.0.1, 10.0.0.2", "10.0.0.1"),  # all trusted: the first
    ],
)
def test_client_address(peer, forwarded, client):
    assert client_address(peer, forwarded, PROXIES) == client


def test_a_wrong_proxy_entry_is_refused_at_start_up():
    with pytest.raises(ValueError, match="host bits"):
        parse_networks(["10.0.0.1/8"])


def seen_by_the_limiter(**meta: str) -> str:
    """The address the sign-in limiter would count a request under."""
    from django.http import HttpRequest

    from campusconf.core.middleware.forwarded import TrustedProxyMiddleware

    request = HttpRequest()
    request.META.update(meta)
    TrustedProxyMiddleware(lambda r: None)(request)  # type: ignore[arg-type,return-value]
    return ratelimit.client_address(request)


@override_settings(CAMPUSCONF_TRUSTED_PROXIES=["192.0.2.7/32"])
def test_the_middleware_puts_the_client_in_remote_addr():
    assert seen_by_the_limiter(REMOTE_ADDR="192.0.2.7", HTTP_X_FORWARDED_FOR="203.0.113.9") == (
        "203.0.113.9"
    )
    assert seen_by_the_limiter(REMOTE_ADDR="198.51.100.5", HTTP_X_FORWARDED_FOR="203.0.113.9") == (
        "198.51.100.5"
    )


@override_settings(CAMPUSCONF_TRUSTED_PROXIES=["192.0.2.7/32"])
def test_the_consumed_chain_is_not_left_for_others_to_misread():
    """django-axes (through ipware) reads X-Forwarded-For before REMOTE_ADDR, and would
    take its leftmost entry, which the client wrote."""
    from django.http import HttpRequest

    from campusconf.core.middleware.forwarded import FORWARDED_FOR_KEY, TrustedProxyMiddleware

    request = HttpRequest()
    chain = "6.6.6.6, 203.0.113.9"
    request.META.update(
        REMOTE_ADDR="192.0.2.7",
        HTTP_X_FORWARDED_FOR=chain,
        HTTP_X_REAL_IP="6.6.6.6",
        HTTP_X_FORWARDED_PROTO="https",
    )
    TrustedProxyMiddleware(lambda r: None)(request)  # type: ignore[arg-type,return-value]
    assert request.META["REMOTE_ADDR"] == "203.0.113.9"
    assert "HTTP_X_FORWARDED_FOR" not in request.META
    assert "HTTP_X_REAL_IP" not in request.META
    assert request.META[FORWARDED_FOR_KEY] == chain
    assert request.META["HTTP_X_FORWARDED_PROTO"] == "https"  # the trusted proxy's word


@override_settings(CAMPUSCONF_TRUSTED_PROXIES=["192.0.2.7/32"])
def test_an_untrusted_peer_cannot_claim_https():
    from django.http import HttpRequest

    from campusconf.core.middleware.forwarded import PEER_KEY, TrustedProxyMiddleware

    request = HttpRequest()
    request.META.update(
        REMOTE_ADDR="198.51.100.5", HTTP_X_FORWARDED_PROTO="https", HTTP_FORWARDED="for=1.2.3.4"
    )
    TrustedProxyMiddleware(lambda r: None)(request)  # type: ignore[arg-type,return-value]
    assert "HTTP_X_FORWARDED_PROTO" not in request.META
    assert "HTTP_FORWARDED" not in request.META
    assert request.META[PEER_KEY] == "198.51.100.5"


@pytest.mark.django_db
@override_settings(
    CAMPUSCONF_TRUSTED_PROXIES=[],
    SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"),
    SECURE_SSL_REDIRECT=True,
)
def test_without_a_trusted_proxy_a_forged_https_header_does_not_skip_the_redirect():
    answer = Client().get("/", HTTP_X_FORWARDED_PROTO="https")
    assert answer.status_code == 301
    assert answer["Location"].startswith("https://")
