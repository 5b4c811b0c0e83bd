"""Screenshots of the sandbox's pages and mails for the help pages, taken by the flows.

The help pages (portal/help/<vendor>.<lang>.html) show what the member will see at the
vendor. The browser flows walk exactly those pages, so they take the pictures as they go:
every `make test` saves a fresh set under var/artifacts/help/ to look at. The committed
pictures in static/portal/help/ are written only when one is missing or when
CAMPUSCONF_UPDATE_HELP_IMAGES=1 is set, because each shot carries a test run's own
addresses, tokens and dates: rewriting them on every run left the tree modified after
`make test`. tests/portal/test_help_images.py fails if a help page names a picture that
is missing or that no flow makes.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from tests.fixtures.sandbox import html_part

ROOT = Path(__file__).resolve().parents[2]
HELP_IMAGES = ROOT / "src" / "campusconf" / "portal" / "static" / "portal" / "help"
FRESH = ROOT / "var" / "artifacts" / "help"
# Narrow and short: the vendor's card and header, no empty page around it.
VIEWPORT = {"width": 760, "height": 360}


def help_shot(page, name: str) -> Path:
    """Save the current page as var/artifacts/help/<name>.png (and the committed copy
    in static/portal/help/ when it is missing or an update is asked for)."""
    before = page.viewport_size
    page.set_viewport_size(VIEWPORT)
    try:
        png = page.screenshot(full_page=True)
    finally:
        page.set_viewport_size(before)
    fresh = _write(FRESH / f"{name}.png", png)
    committed = HELP_IMAGES / f"{name}.png"
    if os.environ.get("CAMPUSCONF_UPDATE_HELP_IMAGES") == "1" or not committed.exists():
        _write(committed, png)
    return fresh


def _write(path: Path, png: bytes) -> Path:
    # Written whole and renamed: the SQLite and PostgreSQL runs take the same shots at
    # the same time, and a reader must never see half a picture.
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    partial.write_bytes(png)
    partial.replace(path)
    return path


# The demo's sandbox (README): what a member trying the demo finds in its mails, rather
# than the port a test run's sandbox happened to get (issue #22: "127.0.0.1:60661").
DEMO_SANDBOX = "http://127.0.0.1:8100"
TEST_SANDBOX = re.compile(r"http://127\.0\.0\.1:\d+")


def mail_shot(page, message, name: str) -> Path:
    """Save the sandbox's mail (its HTML part, as a mail program shows it), its links
    showing the demo sandbox's address."""
    page.set_content(TEST_SANDBOX.sub(DEMO_SANDBOX, html_part(message)))
    return help_shot(page, name)
