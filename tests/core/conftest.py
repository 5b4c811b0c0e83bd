"""Two ``campusconf serve`` instances on one fresh database, behind a reverse proxy.

Parametrized by where the shared cache lives: the database (the default) and Redis
(127.0.0.1:6379, or $CAMPUSCONF_TEST_REDIS_URL). The database is the suite's engine.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.core import servers

REDIS_URL = os.environ.get("CAMPUSCONF_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
SIGNIN_LIMIT = 4
# One window for the whole test: a fixed window's end falling mid-test would reset
# every bucket, and the test would count from zero again.
SIGNIN_WINDOW = 10**9


@dataclass
class Platform:
    cache: str
    instances: list[servers.Instance]
    proxy: servers.Proxy
    env: dict[str, str]
    tmp: Path


def redis_or_skip(prefix: str) -> object:
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as error:
        pytest.skip(f"no Redis at {REDIS_URL} ({error}); apt-get install redis-server")
    return client


@pytest.fixture(scope="session", params=["database", "redis"])
def platform(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[Platform]:
    tmp = tmp_path_factory.mktemp(f"platform-{request.param}")
    prefix = f"campusconf-test-{uuid.uuid4().hex[:12]}"
    cache_env = {"CAMPUSCONF_CACHE_KEY_PREFIX": prefix}
    redis_client = None
    if request.param == "redis":
        redis_client = redis_or_skip(prefix)
        cache_env["CAMPUSCONF_CACHE_URL"] = REDIS_URL
    with servers.fresh_database(tmp) as database_url:
        env = servers.server_env(
            tmp,
            database_url,
            CAMPUSCONF_TRUSTED_PROXIES=f"{servers.PROXY_ADDRESS}/32",
            CAMPUSCONF_SIGNIN_RATE_LIMIT=str(SIGNIN_LIMIT),
            CAMPUSCONF_SIGNIN_RATE_WINDOW=str(SIGNIN_WINDOW),
            # OpenID Connect configured, so /oidc/authenticate/ exists: its first step
            # (a redirect to the provider, never followed here) is rate-limited.
            OIDC_RP_CLIENT_ID="campusconf",
            OIDC_RP_CLIENT_SECRET="platform-tests",
            OIDC_OP_AUTHORIZATION_ENDPOINT="http://127.0.0.1:9/authorize",
            OIDC_OP_TOKEN_ENDPOINT="http://127.0.0.1:9/token",
            OIDC_OP_USER_ENDPOINT="http://127.0.0.1:9/userinfo",
            OIDC_OP_JWKS_ENDPOINT="http://127.0.0.1:9/jwks",
            OIDC_OP_ISSUER="http://127.0.0.1:9",
            **cache_env,
        )
        migrated = servers.campusconf(env, "migrate", "--no-input")
        assert migrated.returncode == 0, migrated.stderr[-3000:]
        instances: list[servers.Instance] = []
        proxy = None
        try:
            for _ in range(2):
                instances.append(
                    servers.start_instance(env, tmp, "--workers", "1", "--threads", "2")
                )
            proxy = servers.Proxy([instance.port for instance in instances])
            yield Platform(request.param, instances, proxy, env, tmp)
        finally:
            if proxy is not None:
                proxy.close()
            for instance in instances:
                servers.stop_instance(instance)
            if redis_client is not None:
                for key in redis_client.scan_iter(match=f"{prefix}:*"):  # type: ignore[attr-defined]
                    redis_client.delete(key)  # type: ignore[attr-defined]
