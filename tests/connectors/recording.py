"""Transports that record every exchange a connector has, for the contract checks.

Webex and Zoom send over ``transport.http_client``; SCIM over httpx. Each recorder wraps the real
transport, so the connector talks to the live server exactly as it would without it,
and keeps each request with the answer it got. ``Recorder.problems`` holds every one
against the vendor contracts (``campusconf.connectors.contract``).
"""

from __future__ import annotations

import threading

import httpx

from campusconf.connectors.contract import Exchange, Rebase, check
from campusconf.connectors.transport import http_client


def sandbox_rebase(sandbox_url: str) -> dict[str, str]:
    """Where the sandbox serves each vendor API -> the vendor's own address."""
    return {
        f"{sandbox_url}/webex/v1": "https://webexapis.com/v1",
        f"{sandbox_url}/webex/identity/scim": "https://webexapis.com/identity/scim",
        f"{sandbox_url}/zoom/v2": "https://api.zoom.us/v2",
        f"{sandbox_url}/zoom/scim2": "https://api.zoom.us/scim2",
        f"{sandbox_url}/zoom/oauth": "https://zoom.us/oauth",
    }


class Recorder:
    def __init__(self, rebase: Rebase, *, requests: bool = True) -> None:
        self.rebase = rebase
        # False for requests sent wrong on purpose: only the vendor's answers count.
        self.requests = requests
        self.exchanges: list[Exchange] = []
        self._lock = threading.Lock()

    def add(self, exchange: Exchange) -> None:
        with self._lock:
            self.exchanges.append(exchange)

    def problems(self) -> list[str]:
        return [
            p
            for exchange in self.exchanges
            for p in check(exchange, self.rebase, request=self.requests)
        ]

    def assert_conforms(self) -> None:
        assert self.exchanges, "no exchange was recorded: the recorder is not in the path"
        problems = self.problems()
        assert not problems, "outside the vendor contract:\n" + "\n".join(problems)


class WireRecorder:
    """A ``http_client.Transport``: the real per-thread connections, each exchange recorded."""

    def __init__(
        self, recorder: Recorder, timeout: http_client.Timeout = http_client.DEFAULT_TIMEOUT
    ) -> None:
        self.recorder = recorder
        self._real = http_client.PerThreadConnections(timeout)

    def __call__(self, request: http_client.Request) -> http_client.Response:
        response = self._real(request)  # a transport error is no answer: nothing to check
        self.recorder.add(
            Exchange(
                request.method,
                request.url,
                dict(request.headers),
                request.content,
                response.status_code,
                dict(response.headers),
                response.content,
            )
        )
        return response

    def close(self) -> None:
        self._real.close()


class HttpxRecorder(httpx.BaseTransport):
    """An httpx transport: the real one, each exchange recorded."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder
        self._real = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._real.handle_request(request)
        content = response.read()
        self.recorder.add(
            Exchange(
                request.method,
                str(request.url),
                dict(request.headers),
                request.read() or None,
                response.status_code,
                dict(response.headers),
                content,
            )
        )
        return response

    def close(self) -> None:
        self._real.close()
