"""The vendor sandbox a rehearsal runs against: its own process, database and port.

Started the way the test suite's launcher starts it (the sandbox's CLI: credentials
first, then ``serve``), on a free 127.0.0.1 port, its mail sent to the rehearsal's
SMTP sink. Its admin API moves its clock and sets its faults.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx


class SandboxError(RuntimeError):
    """The sandbox did not start or refused an admin call."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Sandbox:
    url: str
    creds: dict[str, Any]
    process: subprocess.Popen[bytes]
    # One connection for the admin calls of every tick (a new client costs more than
    # the call).
    client: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=60))

    def admin(self, method: str, path: str, **kwargs: Any) -> Any:
        token = self.creds["admin_token"]
        response = self.client.request(
            method,
            f"{self.url}/_admin/{path}",
            headers={"Authorization": f"Bearer {token}"},
            **kwargs,
        )
        if response.status_code >= 400:
            raise SandboxError(f"{method} /_admin/{path}: {response.status_code} {response.text}")
        return response.json()

    def advance_clock(self, seconds: float) -> None:
        self.admin("POST", "clock", json={"advance_seconds": seconds})

    def set_faults(self, faults: dict[str, Any]) -> None:
        self.admin("PUT", "faults", json=faults)

    def seed_personal(self, vendor: str, email: str) -> None:
        self.admin("POST", "personal-accounts", json={"vendor": vendor, "email": email})

    def undelivered(self) -> list[dict[str, Any]]:
        """Mails the sandbox still has to hand to SMTP (newest first)."""
        items = self.admin("GET", "mails", params={"limit": "200", "body": "0"})["items"]
        return [m for m in items if m["status"] == "queued"]

    def counters(self) -> dict[str, Any]:
        return dict(self.admin("GET", "counters"))


@contextlib.contextmanager
def running_sandbox(workdir: Path, smtp_port: int, seed: int) -> Iterator[Sandbox]:
    workdir.mkdir(parents=True, exist_ok=True)
    db, creds_file = workdir / "sandbox.sqlite3", workdir / "sandbox.json"
    for stale in (db, creds_file, *workdir.glob("sandbox.sqlite3-*")):
        stale.unlink(missing_ok=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    src = Path(__file__).resolve().parents[2]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(src), os.environ.get("PYTHONPATH")])),
        "SANDBOX_PUBLIC_URL": url,
        "SANDBOX_SMTP_HOST": "127.0.0.1",
        "SANDBOX_SMTP_PORT": str(smtp_port),
        "SANDBOX_FAULT_SEED": str(seed),
        "SANDBOX_WORKERS": "1",
        "SANDBOX_THREADS": "8",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    cli = [sys.executable, "-m", "vendor_sandbox.cli"]
    subprocess.run(
        [
            *cli,
            "init-credentials",
            "--db",
            str(db),
            "--public-url",
            url,
            "--write",
            str(creds_file),
        ],
        env=env,
        check=True,
        capture_output=True,
    )
    log = (workdir / "sandbox.log").open("wb")
    process = subprocess.Popen(
        [*cli, "serve", "--db", str(db), "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    sandbox = Sandbox(url, json.loads(creds_file.read_text()), process)
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(httpx.HTTPError, SandboxError):
                sandbox.admin("GET", "clock")
                break
            if process.poll() is not None or time.monotonic() > deadline:
                raise SandboxError(f"the sandbox did not start; see {workdir / 'sandbox.log'}")
            time.sleep(0.2)
        yield sandbox
    finally:
        sandbox.client.close()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


def vendor_environment(creds: dict[str, Any]) -> dict[str, str]:
    """Where the services' connector settings look for the sandbox's credentials."""
    return {
        "CAMPUSCONF_REHEARSAL_WEBEX_ACCESS_TOKEN": creds["webex"]["access_token"],
        "CAMPUSCONF_REHEARSAL_WEBEX_REFRESH_TOKEN": creds["webex"]["refresh_token"],
        "CAMPUSCONF_REHEARSAL_WEBEX_CLIENT_ID": creds["webex"]["client_id"],
        "CAMPUSCONF_REHEARSAL_WEBEX_CLIENT_SECRET": creds["webex"]["client_secret"],
        "CAMPUSCONF_REHEARSAL_ZOOM_ACCOUNT_ID": creds["zoom"]["account_id"],
        "CAMPUSCONF_REHEARSAL_ZOOM_CLIENT_ID": creds["zoom"]["client_id"],
        "CAMPUSCONF_REHEARSAL_ZOOM_CLIENT_SECRET": creds["zoom"]["client_secret"],
        "CAMPUSCONF_REHEARSAL_ZOOM_WEBHOOK_SECRET": creds["zoom"]["webhook_secret_token"],
    }


def connector_settings(vendor: str, creds: dict[str, Any]) -> dict[str, Any]:
    if vendor == "zoom":
        return {
            "base_url": creds["zoom"]["base_url"],
            "oauth_base_url": creds["zoom"]["oauth_url"].removesuffix("/oauth/token"),
            "account_id_env": "CAMPUSCONF_REHEARSAL_ZOOM_ACCOUNT_ID",
            "client_id_env": "CAMPUSCONF_REHEARSAL_ZOOM_CLIENT_ID",
            "client_secret_env": "CAMPUSCONF_REHEARSAL_ZOOM_CLIENT_SECRET",
            "webhook_secret_env": "CAMPUSCONF_REHEARSAL_ZOOM_WEBHOOK_SECRET",
            "plan": str(creds["zoom"].get("plan", "Pro")).lower(),
        }
    licences = creds["webex"]["licenses"]
    return {
        "base_url": creds["webex"]["base_url"],
        "access_token_env": "CAMPUSCONF_REHEARSAL_WEBEX_ACCESS_TOKEN",
        "refresh_token_env": "CAMPUSCONF_REHEARSAL_WEBEX_REFRESH_TOKEN",
        "client_id_env": "CAMPUSCONF_REHEARSAL_WEBEX_CLIENT_ID",
        "client_secret_env": "CAMPUSCONF_REHEARSAL_WEBEX_CLIENT_SECRET",
        "licence_id": next(v for k, v in licences.items() if "Meeting" in k),
    }
