"""Start the vendor sandbox in a process of its own, drive its admin API, and point
CampusConf's connectors at it.

The one launcher the test suite, ``bench/`` and ``campusconf rehearse`` share. It uses
only the sandbox's CLI (``init-credentials``, then ``serve``) and its documented admin
API (docs/sandbox.md), never its models, so a caller needs no Django settings for it.
"""

from __future__ import annotations

import base64
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

SRC = Path(__file__).resolve().parents[1]

# What a caller gets unless it says otherwise: two worker processes of 16 threads each,
# enough for the engine's concurrent workers and the benchmarks' rushes; the rest is
# the sandbox's own default (limits on, fault seed 0).
DEFAULTS = {"SANDBOX_WORKERS": "2", "SANDBOX_THREADS": "16"}


class SandboxError(RuntimeError):
    """The sandbox did not start or refused an admin call."""


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@dataclass
class Sandbox:
    url: str
    creds: dict[str, Any]  # as init-credentials wrote them when it started
    db: Path
    process: subprocess.Popen[bytes]
    # One connection for every admin call (a rehearsal makes one per tick; a new client
    # costs more than the call).
    client: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=60))

    @property
    def admin_token(self) -> str:
        return str(self.creds["admin_token"])

    def admin_response(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """The admin API's answer as it is, for a caller that checks the status itself."""
        headers = {"Authorization": f"Bearer {self.admin_token}"}
        return self.client.request(method, f"{self.url}/_admin/{path}", headers=headers, **kwargs)

    def admin(self, method: str, path: str, **kwargs: Any) -> Any:
        """The admin API's JSON answer; a refusal raises ``SandboxError``."""
        response = self.admin_response(method, path, **kwargs)
        if response.status_code >= 400:
            raise SandboxError(f"{method} /_admin/{path}: {response.status_code} {response.text}")
        return response.json()

    def credentials(self) -> dict[str, Any]:
        """The credentials as they are now (a reset or a renewal changes the tokens)."""
        return dict(self.admin("GET", "credentials"))

    def reset(self) -> None:
        self.admin("POST", "reset")

    def move_clock(self, days: float = 0, seconds: float = 0) -> None:
        self.admin("POST", "clock", json={"advance_days": days, "advance_seconds": seconds})

    def set_faults(self, **faults: Any) -> dict[str, Any]:
        return dict(self.admin("PUT", "faults", json=faults))

    def faults(self, **faults: Any) -> None:
        """Set these faults, or with none, clear them all."""
        if faults:
            self.admin("PUT", "faults", json=faults)
        else:
            self.admin("DELETE", "faults")

    def set_variants(self, **choices: str) -> dict[str, str]:
        return dict(self.admin("PUT", "variants", json=choices))

    def seed_personal(self, vendor: str, email: str, **extra: Any) -> None:
        self.admin("POST", "personal-accounts", json={"vendor": vendor, "email": email, **extra})

    def mails(self, to: str | None = None) -> list[dict[str, Any]]:
        """The mails the sandbox sent (newest first), to ``to`` only if given."""
        return list(self.admin("GET", "mails", params={"to": to} if to else {})["items"])

    def undelivered(self) -> list[dict[str, Any]]:
        """Mails the sandbox still has to hand to SMTP (newest first)."""
        items = self.admin("GET", "mails", params={"limit": "200", "body": "0"})["items"]
        return [m for m in items if m["status"] == "queued"]

    def counters(self) -> dict[str, Any]:
        return dict(self.admin("GET", "counters"))

    def zoom_users(self) -> list[dict[str, Any]]:
        return list(self.admin("GET", "users", params={"vendor": "zoom"})["zoom"])

    def webex_people(self) -> list[dict[str, Any]]:
        return list(self.admin("GET", "users", params={"vendor": "webex"})["webex"])

    def webex(self, **kwargs: Any) -> httpx.Client:
        """A client of the Webex API with the organisation's token."""
        headers = {"Authorization": f"Bearer {self.creds['webex']['token']}"}
        return httpx.Client(base_url=self.creds["webex"]["base_url"], headers=headers, **kwargs)

    def zoom_token(self) -> str:
        """A new Server-to-Server token (which knocks out the previous one: Errata Z-a)."""
        zoom = self.creds["zoom"]
        basic = base64.b64encode(f"{zoom['client_id']}:{zoom['client_secret']}".encode())
        response = httpx.post(
            zoom["oauth_url"],
            params={"grant_type": "account_credentials", "account_id": zoom["account_id"]},
            headers={"Authorization": f"Basic {basic.decode()}"},
        )
        response.raise_for_status()
        return str(response.json()["access_token"])

    def zoom(self, **kwargs: Any) -> httpx.Client:
        """A client of the Zoom API with a new token."""
        headers = {"Authorization": f"Bearer {self.zoom_token()}"}
        return httpx.Client(base_url=self.creds["zoom"]["base_url"], headers=headers, **kwargs)


@contextlib.contextmanager
def running_sandbox(
    workdir: Path,
    *,
    smtp_port: int = 0,
    cpus: set[int] | None = None,
    host: str = "127.0.0.1",
    **settings: str,
) -> Iterator[Sandbox]:
    """The sandbox on a free port of ``host`` until the block ends, its database,
    credentials and log in ``workdir`` (whatever an earlier run left there is removed
    first). ``host`` is an address of this machine: 127.0.0.1, or one that other network
    namespaces reach (the multi-host proof, bench/multihost.py).

    ``smtp_port``: where it hands its mails (0: it sends none). ``cpus``: the CPUs it may
    run on (a benchmark gives it cores of its own, as a vendor's servers are not ours).
    ``settings``: ``SANDBOX_*`` environment variables (docs/sandbox.md), over ``DEFAULTS``.
    It runs in its own process group, so stopping it stops its workers too.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    db, creds_file, log_path = (
        workdir / name for name in ("sandbox.sqlite3", "sandbox.json", "sandbox.log")
    )
    for stale in (db, creds_file, *workdir.glob("sandbox.sqlite3-*")):
        stale.unlink(missing_ok=True)
    port = free_port(host)
    url = f"http://{host}:{port}"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")])),
        "SANDBOX_PUBLIC_URL": url,
        "SANDBOX_SMTP_HOST": "127.0.0.1",
        "SANDBOX_SMTP_PORT": str(smtp_port),
        **DEFAULTS,
        **settings,
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)  # the sandbox has settings of its own
    cli = [sys.executable, "-m", "vendor_sandbox.cli"]
    made = subprocess.run(
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
        capture_output=True,
        check=False,
    )
    if made.returncode != 0:
        raise SandboxError(f"vendor-sandbox init-credentials failed: {made.stderr.decode()}")
    pin = None if cpus is None else (lambda: os.sched_setaffinity(0, cpus))
    log = log_path.open("wb")
    process = subprocess.Popen(
        [*cli, "serve", "--db", str(db), "--host", host, "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=pin,
    )
    sandbox = Sandbox(url, json.loads(creds_file.read_text()), db, process)
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(httpx.HTTPError, SandboxError):
                sandbox.admin("GET", "clock")
                break
            if process.poll() is not None or time.monotonic() > deadline:
                raise SandboxError(f"the sandbox did not start: {log_path.read_text()[-2000:]}")
            time.sleep(0.1)
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


def vendor_env(creds: dict[str, Any], prefix: str = "CAMPUSCONF") -> dict[str, str]:
    """The environment variables ``connector_settings`` names, holding the sandbox's
    secrets (the connectors read secrets from the environment only)."""
    webex, zoom = creds["webex"], creds["zoom"]
    return {
        f"{prefix}_WEBEX_TOKEN": webex["token"],
        # The Webex service app's pair, renewed by the connector (Errata W-h).
        f"{prefix}_WEBEX_ACCESS_TOKEN": webex["access_token"],
        f"{prefix}_WEBEX_REFRESH_TOKEN": webex["refresh_token"],
        f"{prefix}_WEBEX_CLIENT_ID": webex["client_id"],
        f"{prefix}_WEBEX_CLIENT_SECRET": webex["client_secret"],
        f"{prefix}_ZOOM_ACCOUNT_ID": zoom["account_id"],
        f"{prefix}_ZOOM_CLIENT_ID": zoom["client_id"],
        f"{prefix}_ZOOM_CLIENT_SECRET": zoom["client_secret"],
        f"{prefix}_ZOOM_WEBHOOK_SECRET": zoom["webhook_secret_token"],
    }


def connector_settings(
    vendor: str, creds: dict[str, Any], prefix: str = "CAMPUSCONF", **extra: Any
) -> dict[str, Any]:
    """A CampusConf service's connector settings for the sandbox's ``vendor``, naming the
    variables ``vendor_env(creds, prefix)`` sets."""
    if vendor == "zoom":
        return {
            "base_url": creds["zoom"]["base_url"],
            "oauth_base_url": creds["zoom"]["oauth_url"].removesuffix("/oauth/token"),
            "account_id_env": f"{prefix}_ZOOM_ACCOUNT_ID",
            "client_id_env": f"{prefix}_ZOOM_CLIENT_ID",
            "client_secret_env": f"{prefix}_ZOOM_CLIENT_SECRET",
            "webhook_secret_env": f"{prefix}_ZOOM_WEBHOOK_SECRET",
            "plan": str(creds["zoom"].get("plan", "Pro")).lower(),
            **extra,
        }
    licences = creds["webex"]["licenses"]
    return {
        "base_url": creds["webex"]["base_url"],
        # The service app's tokens, as production uses them: renewed through the refresh
        # token and kept in the database (the organisation's fixed token never expires).
        "access_token_env": f"{prefix}_WEBEX_ACCESS_TOKEN",
        "refresh_token_env": f"{prefix}_WEBEX_REFRESH_TOKEN",
        "client_id_env": f"{prefix}_WEBEX_CLIENT_ID",
        "client_secret_env": f"{prefix}_WEBEX_CLIENT_SECRET",
        "licence_id": next(v for k, v in licences.items() if "Meeting" in k),
        **extra,
    }
