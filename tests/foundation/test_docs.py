"""The documents newcomers read must match the code."""

import re
from pathlib import Path

from campusconf.accounts.states import TRANSITIONS, State

ROOT = Path(__file__).resolve().parents[2]


def test_lifecycle_doc_lists_exactly_the_transitions_in_the_code():
    text = (ROOT / "docs" / "lifecycle.md").read_text(encoding="utf-8")
    rows = set(re.findall(r"^\| `(\w+)` \| `(\w+)` \|", text, re.M))
    assert rows == {(s.value, t.value) for s, t in TRANSITIONS}
    arrows = set(re.findall(r"^    (\w+) --> (\w+)$", text, re.M))
    assert arrows == {(s.value, t.value) for s, t in TRANSITIONS}


def test_lifecycle_doc_describes_every_state():
    text = (ROOT / "docs" / "lifecycle.md").read_text(encoding="utf-8")
    for state in State:
        assert f"| `{state.value}` | " in text


def test_readme_opens_with_the_two_commands():
    head = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()[:15]
    commands = [line.strip() for line in head if line.strip().startswith("make ")]
    assert commands[:2] == ["make demo", "make test"]
