"""The commands the README documents, typed in a second shell while the demo runs: they
find the demo sandbox's credentials in var/sandbox.json by themselves, and a missing one
ends in one line that says which and how to set it — never a traceback.

Real processes, as a person runs them: ``campusconf`` in the development settings on a
var/ directory of its own, the sandbox, and ``campusconf serve`` for Zoom's webhook.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from vendor_sandbox.launcher import Sandbox, free_port

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "campusconf.cli"]
VENDOR_VARIABLES = [
    "CAMPUSCONF_WEBEX_TOKEN",
    "CAMPUSCONF_WEBEX_ACCESS_TOKEN",
    "CAMPUSCONF_WEBEX_REFRESH_TOKEN",
    "CAMPUSCONF_WEBEX_CLIENT_ID",
    "CAMPUSCONF_WEBEX_CLIENT_SECRET",
    "CAMPUSCONF_ZOOM_ACCOUNT_ID",
    "CAMPUSCONF_ZOOM_CLIENT_ID",
    "CAMPUSCONF_ZOOM_CLIENT_SECRET",
    "CAMPUSCONF_ZOOM_WEBHOOK_SECRET",
]


def shell(var: Path, **extra: str) -> dict[str, str]:
    """A fresh shell's environment: the development settings, nothing of the vendors."""
    env = {k: v for k, v in os.environ.items() if k not in VENDOR_VARIABLES}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.update(
        {
            "PYTHONPATH": str(ROOT / "src"),
            "CAMPUSCONF_VAR_DIR": str(var),
            "DATABASE_URL": f"sqlite:///{var}/campusconf.sqlite3",
            "LOG_LEVEL": "WARNING",
            **extra,
        }
    )
    return env


def campusconf(var: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], env=shell(var, **extra), cwd=ROOT, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip


@pytest.fixture(scope="module")
def demo(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """What `make demo` leaves behind: var/sandbox.json, a migrated database with the
    sample services, and the web process serving Zoom's webhook."""
    var = tmp_path_factory.mktemp("var")
    credentials = sandbox.credentials()
    (var / "sandbox.json").write_text(json.dumps(credentials))
    assert campusconf(var, "migrate", "-v0").returncode == 0
    load = (
        "import json; from campusconf.demo.sample import load_sample_data; "
        f"load_sample_data({sandbox.url!r}, 'campusconf-demo', json.load(open({str(var / 'sandbox.json')!r})))"
    )
    loaded = campusconf(var, "shell", "-c", load)
    assert loaded.returncode == 0, loaded.stderr
    port = free_port()
    web = subprocess.Popen(
        [*CLI, "serve", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        env=shell(var),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            assert web.poll() is None and time.monotonic() < deadline, "the web did not start"
            time.sleep(0.2)
        yield {"var": var, "url": url}
    finally:
        web.terminate()
        web.wait(20)


def test_reconcile_and_vendor_check_find_the_demo_credentials(demo, vendor):
    reconciled = campusconf(demo["var"], "reconcile", "zoom")
    assert reconciled.returncode == 0, reconciled.stderr
    assert reconciled.stdout.startswith("reconcile zoom: done")
    webhook = f"{demo['url']}/webhooks/zoom"
    checked = campusconf(demo["var"], "vendor-check", "zoom", "--webhook-url", webhook)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "[ok  ] webhook" in checked.stdout and "all checks passed" in checked.stdout
    checked = campusconf(demo["var"], "vendor-check", "webex")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "all checks passed: webex is ready" in checked.stdout


def test_a_missing_secret_is_one_line_with_the_fix_and_no_traceback(demo, vendor):
    # A shell on a machine without the demo's file (or before `make demo` ran).
    (demo["var"] / "sandbox.json").rename(demo["var"] / "sandbox.json.away")
    try:
        failed = campusconf(demo["var"], "reconcile", "zoom")
    finally:
        (demo["var"] / "sandbox.json.away").rename(demo["var"] / "sandbox.json")
    assert failed.returncode == 2
    assert failed.stdout == ""
    assert failed.stderr.count("\n") == 1, failed.stderr
    assert "Traceback" not in failed.stderr
    assert failed.stderr.startswith(
        "campusconf: service 'zoom' needs the environment variable CAMPUSCONF_ZOOM_ACCOUNT_ID"
    )
    assert "var/sandbox.json" in failed.stderr


def test_production_settings_never_read_the_demo_file(demo, vendor):
    failed = campusconf(
        demo["var"],
        "reconcile",
        "zoom",
        DJANGO_SETTINGS_MODULE="campusconf.settings.production",
        SECRET_KEY="x" * 60,
    )
    assert failed.returncode == 2 and "Traceback" not in failed.stderr
    assert "CAMPUSCONF_ZOOM_ACCOUNT_ID" in failed.stderr and "make demo" not in failed.stderr


def test_a_missing_setting_of_the_mode_is_one_line_too(tmp_path):
    env = {"DJANGO_SETTINGS_MODULE": "campusconf.settings.production", "SECRET_KEY": ""}
    failed = campusconf(tmp_path, "status", **env)
    assert failed.returncode == 2 and "Traceback" not in failed.stderr
    assert failed.stderr.count("\n") == 1
    assert failed.stderr.startswith("campusconf: SECRET_KEY must be set in the environment")
