"""The sign-in limit holds across server processes, per real client behind the proxy.

Two gunicorn instances share one database (and, in the Redis run, one Redis); the proxy
sends requests to them in turn. Each client may start SIGNIN_LIMIT sign-ins; the next is
refused with 429, whichever instance it lands on.
"""

from tests.core import servers
from tests.core.conftest import SIGNIN_LIMIT

SIGNIN = "/oidc/authenticate/"
REFUSED = 429


def test_the_limit_counts_one_client_across_both_processes(platform):
    proxy = platform.proxy
    first = len(proxy.served_by)
    answers = [servers.get(proxy.port, SIGNIN, source="127.0.0.10") for _ in range(SIGNIN_LIMIT)]
    assert answers == [302] * SIGNIN_LIMIT
    # Half of them went to each process: neither alone has seen the limit.
    ports = [instance.port for instance in platform.instances]
    served = proxy.served_by[first:]
    assert sorted(set(served)) == sorted(ports)
    assert max(served.count(port) for port in ports) < SIGNIN_LIMIT
    assert servers.get(proxy.port, SIGNIN, source="127.0.0.10") == REFUSED
    assert servers.get(proxy.port, SIGNIN, source="127.0.0.10") == REFUSED


def test_two_clients_behind_the_proxy_do_not_share_a_bucket(platform):
    proxy = platform.proxy
    for _ in range(SIGNIN_LIMIT):
        assert servers.get(proxy.port, SIGNIN, source="127.0.0.20") == 302
    assert servers.get(proxy.port, SIGNIN, source="127.0.0.20") == REFUSED
    # Another member behind the same proxy still gets in.
    assert servers.get(proxy.port, SIGNIN, source="127.0.0.21") == 302


def test_a_client_cannot_escape_its_bucket_by_writing_x_forwarded_for(platform):
    proxy = platform.proxy
    for n in range(SIGNIN_LIMIT):
        forged = {"X-Forwarded-For": f"198.51.100.{n + 1}"}
        assert servers.get(proxy.port, SIGNIN, source="127.0.0.30", headers=forged) == 302
    # The proxy appended the real address; the forged one before it is not believed.
    forged = {"X-Forwarded-For": "198.51.100.99"}
    assert servers.get(proxy.port, SIGNIN, source="127.0.0.30", headers=forged) == REFUSED


def test_a_forged_header_from_an_untrusted_peer_is_ignored(platform):
    # Straight to one instance, not through the proxy: the peer is no trusted proxy, so
    # what it writes in X-Forwarded-For is dropped and its own address is counted.
    port = platform.instances[0].port
    victim = "127.0.0.41"
    for _ in range(SIGNIN_LIMIT):
        forged = {"X-Forwarded-For": victim}
        assert servers.get(port, SIGNIN, source="127.0.0.40", headers=forged) == 302
    forged = {"X-Forwarded-For": "203.0.113.99"}
    assert servers.get(port, SIGNIN, source="127.0.0.40", headers=forged) == REFUSED
    # The address it named was not charged: that client still gets in.
    assert servers.get(platform.proxy.port, SIGNIN, source=victim) == 302
