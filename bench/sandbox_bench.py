"""Vendor sandbox benchmark: create-user throughput, list-page cost, and server RSS.

Starts the sandbox (``vendor_sandbox.launcher``) on a free port with a temporary DB, then drives it with a
small asyncio HTTP/1.1 client (keep-alive connections, no HTTP library in the loop, so
the client costs as little CPU as possible on the same machine).

    uv run python bench/sandbox_bench.py [--requests 20000] [--connections 32] [--big]
                                         [--limits] [--list 30000]

``--big`` also fills the sandbox to 200,000 users and reports RSS at 0 / 50k / 200k.
``--limits`` runs the sandbox with rate limits on (Zoom Business) scaled by ``--scale``
(default x1000: every request is counted against its budget and none is refused, the
cost of the accounting; ``--scale 10`` is the engine's pace setting, where a bare loop
also meets 429s). ``--list N`` fills each vendor to N users, then reads every
page as the engine's reconcile does (Zoom ``page_size=300``, Webex ``max=100``) and
reports the server CPU per page.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src")]

from vendor_sandbox.launcher import running_sandbox  # noqa: E402 - after the path is set


def rss_kib(pid: int) -> int:
    """Resident memory of a process and all its descendants (gunicorn master + workers)."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
            children = Path(f"/proc/{p}/task/{p}/children").read_text().split()
        except FileNotFoundError:
            continue
        todo.extend(int(c) for c in children)
    return total


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its live descendants (the gunicorn workers)."""
    tick = os.sysconf("SC_CLK_TCK")
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            children = Path(f"/proc/{p}/task/{p}/children").read_text().split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
        todo.extend(int(c) for c in children)
    return total


class Conn:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def request(self, method: str, path: str, headers: dict[str, str], body: bytes) -> int:
        head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(body)}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        self.writer.write(head.encode() + body)
        status_line = await self.reader.readline()
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        if length:
            await self.reader.readexactly(length)
        return int(status_line.split()[1])


async def drive(port: int, count: int, conns: int, make: object) -> tuple[float, dict[int, int]]:
    statuses: dict[int, int] = {}
    counter = iter(range(count))

    async def worker() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        conn = Conn(reader, writer)
        for i in counter:
            method, path, headers, body = make(i)  # type: ignore[operator]
            status = await conn.request(method, path, headers, body)
            statuses[status] = statuses.get(status, 0) + 1
        writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(conns)))
    return time.perf_counter() - start, statuses


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--big", action="store_true", help="fill to 200k users for RSS")
    parser.add_argument("--limits", action="store_true", help="rate limits on (Zoom Business)")
    parser.add_argument("--scale", default="1000", help="SANDBOX_RATE_SCALE with --limits")
    parser.add_argument("--list", type=int, default=0, help="users per vendor to page through")
    args = parser.parse_args()
    settings = {
        "SANDBOX_LIMITS": "on" if args.limits else "off",
        "SANDBOX_ZOOM_PLAN": "Business",
        "SANDBOX_RATE_SCALE": args.scale,  # only read with --limits
        # The sandbox's own size (2 workers x 8 threads), which the figures were taken with.
        "SANDBOX_THREADS": "8",
    }
    # No SMTP port: mails are recorded in the DB; no SMTP server in the loop.
    with (
        tempfile.TemporaryDirectory(prefix="sandbox-bench-") as tmp,
        running_sandbox(Path(tmp), **settings) as sandbox,
    ):
        port = int(sandbox.url.rsplit(":", 1)[1])
        run(port, sandbox.process.pid, sandbox.creds, args)


def run(port: int, pid: int, creds: dict, args: argparse.Namespace) -> None:  # type: ignore[type-arg]
    import httpx

    for _ in range(100):
        try:
            httpx.get(f"http://127.0.0.1:{port}/zoom/v2/users", timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.1)
    zoom = creds["zoom"]
    basic = base64.b64encode(f"{zoom['client_id']}:{zoom['client_secret']}".encode()).decode()
    token = httpx.post(
        zoom["oauth_url"].replace("8100", str(port)),
        params={"grant_type": "account_credentials", "account_id": zoom["account_id"]},
        headers={"Authorization": f"Basic {basic}"},
    ).json()["access_token"]
    zoom_h = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    webex_h = {"Authorization": f"Bearer {creds['webex']['token']}",
               "Content-Type": "application/json"}  # fmt: skip
    seq = iter(range(10**9))

    def zoom_create(action: str):  # type: ignore[no-untyped-def]
        def make(i: int):  # type: ignore[no-untyped-def]
            info = {"email": f"u{next(seq)}@bench.example.ac.jp", "type": 2, "first_name": "B"}
            body = json.dumps({"action": action, "user_info": info}).encode()
            return "POST", "/zoom/v2/users", zoom_h, body

        return make

    def webex_create(i: int):  # type: ignore[no-untyped-def]
        body = json.dumps({"emails": [f"w{i}@bench.example.ac.jp"], "displayName": "B"}).encode()
        return "POST", "/webex/v1/people", webex_h, body

    rows = []
    rss0 = rss_kib(pid)
    for label, make in (
        ("Zoom POST /users action=create (mail recorded)", zoom_create("create")),
        ("Zoom POST /users action=custCreate (no mail)", zoom_create("custCreate")),
        ("Webex POST /people (invitation recorded)", webex_create),
    ):
        server_cpu, client_cpu = cpu_seconds(pid), time.process_time()
        secs, statuses = asyncio.run(drive(port, args.requests, args.connections, make))
        server_cpu, client_cpu = cpu_seconds(pid) - server_cpu, time.process_time() - client_cpu
        cpu = (1e6 * server_cpu / args.requests, 1e6 * client_cpu / args.requests)
        rows.append((label, args.requests, secs, args.requests / secs, cpu, statuses))
    # CPU per request does not depend on what else runs on the machine; the rate does.
    print(f"\n{'operation':50} {'requests':>9} {'seconds':>8} {'req/s':>8} "
          f"{'server µs':>9} {'client µs':>9}  statuses")  # fmt: skip
    for label, n, secs, rate, (server_us, client_us), statuses in rows:
        print(f"{label:50} {n:9d} {secs:8.1f} {rate:8.0f} {server_us:9.0f} {client_us:9.0f}"
              f"  {statuses}")  # fmt: skip
    print(
        "server µs / client µs: CPU time per request of the server (master + workers) "
        "and of this client"
    )
    if args.list:
        list_pages(port, pid, zoom_h, webex_h, args, zoom_create("custCreate"), webex_create)
    if not args.big:
        print(f"\nserver RSS after {3 * args.requests} users: {rss_kib(pid) / 1024:.0f} MiB "
              f"(empty: {rss0 / 1024:.0f} MiB)")  # fmt: skip
        return
    print("\nRSS of the server (master + workers) as Zoom users grow:")
    print(f"{'users':>8} {'RSS MiB':>8}")
    have = 3 * args.requests
    print(f"{0:8d} {rss0 / 1024:8.0f}")
    for target in (50_000, 200_000):
        todo = max(0, target - have)
        asyncio.run(drive(port, todo, args.connections, zoom_create("custCreate")))
        have += todo
        # read a few list pages and the summary so the big tables are touched too
        httpx.get(f"http://127.0.0.1:{port}/zoom/v2/users?page_size=300", headers=zoom_h)
        httpx.get(f"http://127.0.0.1:{port}/zoom/v2/users/summary", headers=zoom_h)
        print(f"{have:8d} {rss_kib(pid) / 1024:8.0f}")


def list_pages(port, pid, zoom_h, webex_h, args, zoom_make, webex_make):  # type: ignore[no-untyped-def]
    """Fill each vendor to ``--list`` users, then read all pages as the reconcile does."""
    import httpx

    base = f"http://127.0.0.1:{port}"
    have = args.requests  # the custCreate run above made active Zoom users
    asyncio.run(drive(port, max(0, args.list - have), args.connections, zoom_make))
    webex_seq = iter(range(args.requests, 10**9))
    asyncio.run(
        drive(port, max(0, args.list - args.requests), args.connections,
              lambda i: webex_make(next(webex_seq)))
    )  # fmt: skip
    rows = []
    with httpx.Client(base_url=base, timeout=60) as client:
        for label, fetch in (
            ("Zoom GET /users?status=active&page_size=300", _zoom_pages(client, zoom_h)),
            ("Webex GET /people?max=100", _webex_pages(client, webex_h)),
        ):
            server_cpu, client_cpu, start = (
                cpu_seconds(pid),
                time.process_time(),
                time.perf_counter(),
            )
            pages, users, statuses = fetch()
            secs = time.perf_counter() - start
            server_cpu, client_cpu = cpu_seconds(pid) - server_cpu, time.process_time() - client_cpu
            rows.append((label, pages, users, secs, 1e6 * server_cpu / pages, statuses))
    print(
        f"\n{'listing':50} {'pages':>6} {'users':>7} {'seconds':>8} {'server µs/page':>15}  statuses"
    )
    for label, pages, users, secs, server_us, statuses in rows:
        print(f"{label:50} {pages:6d} {users:7d} {secs:8.1f} {server_us:15.0f}  {statuses}")


def _zoom_pages(client, headers):  # type: ignore[no-untyped-def]
    def fetch():  # type: ignore[no-untyped-def]
        pages = users = 0
        statuses: dict[int, int] = {}
        params = {"status": "active", "page_size": "300"}
        while True:
            resp = client.get("/zoom/v2/users", params=params, headers=headers)
            statuses[resp.status_code] = statuses.get(resp.status_code, 0) + 1
            pages += 1
            body = resp.json()
            users += len(body.get("users", []))
            if not body.get("next_page_token"):
                return pages, users, statuses
            params = {"status": "active", "page_size": "300",
                      "next_page_token": body["next_page_token"]}  # fmt: skip

    return fetch


def _webex_pages(client, headers):  # type: ignore[no-untyped-def]
    def fetch():  # type: ignore[no-untyped-def]
        pages = users = 0
        statuses: dict[int, int] = {}
        url = "/webex/v1/people?max=100"
        while url:
            resp = client.get(url, headers=headers)
            statuses[resp.status_code] = statuses.get(resp.status_code, 0) + 1
            pages += 1
            users += len(resp.json().get("items", []))
            url = resp.links.get("next", {}).get("url", "")
        return pages, users, statuses

    return fetch


if __name__ == "__main__":
    main()
