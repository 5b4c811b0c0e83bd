"""scim2-tester, the python-scim conformance checker, against our running /scim/v2."""

from typing import Any

import httpx
import pytest
from django.urls import get_resolver
from scim2_client import BaseSyncSCIMClient
from scim2_models import ScimProvider
from scim2_tester import Status, check_server

from campusconf.directory.tokens import create_scim_client

FAILED = {Status.ERROR, Status.CRITICAL}


class HttpxClient(BaseSyncSCIMClient):
    def __init__(self, client: httpx.Client) -> None:
        super().__init__(provider=ScimProvider())
        self.client = client

    def _stays_under_base_url(self, endpoint: str) -> bool:
        url = self.client.build_request("GET", endpoint).url
        base = self.client.base_url
        return url.host == base.host and url.port == base.port and url.path.startswith(base.path)

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return self.client.request(method, url, **kwargs)


@pytest.mark.django_db(transaction=True)
def test_scim2_tester_finds_no_failure(live_server):
    _client, token = create_scim_client("conformance", ["read", "write", "deactivate"])
    assert get_resolver().url_patterns  # import every view here, not in the server's first request
    with httpx.Client(
        base_url=f"{live_server.url}/scim/v2",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    ) as http:
        results = check_server(HttpxClient(http))
    failures = [
        f"{r.resource_type or '-'} {r.title}: {r.reason}" for r in results if r.status in FAILED
    ]
    assert len(results) > 30
    assert failures == []
