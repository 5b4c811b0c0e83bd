"""The rehearsal's report renders in a browser: both runs' lines, the histogram, the
members not active with their reason. Screenshot: var/artifacts/screenshots/rehearsal-report.png."""

import datetime

import pytest

from campusconf.rehearsal.measures import Measures, Stuck
from campusconf.rehearsal.report import html_report, markdown_table
from tests.fixtures.browser import shot

pytestmark = pytest.mark.browser


def run(manual: bool) -> Measures:
    m = Measures(start=datetime.datetime(2026, 4, 1, tzinfo=datetime.UTC), members=4, manual=manual)
    m.active_after_hours = {"1": 3.0, "2": 30.0, "3": 200.0}
    m.per_day = [
        {"day": d, "active_members": min(3, d), "active_share": min(3, d) / 4} for d in range(1, 16)
    ]
    m.stuck = [
        Stuck(
            "4", {"webex": "unlicensed"}, "webex: unlicensed (S9)", "webex: card “unlicensed”", []
        )
    ]
    m.inquiries = {} if not manual else {"webex: wrong_activation": 1}
    m.helpdesk_mails = {"resend: no mail (S5)": 2} if manual else {}
    return m


def test_the_report_renders_with_its_charts(page, tmp_path):
    runs = [run(False), run(True)]
    path = tmp_path / "report.html"
    path.write_text(html_report(runs, seed=1, mix_name="default"), encoding="utf-8")
    page.goto(path.as_uri())
    assert page.locator("svg polyline").count() == 2
    assert page.locator("svg rect").count() >= 2 * 10
    assert "webex: unlicensed (S9)" in page.inner_text("body")
    assert "| help-desk mails | 0 | 2 |" in markdown_table(runs)
    # The side-by-side measures are a table a reader scans, not Markdown source.
    row = page.locator("table tr", has_text="help-desk mails").first
    assert row.locator("td").all_inner_texts() == ["help-desk mails", "0", "2"]
    assert page.locator("pre").count() == 0
    shot(page, "rehearsal-report")
