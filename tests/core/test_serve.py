"""``campusconf serve``: each gunicorn instance has its own control socket, and gunicorn
believes the same proxies as the site."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from campusconf.core.management.commands import serve


def test_two_instances_each_answer_on_their_own_control_socket(platform):
    paths = []
    for instance in platform.instances:
        path = platform.tmp / "var" / "run" / f"gunicorn-127.0.0.1-{instance.port}.ctl"
        assert path.exists(), instance.log.read_text()[-2000:]
        stats = control(path, "show stats")
        # The second instance started after the first, and did not take its socket.
        assert stats["pid"] == instance.process.pid
        paths.append(path)
    assert len(set(paths)) == 2
    # gunicorn's shared default (under HOME) was never used.
    assert not (platform.tmp / ".gunicorn" / "gunicorn.ctl").exists()


def control(path: Path, command: str) -> dict[str, object]:
    """Ask a gunicorn instance through its control socket (from a child process: the
    suite's socket guard allows only TCP to 127.0.0.1)."""
    script = (
        "import json, sys; from gunicorn.ctl.client import ControlClient;"
        "client = ControlClient(sys.argv[1], timeout=10);"
        "print(json.dumps(client.send_command(sys.argv[2])))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(path), command],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    answer: dict[str, object] = json.loads(result.stdout)
    return answer


@pytest.fixture
def gunicorn_argv(monkeypatch, settings, tmp_path):
    """The argv ``serve`` would exec gunicorn with."""
    settings.DEBUG = True  # no collectstatic
    settings.VAR_DIR = tmp_path
    seen: list[list[str]] = []

    def fake_execv(path: str, argv: list[str]) -> None:
        seen.append(argv)

    monkeypatch.setattr(os, "execv", fake_execv)

    def run(*args: str) -> list[str]:
        call_command("serve", *args)
        return seen[-1]

    return run


def option(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def test_gunicorn_believes_the_same_proxies_as_the_site(gunicorn_argv, settings):
    settings.CAMPUSCONF_TRUSTED_PROXIES = ["10.1.0.0/16", "192.0.2.7"]
    argv = gunicorn_argv("--bind", "127.0.0.1:8123")
    assert option(argv, "--forwarded-allow-ips") == "10.1.0.0/16,192.0.2.7"


def test_the_control_socket_is_named_after_the_bind_address(gunicorn_argv, tmp_path):
    argv = gunicorn_argv("--bind", "0.0.0.0:8123")
    assert option(argv, "--control-socket") == str(tmp_path / "run" / "gunicorn-0.0.0.0-8123.ctl")
    assert (tmp_path / "run").is_dir()


def test_the_control_socket_can_be_chosen_or_turned_off(gunicorn_argv, tmp_path):
    chosen = tmp_path / "web-a.ctl"
    assert option(gunicorn_argv("--control-socket", str(chosen)), "--control-socket") == str(chosen)
    argv = gunicorn_argv("--no-control-socket")
    assert "--no-control-socket" in argv
    assert "--control-socket" not in argv


def test_a_socket_path_too_long_for_unix_is_refused_with_the_fix(gunicorn_argv, tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--control-socket"):
        gunicorn_argv("--control-socket", str(tmp_path / ("x" * 120) / "g.ctl"))


def test_the_default_path_differs_per_instance():
    assert serve.control_socket_for("127.0.0.1:8000") != serve.control_socket_for("127.0.0.1:8001")


def test_quiet_static_uses_the_quiet_logger_with_the_static_prefix(gunicorn_argv, monkeypatch):
    from campusconf.core.access_log import QUIET_PREFIX_ENV

    monkeypatch.delenv(QUIET_PREFIX_ENV, raising=False)
    assert "--logger-class" not in gunicorn_argv()
    argv = gunicorn_argv("--quiet-static")
    assert option(argv, "--logger-class") == "campusconf.core.access_log.QuietStaticLogger"
    assert os.environ[QUIET_PREFIX_ENV] == "/static/"
