"""The production settings pass Django's deploy check, and refuse to start without a secret key."""

import os
import subprocess
import sys


def test_production_settings_pass_the_deploy_check():
    result = subprocess.run(
        [sys.executable, "-m", "campusconf.cli", "check", "--deploy", "--fail-level", "DEBUG"],
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "campusconf.settings.production",
            "SECRET_KEY": "x" * 20 + "production-test-key-with-enough-entropy-0123456789abcdef",
            "ALLOWED_HOSTS": "campusconf.example.ac.jp",
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    result = subprocess.run(
        [sys.executable, "-m", "campusconf.cli", "check"],
        env={**env, "DJANGO_SETTINGS_MODULE": "campusconf.settings.production"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr
