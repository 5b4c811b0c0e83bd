"""Every message has a Japanese translation (S17: pages exist in Japanese and English)."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import campusconf

PACKAGE = Path(campusconf.__file__).parent
LOCALE = PACKAGE / "locale"
# The project catalogue plus any app's own (apps keep their messages beside them).
CATALOGUES = sorted(PACKAGE.glob("**/locale/ja/LC_MESSAGES/django.po"))


def entries(po: Path) -> list[tuple[str, str, bool]]:
    """(msgid, every msgstr joined, fuzzy) for each entry but the header.

    Read line by line: an entry ends at a blank line or where the next one's comments or
    msgid begin (one catalogue had no blank line after its header, and a block-splitting
    reader took its first message for part of the header).
    """
    result: list[tuple[str, str, bool]] = []
    entry: dict | None = None
    field = ""

    def finish() -> None:
        if entry is not None and entry["id"]:
            result.append((entry["id"], entry["str"], entry["fuzzy"]))

    for line in po.read_text(encoding="utf-8").splitlines():
        if line.startswith("#~"):  # obsolete: not used at runtime
            continue
        if not line.strip():
            finish()
            entry, field = None, ""
            continue
        starts_next = line.startswith(("#", "msgctxt", "msgid "))
        if entry is None or (field == "str" and starts_next):
            finish()
            entry, field = {"id": "", "str": "", "fuzzy": False}, ""
        if line.startswith("#,") and re.search(r"\bfuzzy\b", line):
            entry["fuzzy"] = True
        elif line.startswith(("msgctxt", "msgid_plural")):
            field = "other"
        elif line.startswith("msgid "):
            field = "id"
            entry["id"] += _quoted(line)
        elif line.startswith("msgstr"):
            field = "str"
            entry["str"] += _quoted(line)
        elif line.startswith('"') and field in ("id", "str"):
            entry[field] += _quoted(line)
    finish()
    return result


def _quoted(line: str) -> str:
    return line[line.index('"') + 1 : line.rindex('"')]


def test_every_message_has_a_japanese_translation():
    untranslated = [
        f"{po.relative_to(PACKAGE)}: {msgid}"
        for po in CATALOGUES
        for msgid, msgstr, fuzzy in entries(po)
        if not msgstr or fuzzy
    ]
    assert untranslated == []


def test_the_catalogue_is_not_empty():
    assert len(entries(LOCALE / "ja" / "LC_MESSAGES" / "django.po")) > 100


def test_every_message_in_the_code_is_in_a_catalogue(tmp_path):
    # The test above reads the catalogues only, so a string nobody ran makemessages for
    # slipped through in English. Extract afresh from a copy (never the real catalogues)
    # and look each message up in the union of the catalogues, as Django does at runtime.
    copy = tmp_path / "campusconf"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("locale", "__pycache__", "static"))
    (copy / "locale").mkdir()
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    subprocess.run(
        [sys.executable, "-m", "django", "makemessages", "-l", "ja", "--no-location"],
        cwd=copy, env=env, check=True, capture_output=True,
    )  # fmt: skip
    extracted = {msgid for msgid, _, _ in entries(copy / "locale/ja/LC_MESSAGES/django.po")}
    translated = {
        msgid for po in CATALOGUES for msgid, msgstr, fuzzy in entries(po) if msgstr and not fuzzy
    }
    assert sorted(extracted - translated) == []
