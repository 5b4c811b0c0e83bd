"""Recorded SCIM answers played back through httpx.MockTransport (SCIM stays on httpx;
the Webex and Zoom connectors use scripted.py on their own transport seam).

The answers are written from the wire formats in docs/vendors.md; they let the
classifier tests cover faults a live server will not produce on demand.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

Answer = httpx.Response | Exception


def reply(status: int, body: Any = None, headers: dict[str, str] | None = None) -> httpx.Response:
    if body is None:
        return httpx.Response(status, headers=headers)
    if isinstance(body, str):
        return httpx.Response(status, text=body, headers=headers)
    return httpx.Response(
        status,
        content=json.dumps(body).encode(),
        headers={"content-type": "application/json", **(headers or {})},
    )


class Script:
    """Answers by (method, path); the last answer of a route repeats."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], list[Answer]] = {}
        self.calls: list[httpx.Request] = []

    def on(self, method: str, path: str, *answers: Answer) -> Script:
        self.routes.setdefault((method, path), []).extend(answers)
        return self

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request)
        answers = self.routes.get((request.method, request.url.path))
        if not answers:
            return reply(599, {"message": f"unscripted {request.method} {request.url.path}"})
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)

    def paths(self, method: str | None = None) -> list[str]:
        return [r.url.path for r in self.calls if method is None or r.method == method]
