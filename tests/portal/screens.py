"""Look at every portal page of a flow in both languages.

The flows run in one language each; ``shot_both`` saves the page as it is, switches with
the page's own language switcher, saves it again, and switches back, so each flow's
screens exist in Japanese and English (var/artifacts/screenshots/<name>-<lang>.png).
"""

from tests.fixtures.browser import shot


def _switch(page, language: str) -> None:
    page.locator(f"form.langswitch button[value='{language}']").click()
    # Not wait_for_function: its string would be eval'd, which the page's CSP forbids.
    page.locator(f"html[lang='{language}']").wait_for(state="attached")
    page.wait_for_load_state()


def shot_both(page, name: str) -> None:
    current = page.locator("html").get_attribute("lang")
    other = "en" if current == "ja" else "ja"
    shot(page, f"{name}-{current}")
    _switch(page, other)
    shot(page, f"{name}-{other}")
    _switch(page, current)
