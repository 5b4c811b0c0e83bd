"""``campusconf help``: an operator finds the project's commands first, a line each."""

import subprocess
import sys

OURS = ("demo", "provision", "reconcile", "status", "vendor-check", "worker", "serve")


def test_the_projects_commands_come_first_one_line_each():
    done = subprocess.run(
        [sys.executable, "-m", "campusconf.cli", "help"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    text = done.stdout
    ours, theirs = text.split("Django's and its libraries' commands")
    listed = {line.split()[0]: line for line in ours.splitlines() if line.startswith("  ")}
    assert set(OURS) <= set(listed)
    # Django's internals are named only after ours, never among them.
    assert "flush" not in listed and "sqlflush" not in listed and "startproject" not in listed
    assert "flush" in theirs and "migrate" in theirs
    assert all(len(line) <= 88 for line in ours.splitlines())
    assert "Queue depth" in listed["status"]
