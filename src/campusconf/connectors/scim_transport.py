"""The SCIM connector's HTTP plumbing: scim2-client's sync client over httpx.

scim2-client ships an engine for the `httpx2` package, which we do not use;
`HttpxEngine` is the few lines that run its sync client over httpx.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import httpx
from scim2_client import BaseSyncSCIMClient, RequestNetworkException
from scim2_models import ScimProvider

# SCIM stays on httpx (scim2-client's client is built for it); same limits as transport.http_client's.
DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=20.0, write=20.0, pool=5.0)
# Generic servers have no common tracking header; these are the usual ones, then
# Webex's and Zoom's own.
TRACKING_HEADERS = ("trackingid", "x-request-id", "x-correlation-id", "x-zm-trackingid")

# A bearer token, or where to get the current one (Zoom's tokens last an hour).
Token = str | Callable[[], str]


class BearerAuth(httpx.Auth):
    def __init__(self, token: Token) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        value = self._token() if callable(self._token) else self._token
        request.headers["Authorization"] = f"Bearer {value}"
        yield request


class HttpxEngine(BaseSyncSCIMClient):
    """scim2-client's sync client over an httpx.Client; keeps the last HTTP answer."""

    def __init__(self, client: httpx.Client, provider: ScimProvider) -> None:
        super().__init__(provider=provider, raise_scim_errors=False)
        self.client = client
        self.last_response: httpx.Response | None = None

    def _stays_under_base_url(self, endpoint: str) -> bool:
        base = self.client.base_url
        url = self.client.build_request("GET", endpoint).url
        return url.host == base.host and url.port == base.port and url.path.startswith(base.path)

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            self.last_response = self.client.request(method, url, **kwargs)
        except httpx.TransportError as exc:
            raise RequestNetworkException() from exc
        return self.last_response


def tracking(response: httpx.Response | None) -> str | None:
    if response is None:
        return None
    for header in TRACKING_HEADERS:
        value = response.headers.get(header)
        if isinstance(value, str) and value:
            return value
    return None
