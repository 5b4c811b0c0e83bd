"""The README's demo instructions work in a fresh shell, and start with the two commands."""

import re
from pathlib import Path

from campusconf.demo.management.commands.demo import Command

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()
EXPORT = 'export PATH="$HOME/.local/bin:$PATH"'


def test_the_two_set_up_commands_come_first_and_unchanged():
    first_block = re.search(r"```sh\n(.*?)```", README, re.S)
    assert first_block is not None and first_block.group(1) == "make demo\nmake test\n"


def test_where_the_readme_says_uv_run_it_says_how_to_find_uv():
    # make demo installs uv into ~/.local/bin, which a fresh shell may not have on PATH.
    blocks = re.findall(r"```sh\n(.*?)```", README, re.S)
    commands = next(b for b in blocks if "uv run campusconf" in b)
    assert commands.splitlines()[0] == EXPORT
    for match in re.finditer(r"uv run campusconf", README):
        # In the same paragraph, or in the block right after it.
        start = README.rfind("\n\n", 0, match.start())
        end = README.find("\n\n", README.find("\n\n", match.end()) + 2)
        assert EXPORT in README[start:end], README[start:end]


def test_the_banner_says_it_too():
    banner = Command().banner({})
    assert EXPORT in banner and "demo-clock --advance-days 16" in banner
