"""Checks one recorded HTTP exchange against the vendor contracts, with openapi-core.

An exchange is matched to a contract by its URL, once rewritten from where it was
sent (the sandbox, a proxy's test double) to the vendor's own address: the contracts
describe the vendors, and the sandbox is held to them as if it were the vendor.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict

HERE = Path(__file__).resolve().parent

# The vendors' addresses, and the contract that describes what lives under each
# (the longest prefix wins).
CANONICAL: dict[str, str] = {
    "https://webexapis.com/identity/scim/": "webex-scim",
    "https://webexapis.com/v1/": "webex",
    "https://api.zoom.us/scim2/": "zoom-scim",
    "https://api.zoom.us/v2/": "zoom",
    "https://zoom.us/oauth/": "zoom",
}

# Observed URL prefix -> the vendor's address it stands for (e.g. the sandbox's
# "http://127.0.0.1:8100/webex/v1" -> "https://webexapis.com/v1").
Rebase = Mapping[str, str]


@dataclass(frozen=True)
class Exchange:
    """One HTTP request and the answer it got, as bytes on the wire."""

    method: str
    url: str  # absolute, query string included
    request_headers: Mapping[str, str]
    request_body: bytes | None
    status: int
    response_headers: Mapping[str, str]
    response_body: bytes = b""

    def describe(self) -> str:
        return f"{self.method} {self.url} -> {self.status}"


@functools.cache
def contract(name: str) -> OpenAPI:
    """The named contract, loaded (and its own validity checked) once per process."""
    return OpenAPI.from_file_path(str(HERE / f"{name}.yaml"))


def _canonical_url(url: str, rebase: Rebase) -> str:
    for observed, vendor in sorted(rebase.items(), key=lambda kv: -len(kv[0])):
        if url.startswith(observed.rstrip("/") + "/") or url == observed.rstrip("/"):
            return vendor.rstrip("/") + url[len(observed.rstrip("/")) :]
    return url


def _contract_for(url: str) -> str | None:
    for prefix, name in sorted(CANONICAL.items(), key=lambda kv: -len(kv[0])):
        if url.startswith(prefix):
            return name
    return None


class _Request:
    """openapi-core's Request protocol over a recorded request."""

    def __init__(self, method: str, url: str, headers: Mapping[str, str], body: bytes | None):
        parts = urlsplit(url)
        self.host_url = f"{parts.scheme}://{parts.netloc}"
        self.path = parts.path
        self.method = method.lower()
        self.body = body or None
        head = Headers(list(headers.items()))
        self.content_type = (head.get("Content-Type") or "").lower()
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(parse_qsl(parts.query, keep_blank_values=True)),
            header=head,
        )


class _WebhookRequest(_Request):
    def __init__(self, name: str, headers: Mapping[str, str], body: bytes | None):
        super().__init__("POST", "https://receiver.invalid/", headers, body)
        self.name = name


class _Response:
    """openapi-core's Response protocol over a recorded answer."""

    def __init__(self, status: int, headers: Mapping[str, str], body: bytes):
        self.status_code = status
        self.headers = Headers(list(headers.items()))
        self.content_type = (self.headers.get("Content-Type") or "").lower()
        self.data = body


def _messages(errors: Sequence[Exception]) -> list[str]:
    out = []
    for error in errors:
        text = f"{type(error).__name__}: {error}"
        # openapi-core keeps the JSON Schema failures in __cause__.schema_errors.
        details = getattr(error.__cause__, "schema_errors", None) or []
        for detail in details:
            where = "/".join(str(p) for p in getattr(detail, "absolute_path", []))
            text += f"\n    at /{where}: {getattr(detail, 'message', detail)}"
        out.append(text)
    return out


def check(exchange: Exchange, rebase: Rebase | None = None, *, request: bool = True) -> list[str]:
    """What in ``exchange`` breaks its vendor's contract (empty when nothing does).

    ``request=False`` checks the answer only: for a request sent wrong on purpose, to
    see the vendor's answer to it.
    """
    url = _canonical_url(exchange.url, rebase or {})
    name = _contract_for(url)
    if name is None:
        return [f"{exchange.describe()}: no vendor contract covers {url}"]
    api = contract(name)
    sent = _Request(exchange.method, url, exchange.request_headers, exchange.request_body)
    response = _Response(exchange.status, exchange.response_headers, exchange.response_body)
    problems = []
    if request:
        problems += [f"request: {m}" for m in _messages(list(api.iter_request_errors(sent)))]
    problems += [f"answer: {m}" for m in _messages(list(api.iter_response_errors(sent, response)))]
    return [f"{exchange.describe()} ({name}): {p}" for p in problems]


def check_webhook(
    headers: Mapping[str, str], body: bytes, answer: tuple[int, Mapping[str, str], bytes] | None
) -> list[str]:
    """What in a Zoom webhook delivery (and our answer to it) breaks Zoom's contract."""
    try:
        event = json.loads(body).get("event", "")
    except (ValueError, AttributeError):
        event = ""
    name = "endpoint.url_validation" if event == "endpoint.url_validation" else "user.event"
    api = contract("zoom")
    request = _WebhookRequest(name, headers, body)
    problems = [f"request: {m}" for m in _messages(list(api.iter_webhook_request_errors(request)))]
    if answer is not None:
        status, answer_headers, answer_body = answer
        response = _Response(status, answer_headers, answer_body)
        found = api.iter_webhook_response_errors(request, response)
        problems += [f"answer: {m}" for m in _messages(list(found))]
    return [f"webhook {event or '?'}: {p}" for p in problems]
