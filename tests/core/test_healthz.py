"""/healthz says whether the database answers."""

import os
import subprocess
import sys

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_healthz_reports_a_reachable_database():
    answer = Client().get("/healthz")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok", "database": "reachable"}


def run_django(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup();" + code],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_healthz_answers_503_when_the_database_is_unreachable():
    # A real, unreachable PostgreSQL address: nothing listens on port 1.
    result = run_django(
        "from django.test import Client;"
        "r = Client().get('/healthz');"
        "print(r.status_code, r.json()['database'])",
        DJANGO_SETTINGS_MODULE="campusconf.settings.test",
        DATABASE_URL="postgres://nobody@127.0.0.1:1/none",
    )
    assert result.stdout.strip() == "503 unreachable", result.stderr
