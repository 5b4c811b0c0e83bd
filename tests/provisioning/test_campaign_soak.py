"""The proof: a campaign run by worker processes under vendor faults and SIGKILLs.

bench/engine_campaign.py does the run and its checks (every account invited, exactly
one vendor user per account, no job lost, stuck or failed) and exits 1 if any fails.
It uses a fresh database of the engine the suite runs on ($DATABASE_URL or SQLite).
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "engine_campaign.py"


def run_campaign(*args: str) -> str:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=1500
    )
    assert result.returncode == 0, result.stdout + result.stderr[-4000:]
    return result.stdout


def test_a_campaign_under_faults_and_killed_workers_ends_exactly_once():
    out = run_campaign("--accounts", "100", "--workers", "3", "--faults", "--kill")
    assert "FAILED" not in out
    assert re.search(r"check: one vendor user per account\s+ok", out)


@pytest.mark.slow
def test_a_2000_account_campaign_under_faults_and_killed_workers_ends_exactly_once():
    out = run_campaign("--accounts", "2000", "--workers", "4", "--faults", "--kill")
    assert "FAILED" not in out
