"""Start the vendor sandbox on a free 127.0.0.1 port, and drive its admin API.

tests/fixtures/sandbox.py (the sandbox's own fixtures) was not there yet when the
engine's tests were written; this small launcher only uses the sandbox's CLI and
its documented admin API, so it can be swapped for those fixtures later.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ADMIN_TOKEN = "engine-tests-admin-token"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@dataclass
class Sandbox:
    url: str
    process: subprocess.Popen[bytes]

    def admin(self, method: str, path: str, **kwargs: Any) -> Any:
        r = httpx.request(
            method,
            f"{self.url}/_admin/{path}",
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
            timeout=30,
            **kwargs,
        )
        r.raise_for_status()
        return r.json()

    def credentials(self) -> dict[str, Any]:
        return dict(self.admin("GET", "credentials"))

    def zoom_users(self) -> list[dict[str, Any]]:
        return list(self.admin("GET", "users", params={"vendor": "zoom"})["zoom"])

    def webex_people(self) -> list[dict[str, Any]]:
        return list(self.admin("GET", "users", params={"vendor": "webex"})["webex"])

    def faults(self, **settings: Any) -> None:
        if settings:
            self.admin("PUT", "faults", json=settings)
        else:
            self.admin("DELETE", "faults")

    def reset(self) -> None:
        self.admin("POST", "reset")


@contextlib.contextmanager
def running_sandbox(
    tmp: Path, cpus: set[int] | None = None, host: str = "127.0.0.1", **env: str
) -> Iterator[Sandbox]:
    """The sandbox in its own process group; with ``cpus``, on those CPUs only (a
    benchmark gives it cores of its own, as a vendor's servers are not ours); on
    ``host``, an address of this machine (the multi-host proof gives it one the
    machines it runs reach)."""
    port = free_port(host)
    url = f"http://{host}:{port}"
    environ = {
        **os.environ,
        "SANDBOX_ADMIN_TOKEN": ADMIN_TOKEN,
        "SANDBOX_SMTP_PORT": "0",
        "SANDBOX_PUBLIC_URL": url,
        "SANDBOX_WORKERS": "2",
        "SANDBOX_THREADS": "16",
        **env,
    }
    cmd = [sys.executable, "-m", "vendor_sandbox.cli", "serve", "--host", host, "--port", str(port)]
    cmd += ["--db", str(tmp / "sandbox.sqlite3")]
    pin = None if cpus is None else (lambda: os.sched_setaffinity(0, cpus))
    process = subprocess.Popen(cmd, env=environ, start_new_session=True, preexec_fn=pin)
    sandbox = Sandbox(url, process)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                sandbox.credentials()
                break
            except (httpx.HTTPError, OSError):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the vendor sandbox did not start") from None
                time.sleep(0.2)
        yield sandbox
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def vendor_env(creds: dict[str, Any]) -> dict[str, str]:
    return {
        "CAMPUSCONF_WEBEX_TOKEN": creds["webex"]["token"],
        # The Webex service app's pair, renewed by the connector (Errata W-h).
        "CAMPUSCONF_WEBEX_ACCESS_TOKEN": creds["webex"]["access_token"],
        "CAMPUSCONF_WEBEX_REFRESH_TOKEN": creds["webex"]["refresh_token"],
        "CAMPUSCONF_WEBEX_CLIENT_ID": creds["webex"]["client_id"],
        "CAMPUSCONF_WEBEX_CLIENT_SECRET": creds["webex"]["client_secret"],
        "CAMPUSCONF_ZOOM_ACCOUNT_ID": creds["zoom"]["account_id"],
        "CAMPUSCONF_ZOOM_CLIENT_ID": creds["zoom"]["client_id"],
        "CAMPUSCONF_ZOOM_CLIENT_SECRET": creds["zoom"]["client_secret"],
        "CAMPUSCONF_ZOOM_WEBHOOK_SECRET": creds["zoom"]["webhook_secret_token"],
    }


def connector_settings(vendor: str, creds: dict[str, Any], **extra: Any) -> dict[str, Any]:
    if vendor == "zoom":
        return {
            "base_url": creds["zoom"]["base_url"],
            "oauth_base_url": creds["zoom"]["oauth_url"].removesuffix("/oauth/token"),
            "account_id_env": "CAMPUSCONF_ZOOM_ACCOUNT_ID",
            "client_id_env": "CAMPUSCONF_ZOOM_CLIENT_ID",
            "client_secret_env": "CAMPUSCONF_ZOOM_CLIENT_SECRET",
            "webhook_secret_env": "CAMPUSCONF_ZOOM_WEBHOOK_SECRET",
            "plan": creds["zoom"].get("plan", "Pro").lower(),
            **extra,
        }
    licences = creds["webex"]["licenses"]
    licence = next(v for k, v in licences.items() if "Meeting" in k)
    return {
        "base_url": creds["webex"]["base_url"],
        # The service app's tokens, as production uses them: renewed through the refresh
        # token and kept in the database (the organisation's fixed token never expires).
        "access_token_env": "CAMPUSCONF_WEBEX_ACCESS_TOKEN",
        "refresh_token_env": "CAMPUSCONF_WEBEX_REFRESH_TOKEN",
        "client_id_env": "CAMPUSCONF_WEBEX_CLIENT_ID",
        "client_secret_env": "CAMPUSCONF_WEBEX_CLIENT_SECRET",
        "licence_id": licence,
        **extra,
    }


def browse_against_sandbox(settings: Any, monkeypatch: Any, creds: dict[str, Any]) -> None:
    """What every browser test against the sandbox needs: the development sign-in
    standing in for the university's SSO, an engine that retries in milliseconds
    without pacing, and the sandbox's credentials where the connectors look."""
    from campusconf.provisioning import vendors

    settings.DEBUG = True
    settings.CAMPUSCONF_DEV_LOGIN = True
    settings.CAMPUSCONF_ENGINE = {
        **settings.CAMPUSCONF_ENGINE,
        "BACKOFF_BASE_SECONDS": 0.05,
        "BACKOFF_MAX_SECONDS": 0.5,
        "RATE_LIMITS": False,
        "FRESH_SECONDS": 0,
    }
    for key, value in vendor_env(creds).items():
        monkeypatch.setenv(key, value)
    vendors.close_all()
