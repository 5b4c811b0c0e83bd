"""When the last member of a real cohort can be active: hand-worked figures.

The paces: Zoom Business's 80 light calls/s × 0.97 headroom × 60 s ÷ 2 (a look-up per
create) = 2,328 creates a minute; Zoom Pro's 30/s → 873; Webex's 300 a minute (5/s) →
145.5. Zoom's daily caps: Business 10,000, Pro 1,500 (docs/vendors.md, Z-e).
"""

import pytest

from campusconf.rehearsal.projection import (
    Limits,
    last_invitation_hours,
    limits_of,
    project,
    read_limits,
)
from campusconf.services.models import Service


def test_the_engines_paces_and_caps_are_read_from_the_services_settings():
    business = Service(slug="zoom", vendor="zoom", connector_settings={"plan": "business"})
    pro = Service(slug="zoom", vendor="zoom", connector_settings={"plan": "pro"})
    webex = Service(slug="webex", vendor="webex", connector_settings={})
    assert limits_of(business, 30000) == Limits("zoom", 30000, 2328.0, 10000)
    assert limits_of(pro, 30000) == Limits("zoom", 30000, 873.0, 1500)
    assert limits_of(webex, 5000) == Limits("webex", 5000, 145.5, None)


def test_thirty_thousand_on_zoom_business_is_a_three_day_affair():
    p = project(Limits("zoom", 30000, 2328.0, 10000), slowest_hours=0)
    # 10,000 on day 1, 10,000 on day 2, the last 10,000 in 4.3 minutes of day 3.
    assert p.last_invitation_day == 3
    assert p.last_invitation_hours == pytest.approx(48 + 10000 / 2328 / 60, abs=0.01)
    assert p.last_active_day == 3


def test_the_slowest_members_time_to_act_comes_after_the_last_invitation():
    # Last create at 48.07 h; a member who takes 30 h more is active at 78.07 h: day 4.
    assert project(Limits("zoom", 30000, 2328.0, 10000), slowest_hours=30).last_active_day == 4
    # 23.9 h more ends at 71.97 h, still day 3.
    assert project(Limits("zoom", 30000, 2328.0, 10000), slowest_hours=23.9).last_active_day == 3


def test_zoom_pro_takes_twenty_days_for_the_same_cohort():
    p = project(Limits("zoom", 30000, 873.0, 1500), slowest_hours=0)
    assert p.last_invitation_day == 20  # 19 full days of 1,500, the last 1,500 on day 20


def test_webex_has_no_daily_cap_so_the_pace_alone_decides():
    # 30,000 ÷ 145.5 a minute = 206.2 minutes = 3.44 hours.
    assert last_invitation_hours(30000, 145.5, None) == pytest.approx(3.437, abs=0.001)
    assert project(Limits("webex", 30000, 145.5, None), slowest_hours=20).last_active_day == 1


def test_a_cohort_of_exactly_the_cap_fits_in_day_one():
    assert project(Limits("zoom", 10000, 2328.0, 10000), 0).last_invitation_day == 1
    assert project(Limits("zoom", 10001, 2328.0, 10000), 0).last_invitation_day == 2


def test_the_pace_bounds_a_day_when_it_allows_fewer_creates_than_the_cap():
    # 1 create a minute: 1,440 a day, under a cap of 10,000; 2,000 members need day 2.
    assert project(Limits("zoom", 2000, 1.0, 10000), 0).last_invitation_day == 2


def test_an_empty_cohort_has_no_day():
    p = project(Limits("webex", 0, 145.5, None), 12)
    assert (p.last_invitation_day, p.last_active_day) == (0, 0)


def test_limits_are_read_back_from_their_json():
    rows = [{"service": "zoom", "members": "30000", "creates_per_minute": 2328, "daily_cap": 10000}]
    assert read_limits(rows) == [Limits("zoom", 30000, 2328.0, 10000)]
    with pytest.raises(KeyError):
        read_limits([{"service": "zoom"}])


def test_the_report_says_when_the_last_member_will_be_active():
    import datetime

    from campusconf.rehearsal.measures import Measures
    from campusconf.rehearsal.report import html_report, report_fragment

    run = Measures(
        start=datetime.datetime(2026, 4, 1, tzinfo=datetime.UTC), members=2, manual=False
    )
    run.active_after_hours = {"1": 5.0, "2": 30.0}
    zoom = project(Limits("zoom", 30000, 2328.0, 10000), slowest_hours=30.0)
    page = html_report([run], seed=1, mix_name="default", projections=[zoom])
    assert "<td>30,000</td>" in page and "<td>10,000</td>" in page
    assert "<td>day 3 (48.1 h)</td><td><strong>day 4</strong></td>" in page
    # Without projections (the back office shows its own, translated), no such section.
    assert 'id="projection"' not in report_fragment([run], seed=1, mix_name="default")
