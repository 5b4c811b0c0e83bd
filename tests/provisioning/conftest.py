from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from campusconf.provisioning.engine import vendors
from vendor_sandbox.launcher import Sandbox, connector_settings, running_sandbox, vendor_env


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    # Limits off for the functional tests; the pacing has its own test and bench.
    with running_sandbox(tmp_path_factory.mktemp("sandbox"), SANDBOX_LIMITS="0") as sbx:
        yield sbx


@pytest.fixture
def vendor(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    """A clean sandbox, its secrets in the environment, and fresh connectors."""
    sandbox.reset()
    for key, value in vendor_env(sandbox.credentials()).items():
        monkeypatch.setenv(key, value)
    vendors.close_all()
    yield sandbox
    vendors.close_all()


@pytest.fixture
def engine_settings(settings: Any) -> dict[str, Any]:
    settings.CAMPUSCONF_ENGINE = {
        **settings.CAMPUSCONF_ENGINE,
        "BACKOFF_BASE_SECONDS": 0.05,
        "BACKOFF_MAX_SECONDS": 0.5,
        "RATE_LIMITS": False,
        "FRESH_SECONDS": 0,
    }
    return dict(settings.CAMPUSCONF_ENGINE)


@pytest.fixture
def zoom_service(make_service: Any, vendor: Sandbox, engine_settings: Any) -> Any:
    return make_service(
        slug="zoom",
        vendor="zoom",
        invitation_validity_days=30,
        connector_settings=connector_settings("zoom", vendor.credentials()),
    )


@pytest.fixture
def webex_service(make_service: Any, vendor: Sandbox, engine_settings: Any) -> Any:
    return make_service(
        slug="webex",
        vendor="webex",
        connector_settings=connector_settings("webex", vendor.credentials()),
    )


@pytest.fixture
def tmp(tmp_path: Path) -> Path:
    return tmp_path
