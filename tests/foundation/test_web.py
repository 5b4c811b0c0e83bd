import os
import subprocess
import sys

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_home_page_lists_the_services_with_their_terms(make_service):
    make_service(
        slug="zoom", vendor="zoom", name_en="Zoom Pro", max_participants=500, webinars=True
    )
    page = Client().get("/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Zoom Pro" in html
    assert "up to 500 people" in html


def test_home_page_speaks_japanese_by_default(make_service):
    make_service(name_ja="ウェベックス")
    html = Client().get("/", HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert 'lang="ja"' in html
    assert "ウェベックス" in html
    assert "サービス" in html  # the "Services" heading, translated


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
