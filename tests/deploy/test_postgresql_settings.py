"""PostgreSQL as production runs it: a statement time-out, and PgBouncer's transaction mode."""

from __future__ import annotations

import os
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from campusconf.settings.environment import database_from_env

PG = "postgres://postgres@127.0.0.1:5432/test"
VAR = Path("var")  # only an SQLite URL would use it


def test_production_cancels_statements_after_a_minute(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", PG)
    monkeypatch.delenv("DATABASE_STATEMENT_TIMEOUT_MS", raising=False)
    monkeypatch.delenv("DATABASE_PGBOUNCER", raising=False)
    config = database_from_env(VAR, statement_timeout_ms=60_000)
    assert config["OPTIONS"] == {"options": "-c statement_timeout=60000"}
    monkeypatch.setenv("DATABASE_STATEMENT_TIMEOUT_MS", "0")
    assert database_from_env(VAR, statement_timeout_ms=60_000)["OPTIONS"] == {}


def test_behind_pgbouncer_no_server_side_cursors_prepared_statements_or_startup_options(
    monkeypatch,
):
    monkeypatch.setenv("DATABASE_URL", PG)
    monkeypatch.setenv("DATABASE_PGBOUNCER", "1")
    config = database_from_env(VAR, statement_timeout_ms=60_000)
    assert config["DISABLE_SERVER_SIDE_CURSORS"] is True
    assert config["OPTIONS"] == {"prepare_threshold": None}


@pytest.mark.django_db
def test_the_time_out_really_cancels_a_long_statement(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no statement time-out; the PostgreSQL run checks it")
    monkeypatch.setenv("DATABASE_STATEMENT_TIMEOUT_MS", "300")
    monkeypatch.delenv("DATABASE_PGBOUNCER", raising=False)
    monkeypatch.setenv("DATABASE_URL", os.environ.get("DATABASE_URL", PG))
    options = database_from_env(VAR)["OPTIONS"]
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with (
        psycopg.connect(**params, options=options["options"]) as db,
        pytest.raises(psycopg.errors.QueryCanceled),
    ):
        db.execute("SELECT pg_sleep(2)")
