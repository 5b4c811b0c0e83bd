"""Recorded vendor answers played back through the connectors' transport seam.

The answers are written from the wire formats in docs/vendors.md; they let the
classifier tests cover faults a live server will not produce on demand. A
`Script` is a `http_client.Transport`: the connector hands it each request it would
have sent, and it answers (or raises a `http_client.TransportError`) from the script.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from campusconf.connectors.transport.http_client import Request, Response

Answer = Response | Exception


def reply(status: int, body: Any = None, headers: dict[str, str] | None = None) -> Response:
    lowered = {k.lower(): v for k, v in (headers or {}).items()}
    if body is None:
        return Response(status, lowered)
    if isinstance(body, str):
        return Response(status, lowered, body.encode())
    return Response(
        status, {"content-type": "application/json", **lowered}, json.dumps(body).encode()
    )


@dataclass(frozen=True)
class Seen:
    """A request as the vendor would have received it."""

    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]  # names in lower case
    content: bytes

    @classmethod
    def of(cls, request: Request) -> Seen:
        url = urlsplit(request.url)
        return cls(
            method=request.method,
            path=url.path,
            params=dict(parse_qsl(url.query)),
            headers={k.lower(): v for k, v in request.headers.items()},
            content=request.content or b"",
        )


class Script:
    """Answers by (method, path); the last answer of a route repeats."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], list[Answer]] = {}
        self.calls: list[Seen] = []

    def on(self, method: str, path: str, *answers: Answer) -> Script:
        self.routes.setdefault((method, path), []).extend(answers)
        return self

    def __call__(self, request: Request) -> Response:
        seen = Seen.of(request)
        self.calls.append(seen)
        answers = self.routes.get((seen.method, seen.path))
        if not answers:
            return reply(599, {"message": f"unscripted {seen.method} {seen.path}"})
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    @property
    def transport(self) -> Script:
        return self

    def paths(self, method: str | None = None) -> list[str]:
        return [r.path for r in self.calls if method is None or r.method == method]
