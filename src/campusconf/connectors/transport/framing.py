"""HTTP/1.1 framing for the multiplexer (``mux``): a request written out, and an answer's
status line, header fields and chunked body read back. Only what the vendors' answers
need (RFC 9112): no pipelining, no compression (``Accept-Encoding: identity``).
"""

from __future__ import annotations

from campusconf.connectors.transport.http_client import Link, RemoteProtocolError, Request


def encode(request: Request, link: Link) -> bytes:
    origin, slash, path = request.url.partition("://")[2].partition("/")
    target = slash + path or "/"
    headers = dict(request.headers)
    if link.forward is not None:
        target = request.url  # absolute-form through a forward proxy (RFC 9112 3.2.2)
        headers.update(link.forward)
    lines = [f"{request.method} {target} HTTP/1.1", f"Host: {origin}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines.append("Accept-Encoding: identity")
    body = request.content or b""
    if body or request.method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def parse_head(head: bytes) -> tuple[int, dict[str, str], bool]:
    """Status, header fields (lower-case names, repeats joined) and keep-alive."""
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise RemoteProtocolError(f"not an HTTP/1.x status line: {lines[0][:80]!r}")
    fields: dict[str, str] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon:
            raise RemoteProtocolError(f"malformed header line: {line[:80]!r}")
        key = name.strip().lower()
        value = value.strip()
        fields[key] = f"{fields[key]}, {value}" if key in fields else value
    tokens = fields.get("connection", "").lower()
    keep = "close" not in tokens and (parts[0] != "HTTP/1.0" or "keep-alive" in tokens)
    return int(parts[1]), fields, keep


def dechunk(buf: bytearray) -> bytes | None:
    """A chunked body complete in ``buf`` (trailers skipped), or None if not yet."""
    body = bytearray()
    at = 0
    while True:
        end = buf.find(b"\r\n", at)
        if end < 0:
            return None
        size_text = bytes(buf[at:end]).split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise RemoteProtocolError(f"bad chunk size {size_text[:20]!r}") from None
        at = end + 2
        if size == 0:
            # Trailer fields, then an empty line.
            while True:
                end = buf.find(b"\r\n", at)
                if end < 0:
                    return None
                if end == at:
                    return bytes(body)
                at = end + 2
        if len(buf) < at + size + 2:
            return None
        body += buf[at : at + size]
        at += size + 2
