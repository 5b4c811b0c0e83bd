"""Reading settings from the environment: flags, lists and the database.

Shared by every settings mode (base.py and the modes that start from it).
"""

import os
from pathlib import Path

import dj_database_url


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def database_from_env(var_dir: Path, statement_timeout_ms: int = 0) -> dict[str, object]:
    """``DATABASE_URL`` or an SQLite file under ``var_dir``.

    SQLite runs in WAL mode with IMMEDIATE transactions: a writer takes the write
    lock when its transaction begins, so concurrent writers queue (up to the busy
    timeout) instead of failing half-way with "database is locked".
    """
    default = f"sqlite:///{var_dir / 'campusconf.sqlite3'}"
    config: dict[str, object] = dict(
        dj_database_url.parse(os.environ.get("DATABASE_URL", default), conn_max_age=0)
    )
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            "init_command": (
                "PRAGMA journal_mode=WAL;"
                "PRAGMA synchronous=NORMAL;"
                "PRAGMA foreign_keys=ON;"
                "PRAGMA busy_timeout=30000;"
            ),
        }
    else:
        config["CONN_MAX_AGE"] = int(os.environ.get("DATABASE_CONN_MAX_AGE", "60"))
        config["CONN_HEALTH_CHECKS"] = True
        config["OPTIONS"] = postgresql_options(config, statement_timeout_ms)
    return config


def postgresql_options(config: dict[str, object], statement_timeout_ms: int) -> dict[str, object]:
    """Connection options for PostgreSQL (docs/deploy.md, "PostgreSQL").

    A statement that runs longer than the time-out is cancelled, so a runaway query ends
    with an error in the log instead of holding locks and a connection. Behind PgBouncer
    in transaction mode (``DATABASE_PGBOUNCER=1``), a connection is shared between
    transactions: no server-side cursors, no prepared statements, and no start-up
    options (PgBouncer refuses them: set the time-out on the role instead).
    """
    timeout = int(os.environ.get("DATABASE_STATEMENT_TIMEOUT_MS", str(statement_timeout_ms)))
    options: dict[str, object] = {}
    if env_bool("DATABASE_PGBOUNCER", False):
        config["DISABLE_SERVER_SIDE_CURSORS"] = True
        options["prepare_threshold"] = None
    elif timeout:
        options["options"] = f"-c statement_timeout={timeout}"
    return options
