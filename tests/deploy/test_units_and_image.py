"""What can be checked here of the production layout (docs/deploy.md): the systemd
units' syntax, the container image's build context and the compose file's wiring.
Building the image needs its base image from a registry this machine does not reach."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
UNITS = sorted((ROOT / "deploy" / "systemd").glob("*.service"))
DOCKERFILE = ROOT / "deploy" / "container" / "Dockerfile"
INSTALLED = "/opt/campusconf/.venv/bin/campusconf"


def test_there_are_units_for_web_workers_and_migrations():
    assert {u.stem for u in UNITS} == {
        "campusconf-web",
        "campusconf-worker",
        "campusconf-migrate",
    }


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze not installed")
@pytest.mark.parametrize("unit", UNITS, ids=lambda u: u.name)
def test_each_unit_passes_systemd_analyze_verify(unit, tmp_path):
    # The unit as installed, with this checkout's campusconf and an environment file
    # standing in for /opt/campusconf and /etc/campusconf.
    env = tmp_path / "campusconf.env"
    env.write_text((ROOT / "deploy" / "systemd" / "campusconf.env.example").read_text())
    text = unit.read_text().replace(INSTALLED, str(Path(sys.executable).with_name("campusconf")))
    text = text.replace("/etc/campusconf/campusconf.env", str(env))
    copy = tmp_path / unit.name
    copy.write_text(text)
    done = subprocess.run(
        ["systemd-analyze", "verify", str(copy)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0 and unit.name not in done.stderr, done.stderr


def test_the_units_run_the_commands_that_exist():
    commands = {"serve", "worker", "migrate", "check"}
    for unit in UNITS:
        for line in re.findall(r"^ExecStart=(.*)$", unit.read_text(), re.M):
            assert line.startswith(INSTALLED + " "), line
            assert line.split()[1] in commands, line


def test_the_example_environment_holds_no_secret():
    text = (ROOT / "deploy" / "systemd" / "campusconf.env.example").read_text()
    values = dict(
        line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#")
    )
    assert values["DJANGO_SETTINGS_MODULE"] == "campusconf.settings.production"
    assert values["SECRET_KEY"].startswith("replace")
    assert all(
        values[k] == "" for k in values if k.startswith(("CAMPUSCONF_ZOOM", "CAMPUSCONF_WEBEX"))
    )


def copied_sources() -> list[str]:
    sources = []
    for line in DOCKERFILE.read_text().splitlines():
        if line.startswith("COPY "):
            sources += [p for p in line.split()[1:-1] if not p.startswith("--")]
    return sources


def test_every_file_the_image_copies_is_in_the_repository_and_the_context():
    ignored = (ROOT / ".dockerignore").read_text().split()
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    for source in copied_sources():
        assert (ROOT / source).exists(), source
        assert any(path == source or path.startswith(source + "/") for path in tracked), source
        assert f"{source}/" not in ignored and source not in ignored, source


def test_the_context_leaves_out_local_state_and_secrets():
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".git/", ".venv/", "var/", "node_modules/", "*.sqlite3", ".env", "**/*.env"} <= ignored


def test_compose_runs_one_image_as_migrate_web_and_worker():
    compose = yaml.safe_load((ROOT / "deploy" / "container" / "compose.yaml").read_text())
    services = compose["services"]
    assert {"db", "smtp", "migrate", "web", "worker"} <= set(services)
    for name in ("migrate", "web", "worker"):
        assert services[name]["image"] == "campusconf:latest"
        assert services[name]["build"]["dockerfile"] == "deploy/container/Dockerfile"
    assert services["worker"]["command"][:2] == ["campusconf", "worker"]
    assert services["migrate"]["command"][:2] == ["campusconf", "migrate"]
    # The web and the workers start only once the schema is current.
    for name in ("web", "worker"):
        condition = services[name]["depends_on"]["migrate"]["condition"]
        assert condition == "service_completed_successfully"
