"""The keyboard focus is visible everywhere: every control a Tab reaches draws a ring
of at least 3:1 against what surrounds it (WCAG 2.2, 1.4.11 Non-text Contrast)."""

from __future__ import annotations

import re

import pytest

from tests.security.test_authorization_matrix import world  # noqa: F401
from tests.signin.browser_session import sign_in_browser_as

# Focus rings are CSS: they do not depend on the database (the SQLite pass checks them).
pytestmark = [pytest.mark.browser, pytest.mark.once, pytest.mark.django_db(transaction=True)]

# The focused element's ring, and the first opaque background behind it (its parent's
# and up: the ring is drawn outside the element).
RING = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  let node = el.parentElement, behind = 'rgb(255, 255, 255)';
  while (node) {
    const bg = getComputedStyle(node).backgroundColor;
    if (bg && !bg.startsWith('rgba(0, 0, 0, 0)') && bg !== 'transparent') { behind = bg; break; }
    node = node.parentElement;
  }
  return {tag: el.tagName, text: (el.textContent || el.value || '').trim().slice(0, 40),
          style: style.outlineStyle, width: parseFloat(style.outlineWidth),
          ring: style.outlineColor, behind: behind};
}"""


def luminance(rgb: str) -> float:
    channels = [int(c) / 255 for c in re.findall(r"\d+", rgb)[:3]]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_the_contrast_formula_matches_wcag():
    assert contrast("rgb(0, 0, 0)", "rgb(255, 255, 255)") == pytest.approx(21)
    # The ring this replaced: #ffbf47 on white, about 1.6:1, failed.
    assert contrast("rgb(255, 191, 71)", "rgb(255, 255, 255)") < 1.7


@pytest.mark.parametrize("who, path", [("member", "/my/"), ("staff", "/staff/")])
def test_every_tab_stop_draws_a_ring_of_3_to_1(page, live_server, world, who, path):  # noqa: F811
    page.request.get(f"{live_server.url}/healthz", timeout=120_000)
    sign_in_browser_as(page, live_server.url, world["users"][who])
    page.goto(live_server.url + path)
    seen = []
    for _ in range(25):
        page.keyboard.press("Tab")
        ring = page.evaluate(RING)
        if ring["tag"] == "BODY":
            break
        seen.append(ring)
        where = f"{ring['tag']} '{ring['text']}'"
        assert ring["style"] != "none" and ring["width"] >= 2, where
        assert contrast(ring["ring"], ring["behind"]) >= 3, (where, ring)
    assert len(seen) >= 5  # the walk really went through the page's controls
