"""Real CampusConf servers for the platform tests: a fresh database, ``campusconf serve``
instances (gunicorn, production settings) and a small reverse proxy in front of them.

Every address is on the loopback network. Linux routes all of 127.0.0.0/8 to it, so a
connection can come *from* 127.0.0.2 (the proxy), 127.0.0.10 (a client) and so on: the
servers tell peers apart as they would on a real network.
"""

from __future__ import annotations

import contextlib
import http.client
import itertools
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

PROXY_ADDRESS = "127.0.0.2"  # where the proxy's connections to the servers come from
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def fresh_database(tmp: Path) -> Iterator[str]:
    """An empty database of the engine the suite runs on: an SQLite file, or a new
    PostgreSQL database beside $DATABASE_URL, dropped afterwards."""
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgres"):
        yield f"sqlite:///{tmp / 'campusconf.sqlite3'}"
        return
    import psycopg

    name = f"cc_platform_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def server_env(tmp: Path, database_url: str, **extra: str) -> dict[str, str]:
    """Production settings, as an operator would run them, minus TLS (no proxy does it)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CAMPUSCONF_", "DJANGO_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="campusconf.settings.production",
        SECRET_KEY="platform-tests-" + "k" * 40 + uuid.uuid4().hex,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="0",
        DATABASE_URL=database_url,
        CAMPUSCONF_VAR_DIR=str(tmp / "var"),
        HOME=str(tmp),  # gunicorn's default control socket would land in ~/.gunicorn
        LOG_LEVEL="WARNING",
    )
    env.update(extra)
    return env


def campusconf(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "campusconf.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@dataclass
class Instance:
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def start_instance(env: dict[str, str], tmp: Path, *serve_args: str) -> Instance:
    port = free_port()
    log = tmp / f"serve-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "campusconf.cli",
                "serve",
                "--bind",
                f"127.0.0.1:{port}",
                *serve_args,
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    instance = Instance(port, process, log)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"serve exited: {log.read_text()[-3000:]}")
        with contextlib.suppress(OSError):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return instance
        time.sleep(0.2)
    stop_instance(instance)
    raise RuntimeError(f"serve did not answer on {port}: {log.read_text()[-3000:]}")


def stop_instance(instance: Instance) -> None:
    if instance.process.poll() is None:
        os.killpg(instance.process.pid, signal.SIGTERM)
        try:
            instance.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(instance.process.pid, signal.SIGKILL)
            instance.process.wait(timeout=30)


@dataclass
class Proxy:
    """A reverse proxy in the manner of nginx's ``proxy_add_x_forwarded_for``: it appends
    the address it saw to X-Forwarded-For and sends each request to the next server."""

    backends: list[int]
    port: int = 0
    served_by: list[int] = field(default_factory=list)  # the backend port of each request

    def __post_init__(self) -> None:
        turn = itertools.cycle(self.backends)
        lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def _forward(self) -> None:
                with lock:
                    backend = next(turn)
                    proxy.served_by.append(backend)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                seen = self.headers.get("X-Forwarded-For")
                client = self.client_address[0]
                headers["X-Forwarded-For"] = f"{seen}, {client}" if seen else client
                upstream = http.client.HTTPConnection(
                    "127.0.0.1", backend, timeout=30, source_address=(PROXY_ADDRESS, 0)
                )
                upstream.request(self.command, self.path, body=body, headers=headers)
                answer = upstream.getresponse()
                content = answer.read()
                self.send_response(answer.status)
                for name, value in answer.getheaders():
                    if name.lower() not in HOP_BY_HOP | {"content-length"}:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)
                upstream.close()

            do_GET = do_POST = _forward

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def get(port: int, path: str, *, source: str, headers: dict[str, str] | None = None) -> int:
    """GET from a chosen loopback address; the status (redirects are not followed)."""
    connection = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=30, source_address=(source, 0)
    )
    try:
        connection.request("GET", path, headers=headers or {})
        return connection.getresponse().status
    finally:
        connection.close()
