"""No template of the site carries what the Content-Security-Policy refuses: an inline
script, an event-handler attribute, a style element or attribute. (Mail templates are
not pages: mail clients need inline styles, and no browser policy applies to them.)"""

import re
from pathlib import Path

import pytest
from django.template.loader import render_to_string

import campusconf

PACKAGE = Path(campusconf.__file__).parent
PAGES = sorted(
    path
    for path in PACKAGE.glob("**/templates/**/*.html")
    if "/mail/" not in path.as_posix() and path.stem not in ("leaver_notice",)
)
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
STYLE = re.compile(r"<style\b|\sstyle\s*=", re.IGNORECASE)


def test_the_scan_covers_the_portal_back_office_and_sign_in():
    names = {path.relative_to(PACKAGE).parts[0] for path in PAGES}
    assert {"portal", "backoffice", "signin", "core", "audit"} <= names


@pytest.mark.parametrize("path", PAGES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_inline_script_or_style(path):
    text = path.read_text(encoding="utf-8")
    assert not INLINE_SCRIPT.search(text), "inline <script>: move it to a static file"
    assert not HANDLER.search(text), "on…= handler: attach it from a static file"
    assert not STYLE.search(text), "inline style: use a class in the stylesheet"


def test_the_saml_post_binding_page_submits_from_a_static_file():
    html = render_to_string(
        "djangosaml2/post_binding_form.html",
        {"target_url": "https://idp.example.ac.jp/sso", "params": {"SAMLRequest": "abc"}},
    )
    assert 'action="https://idp.example.ac.jp/sso"' in html
    assert 'name="SAMLRequest" value="abc"' in html
    assert "saml_post_binding.js" in html
    assert not INLINE_SCRIPT.search(html)
