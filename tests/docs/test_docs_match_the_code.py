"""The documents newcomers read must match the code."""

import re
import tomllib
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


def _layers_drawn(block: str) -> list[str]:
    """The layers of one diagram: the text before a wide gap on each line (the rest is
    its description), a line ending in ':' continued on the next."""
    layers: list[str] = []
    carry = ""
    for line in block.splitlines():
        drawn = re.split(r"\s{3,}", line.strip())[0] if line.strip() else ""
        if not drawn or line.startswith("   "):
            continue  # a description on a line of its own
        drawn = f"{carry} {drawn}".strip() if carry else drawn
        if drawn.endswith(":"):
            carry = drawn
            continue
        carry = ""
        layers.append(" ".join(drawn.split()))
    return layers


def test_architecture_doc_draws_exactly_the_layer_contracts():
    contracts = {
        c["id"]: c
        for c in tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
            "importlinter"
        ]["contracts"]
    }
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    section = text.split("## Layers", 1)[1].split("\n## ", 1)[0]
    apps, engine = re.findall(r"^```\n(.*?)^```", section, re.M | re.S)[:2]
    assert _layers_drawn(apps) == [" ".join(x.split()) for x in contracts["layers"]["layers"]]
    assert _layers_drawn(engine) == [" ".join(x.split()) for x in contracts["engine"]["layers"]]
    for other in set(contracts) - {"layers", "engine"}:
        assert f"`{other}`" in section, f"contract {other} is not described"
