"""The bucket's slots and the vendor's fixed one-second windows.

The vendor counts calls per wall-clock second; a call that leaves late counts in the
second it arrives in. The bucket keeps the end of every second free of slots, so a
call late by less than that still counts in its own second.
"""

import collections
import itertools
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campusconf.provisioning.conf import DEFAULTS
from campusconf.provisioning.queueing import rate_limits

pytestmark = pytest.mark.django_db

# Just under the default guard: sent that late or that slow to arrive.
LATE = DEFAULTS["RATE_GUARD_SECONDS"] - 0.001


@given(
    st.floats(min_value=1.0e9, max_value=2.0e9, allow_nan=False),
    st.sampled_from([0.0, 0.05, 0.1, 0.25]),
)
def test_slot_bearing_time_and_wall_time_convert_both_ways(t, guard):
    back = rate_limits.wall_time(rate_limits.active_seconds(t, guard), guard)
    if t - math.floor(t) < 1.0 - guard:
        assert back == pytest.approx(t, abs=1e-6)
    else:  # in a second's guarded end: the next slot-bearing moment is the next second
        assert back == pytest.approx(math.floor(t) + 1.0, abs=1e-6)


def _seconds(waits, now):
    return collections.Counter(math.floor(now + w) for w in waits)


def test_no_slot_falls_in_the_end_of_a_second_and_each_second_keeps_its_rate(make_service):
    service = make_service(slug="zoom", vendor="zoom", connector_settings={"plan": "business"})
    guard = rate_limits._guard()
    assert guard == pytest.approx(0.2)
    now = 1_000_000.37
    waits = rate_limits.reserve_many(service, "light", 800, now=now)  # ten seconds' worth
    assert all(b >= a for a, b in itertools.pairwise(waits))
    for w in waits:
        assert (now + w) - math.floor(now + w) < 1.0 - guard + 1e-6
    paced = 80 * rate_limits.HEADROOM
    full = list(_seconds(waits, now).values())[1:-1]  # the first and last are partial
    assert full and all(abs(n - paced) <= 1 for n in full)


def test_a_call_late_by_less_than_the_guard_still_counts_in_its_own_second(make_service):
    service = make_service(slug="zoom", vendor="zoom", connector_settings={"plan": "business"})
    now = 1_000_000.5
    waits = rate_limits.reserve_many(service, "light", 400, now=now)
    # Whichever call it was.
    assert all(math.floor(now + w + LATE) == math.floor(now + w) for w in waits)
    # So however the late calls bunch up, no second gets more than its slots.
    assert max(_seconds(waits, now).values()) < 80


def test_without_a_guard_the_same_delay_overflows_a_second(make_service, settings):
    settings.CAMPUSCONF_ENGINE = {"RATE_GUARD_SECONDS": 0.0}
    service = make_service(slug="zoom", vendor="zoom", connector_settings={"plan": "business"})
    now = 1_000_000.5
    waits = rate_limits.reserve_many(service, "light", 400, now=now)
    # A worker stalled for LATE at one second's end, then sending what it owed at once.
    edge = math.floor(now) + 2.0
    sent = [max(now + w, edge) if edge - LATE <= now + w < edge else now + w for w in waits]
    assert max(collections.Counter(math.floor(s) for s in sent).values()) > 80


def test_a_vendor_whose_windows_start_elsewhere_sees_no_more_than_smooth_pacing(make_service):
    service = make_service(slug="zoom", vendor="zoom", connector_settings={"plan": "business"})
    now = 1_000_000.0
    times = [now + w for w in rate_limits.reserve_many(service, "light", 800, now=now)]
    paced = 80 * rate_limits.HEADROOM
    for step in range(20):  # windows starting 0, 50, 100 … 950 ms into our second
        start = now + 1.0 + step * 0.05
        for k in range(8):
            in_window = sum(1 for t in times if start + k <= t < start + k + 1)
            assert in_window <= paced + 1
