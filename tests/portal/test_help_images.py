"""The help pages' pictures exist, have alt text, and are made by the browser flows."""

import re
from pathlib import Path

import pytest

from tests.portal.help_images import HELP_IMAGES, ROOT

HELP = ROOT / "src" / "campusconf" / "portal" / "templates" / "portal" / "help"
FLOWS = Path(__file__).with_name("test_flows_browser.py")
FIGURE = re.compile(r'{% include "portal/help/_figure.html" with name="([^"]+)" alt="([^"]*)" %}')
PAGES = sorted(HELP.glob("*.*.html"))


def figures(page: Path) -> list[tuple[str, str]]:
    return FIGURE.findall(page.read_text(encoding="utf-8"))


def test_every_help_page_is_checked():
    assert {p.name for p in PAGES} >= {
        "webex.en.html",
        "webex.ja.html",
        "zoom.en.html",
        "zoom.ja.html",
    }


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_picture_exists_and_has_alt_text(page):
    found = figures(page)
    assert found, f"{page.name} shows no screenshot of the sandbox"
    missing = [name for name, _alt in found if not (HELP_IMAGES / f"{name}.png").is_file()]
    assert missing == [], f"run the browser flows (make test) to make {missing}"
    assert all(alt.strip() for _name, alt in found)
    # No <img> outside the include, which is what this test can see.
    assert "<img" not in page.read_text(encoding="utf-8")


@pytest.mark.parametrize("vendor", ["webex", "zoom"])
def test_both_languages_show_the_same_pictures(vendor):
    en = [name for name, _ in figures(HELP / f"{vendor}.en.html")]
    ja = [name for name, _ in figures(HELP / f"{vendor}.ja.html")]
    assert en == ja


def test_every_picture_is_made_by_a_browser_flow():
    # A picture put there by hand would go stale; each must be saved by a flow.
    made = set(re.findall(r'(?:help_shot|mail_shot)\([^)]*?"([a-z0-9-]+)"\)', FLOWS.read_text()))
    shown = {name for page in PAGES for name, _ in figures(page)}
    assert shown - made == set()
    assert made - shown == set(), "a flow saves a picture no help page shows"
