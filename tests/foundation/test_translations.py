"""Every message has a Japanese translation (S17: pages exist in Japanese and English)."""

import re
from pathlib import Path

import campusconf

PACKAGE = Path(campusconf.__file__).parent
LOCALE = PACKAGE / "locale"
# The project catalogue plus any app's own (apps keep their messages beside them).
CATALOGUES = sorted(PACKAGE.glob("**/locale/ja/LC_MESSAGES/django.po"))


def entries(po: Path) -> list[tuple[str, str, bool]]:
    """(msgid, every msgstr joined, fuzzy) for each entry but the header."""
    result = []
    for block in po.read_text(encoding="utf-8").split("\n\n"):
        fuzzy = "#, fuzzy" in block or re.search(r"^#,.*\bfuzzy\b", block, re.M) is not None
        msgid = "".join(
            re.findall(
                r'^(?:msgid|")\s*"?(.*?)"?$',
                block.split("msgid_plural")[0].split("msgstr")[0],
                re.M,
            )
        )
        msgstrs = "".join(re.findall(r'^msgstr(?:\[\d\])? "(.*)"$', block, re.M))
        continued = "".join(re.findall(r'^"(.*)"$', block.split("msgstr", 1)[-1], re.M))
        if "msgid" in block and msgid.strip('"'):
            result.append((msgid, msgstrs + continued, fuzzy))
    return result


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
