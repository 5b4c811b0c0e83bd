"""The proof: a campaign run by worker processes under vendor faults, SIGKILLs and tokens
knocked out, against the sandbox as the vendors document it (a new Zoom token knocks out
the previous one: Errata Z-a).

bench/engine_campaign.py does the run and its checks (every account invited, exactly
one vendor user per account, no job lost, stuck or failed, no account failed or waiting
for an authentication reason, one token renewal at a time across the workers) and exits
1 if any fails. It uses a fresh database of the engine the suite runs on ($DATABASE_URL
or SQLite).
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "engine_campaign.py"
AUTH_CHECKS = (
    "one vendor user per account",
    "no account failed for an authentication reason",
    "one token renewal at a time",
)


def run_campaign(*args: str) -> str:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=1500
    )
    assert result.returncode == 0, result.stdout + result.stderr[-4000:]
    return result.stdout


def assert_checks(out: str) -> None:
    assert "FAILED" not in out
    for name in AUTH_CHECKS:
        assert re.search(rf"check: {name}\s+ok", out), out
    # The knock-outs bit: the workers met refused tokens, and got through them.
    refused = re.search(r"401 answers \(a token knocked out or expired\)\s+(\d+)", out)
    assert refused is not None and int(refused.group(1)) > 0, out


def test_a_campaign_under_faults_killed_workers_and_knocked_out_tokens_ends_exactly_once():
    out = run_campaign("--accounts", "100", "--workers", "4", "--faults", "--kill", "--token-churn")
    assert_checks(out)


@pytest.mark.slow
def test_a_2000_account_campaign_under_faults_and_killed_workers_ends_exactly_once():
    out = run_campaign(
        "--accounts", "2000", "--workers", "4", "--faults", "--kill", "--token-churn"
    )
    assert_checks(out)


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="ending every connection to the database is a PostgreSQL fault; SQLite has none",
)
def test_a_campaign_whose_database_connections_are_all_cut_again_and_again_ends_exactly_once():
    out = run_campaign("--accounts", "100", "--workers", "3", "--faults", "--cut-database")
    assert "FAILED" not in out
    for check in ("every account invited", "one vendor user per account", "no job lost"):
        assert re.search(rf"check: {check}[^\n]*ok", out), out
    cuts = re.search(r"database connections all cut\s+(\d+)", out)
    assert cuts is not None and int(cuts.group(1)) > 0, out
