"""The rate bucket itself: its limits, its stamp, the daily cap, the vendor's 429, pace().

The engine's other tests switch rate limits off (engine_settings), so these are the
ones that pin the bucket's arithmetic. Every expected figure is worked out by hand from
docs/vendors.md's limits: Webex 300 calls a minute (5 a second), Zoom Pro light 30 a
second, paced at 97 % and only in the first 80 % of each second (the 0.2 s guard).
"""

import datetime
import time

import pytest

from campusconf.provisioning.models import RateBucket
from campusconf.provisioning.queueing import rate_limits
from campusconf.services.models import Service

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
NOW = 1_000_000.0  # a whole second: slot-bearing time 800 000.0
# Webex: 5 calls a second at 97 %, spread over 0.8 s of each second.
WEBEX_PER_ACTIVE = 5 * 0.97 / 0.8  # 6.0625 slots per slot-bearing second


@pytest.mark.parametrize(
    ("vendor", "op", "expected"),
    [
        ("zoom", "auth", None),
        ("webex", "auth", None),
        ("zoom", "list", "medium"),
        ("zoom", "create", "light"),
        ("zoom", "delete", "light"),
        ("webex", "list", "api"),
        ("webex", "create", "api"),
    ],
)
def test_each_operation_s_category(vendor, op, expected):
    assert rate_limits.category(vendor, op) == expected


@pytest.mark.parametrize(
    ("vendor", "settings_", "expected"),
    [
        ("zoom", {}, {"light": 30.0, "medium": 20.0, "heavy": 10.0}),
        ("zoom", {"plan": "Business"}, {"light": 80.0, "medium": 60.0, "heavy": 40.0}),
        ("zoom", {"plan": "unheard-of"}, {"light": 30.0, "medium": 20.0, "heavy": 10.0}),
        (
            "zoom",
            {"rate_limits": {"light": 12}, "rate_scale": 0.5},
            {"light": 6.0, "medium": 10.0, "heavy": 5.0},
        ),
        ("webex", {}, {"api": 5.0}),
        ("webex", None, {"api": 5.0}),
        ("webex", {"rate_scale": "2"}, {"api": 10.0}),
    ],
)
def test_limits_per_vendor_plan_and_override(vendor, settings_, expected):
    assert rate_limits.limits(Service(vendor=vendor, connector_settings=settings_)) == expected


@pytest.mark.parametrize(
    ("vendor", "settings_", "expected"),
    [
        ("webex", {}, None),
        ("zoom", {}, 1500),
        ("zoom", {"plan": "BUSINESS"}, 10000),
        ("zoom", {"plan": "unheard-of"}, 1500),
        ("zoom", {"daily_create_cap": 40}, 40),
        ("zoom", {"rate_scale": 0.01}, 15),
        ("zoom", {"daily_create_cap": 40, "rate_scale": 0.5}, 20),
        ("zoom", {"rate_scale": 0.0001}, 1),  # never below one create a day
    ],
)
def test_the_daily_create_cap(vendor, settings_, expected):
    assert (
        rate_limits.daily_create_cap(Service(vendor=vendor, connector_settings=settings_))
        == expected
    )


@pytest.mark.parametrize(
    ("wall", "expected"),
    [
        (
            datetime.datetime(2026, 12, 6, 23, 59, 59, tzinfo=UTC),
            datetime.datetime(2026, 12, 7, tzinfo=UTC),
        ),
        (
            datetime.datetime(2026, 12, 7, 0, 0, 0, tzinfo=UTC),
            datetime.datetime(2026, 12, 8, tzinfo=UTC),
        ),
        # 08:00 in Tokyo is still the day before in UTC, where Zoom counts.
        (
            datetime.datetime(
                2026, 12, 7, 8, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=9))
            ),
            datetime.datetime(2026, 12, 7, tzinfo=UTC),
        ),
    ],
)
def test_the_daily_counters_restart_at_midnight_utc(wall, expected):
    assert rate_limits.next_reset(wall) == expected


def test_slot_bearing_time_by_hand():
    assert rate_limits.active_seconds(10.5, 0.2) == pytest.approx(8.5)
    assert rate_limits.active_seconds(10.9, 0.2) == pytest.approx(8.8)  # the guard bears none
    assert rate_limits.active_seconds(10.5, 0.0) == pytest.approx(10.5)
    assert rate_limits.wall_time(8.5, 0.2) == pytest.approx(10.5)
    assert rate_limits.wall_time(8.0, 0.2) == pytest.approx(10.0)
    assert rate_limits.wall_time(3.25, 0.5) == pytest.approx(6.25)


@pytest.mark.parametrize(
    ("configured", "expected"), [(0.2, 0.2), (0.9, 0.5), (-1, 0.0), ("0.1", 0.1)]
)
def test_the_guard_is_kept_between_nothing_and_half_a_second(settings, configured, expected):
    settings.CAMPUSCONF_ENGINE = {"RATE_GUARD_SECONDS": configured}
    assert rate_limits._guard() == pytest.approx(expected)


def test_a_new_bucket_starts_full_and_stamped_at_the_call(make_service):
    service = make_service()
    assert rate_limits.reserve_many(service, "api", 3, now=NOW) == pytest.approx(
        [0.0, 1 / WEBEX_PER_ACTIVE, 2 / WEBEX_PER_ACTIVE], abs=1e-6
    )
    bucket = RateBucket.objects.get(service=service, category="api")
    assert bucket.rate == pytest.approx(5 * 0.97)
    assert bucket.burst == 1.0
    assert bucket.stamp == NOW
    assert bucket.tokens == pytest.approx(1 - 3)
    assert bucket.waits == 2  # two of the three calls had to wait
    assert (bucket.day, bucket.day_count) == (None, 0)  # Webex has no daily cap


def test_the_bucket_refills_with_time_but_never_beyond_one_slot(make_service):
    service = make_service()
    rate_limits.reserve_many(service, "api", 3, now=NOW)
    # Ten seconds later the debt of two slots is long paid and one slot waits, no more.
    assert rate_limits.reserve_many(service, "api", 2, now=NOW + 10) == pytest.approx(
        [0.0, 1 / WEBEX_PER_ACTIVE], abs=1e-6
    )
    assert RateBucket.objects.get(service=service).stamp == NOW + 10


def test_a_slot_past_the_active_part_of_a_second_moves_to_the_next_second(make_service):
    service = make_service()
    # 0.79 s into the second: the next slot, 1/6.0625 s of slot-bearing time on, would
    # fall in the guarded end, so it is handed out that much after the next second begins.
    now = NOW + 0.79
    waits = rate_limits.reserve_many(service, "api", 2, now=now)
    assert waits[0] == 0.0
    assert waits[1] == pytest.approx(0.21 + (1 / WEBEX_PER_ACTIVE - 0.01), abs=1e-6)


def test_the_daily_cap_cuts_the_batch_and_pauses_the_service_until_midnight_utc(make_service):
    service = make_service(slug="zoom", vendor="zoom", connector_settings={"daily_create_cap": 2})
    now = datetime.datetime(2026, 12, 6, 15, 0, tzinfo=UTC).timestamp()
    midnight = datetime.datetime(2026, 12, 7, tzinfo=UTC)
    assert len(rate_limits.reserve_many(service, "light", 3, now=now, creates=3)) == 2
    bucket = RateBucket.objects.get(service=service, category="light")
    assert (bucket.day, bucket.day_count) == (datetime.date(2026, 12, 6), 2)
    assert bucket.paused_until == midnight
    assert bucket.pause_reason == "daily create cap of 2 reached (counted by the engine)"
    with pytest.raises(rate_limits.ServicePaused) as paused:
        rate_limits.reserve(service, "light", now=now + 60, create=True)
    assert paused.value.until == midnight
    assert str(paused.value) == (
        "paused until 2026-12-07T00:00:00+00:00: daily create cap of 2 reached (counted by the engine)"
    )
    at = datetime.datetime.fromtimestamp(now, UTC)
    assert rate_limits.creates_paused_until(service, at) == midnight
    assert rate_limits.creates_paused_until(service, midnight) is None
    assert rate_limits.creates_left_today(service, 2, at) == 0
    assert rate_limits.creates_left_today(service, 2, midnight) == 2  # a new day


def test_creates_under_the_cap_are_counted_and_a_new_day_starts_from_nothing(make_service):
    service = make_service(slug="zoom", vendor="zoom", connector_settings={"daily_create_cap": 5})
    day_one = datetime.datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
    rate_limits.reserve(service, "light", now=day_one.timestamp(), create=True)
    rate_limits.reserve(service, "light", now=day_one.timestamp() + 1)  # not a create
    assert RateBucket.objects.get(service=service).day_count == 1
    assert rate_limits.creates_left_today(service, 5, day_one) == 4
    day_two = day_one + datetime.timedelta(days=1)
    rate_limits.reserve_many(service, "light", 2, now=day_two.timestamp(), creates=2)
    bucket = RateBucket.objects.get(service=service)
    assert (bucket.day, bucket.day_count, bucket.paused_until) == (day_two.date(), 2, None)


def test_the_last_allowed_create_pauses_even_when_the_batch_fits(make_service):
    service = make_service(slug="zoom", vendor="zoom", connector_settings={"daily_create_cap": 2})
    now = datetime.datetime(2026, 12, 6, 12, 0, tzinfo=UTC).timestamp()
    assert len(rate_limits.reserve_many(service, "light", 2, now=now, creates=2)) == 2
    assert RateBucket.objects.get(service=service).paused_until is not None


def test_creates_left_today_without_a_bucket_is_the_whole_cap(make_service):
    service = make_service(slug="zoom", vendor="zoom")
    assert rate_limits.creates_left_today(service, 7, datetime.datetime.now(UTC)) == 7
    assert rate_limits.creates_paused_until(service) is None


def test_a_429_holds_the_next_slot_until_the_vendor_s_wait_is_over(make_service):
    service = make_service()
    rate_limits.reserve(service, "api", now=NOW)
    rate_limits.vendor_said_wait(service, "create", 5.0, now=NOW)
    bucket = RateBucket.objects.get(service=service)
    assert (bucket.tokens, bucket.stamp, bucket.rate_limited) == (0.0, NOW + 5.0, 1)
    # The next slot: five seconds on, then one slot's time.
    wait = rate_limits.reserve(service, "api", now=NOW)
    assert wait == pytest.approx(5.0 + 1 / WEBEX_PER_ACTIVE, abs=1e-6)


def test_a_429_without_a_wait_holds_one_second(make_service):
    service = make_service()
    rate_limits.vendor_said_wait(service, "list", None, now=NOW)
    assert RateBucket.objects.get(service=service, category="api").stamp == NOW + 1.0


def test_a_429_does_not_pull_back_slots_already_handed_out_beyond_it(make_service):
    service = make_service()
    rate_limits.reserve_many(service, "api", 20, now=NOW)  # slots for the next 3+ seconds
    before = RateBucket.objects.get(service=service)
    rate_limits.vendor_said_wait(service, "create", 1.0, now=NOW)
    after = RateBucket.objects.get(service=service)
    assert (after.tokens, after.stamp) == (before.tokens, before.stamp)
    assert after.rate_limited == 1


def test_a_zoom_429_on_an_uncategorised_call_lands_in_the_api_bucket(make_service):
    service = make_service(slug="zoom", vendor="zoom")
    rate_limits.vendor_said_wait(service, "auth", 2.0, now=NOW)
    assert RateBucket.objects.get(service=service).category == "api"


def test_pause_creates_stops_the_create_bucket_with_a_short_reason(make_service):
    service = make_service(slug="zoom", vendor="zoom")
    until = datetime.datetime(2026, 12, 7, tzinfo=UTC)
    rate_limits.pause_creates(service, until, "x" * 300)
    bucket = RateBucket.objects.get(service=service)
    assert (bucket.category, bucket.paused_until, bucket.rate_limited) == ("light", until, 1)
    assert bucket.pause_reason == "x" * 200


class Clock:
    """Stands in for the time module inside ratelimit: a fixed now, sleeps recorded."""

    def __init__(self, now: float) -> None:
        self.now, self.slept = now, []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


def test_pace_sleeps_until_each_call_s_slot(make_service, settings, monkeypatch):
    settings.CAMPUSCONF_ENGINE = {"RATE_LIMITS": True, "RATE_GUARD_SECONDS": 0.2}
    clock = Clock(NOW)
    monkeypatch.setattr(rate_limits, "time", clock)
    service = make_service()
    waited = [rate_limits.pace(service, "create") for _ in range(3)]
    assert waited == pytest.approx([0.0, 1 / WEBEX_PER_ACTIVE, 2 / WEBEX_PER_ACTIVE], abs=1e-6)
    assert clock.slept == waited[1:]  # no sleep for the call that could go at once
    assert RateBucket.objects.get(service=service).stamp == NOW


def test_pace_counts_zoom_creates_against_the_daily_cap(make_service, settings, monkeypatch):
    settings.CAMPUSCONF_ENGINE = {"RATE_LIMITS": True, "RATE_GUARD_SECONDS": 0.2}
    monkeypatch.setattr(rate_limits, "time", Clock(NOW))
    service = make_service(slug="zoom", vendor="zoom")
    rate_limits.pace(service, "create")
    rate_limits.pace(service, "update")
    rate_limits.pace(service, "create")
    assert RateBucket.objects.get(service=service, category="light").day_count == 2


def test_pace_lets_unlimited_calls_and_a_switched_off_engine_through(make_service, settings):
    service = make_service()
    settings.CAMPUSCONF_ENGINE = {"RATE_LIMITS": True}
    assert rate_limits.pace(service, "auth") == 0.0
    settings.CAMPUSCONF_ENGINE = {"RATE_LIMITS": False}
    assert rate_limits.pace(service, "create") == 0.0
    assert not RateBucket.objects.exists()


def test_one_service_s_pause_and_count_are_its_own(make_service):
    zoom = make_service(slug="zoom", vendor="zoom", connector_settings={"daily_create_cap": 5})
    other = make_service(slug="zoom-2", vendor="zoom", connector_settings={"daily_create_cap": 5})
    day = datetime.datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
    rate_limits.reserve_many(other, "light", 3, now=day.timestamp(), creates=3)
    rate_limits.pause_creates(other, day + datetime.timedelta(hours=3), "the vendor said so")
    assert rate_limits.creates_left_today(zoom, 5, day) == 5
    assert rate_limits.creates_paused_until(zoom, day) is None
    assert rate_limits.creates_left_today(other, 5, day) == 2


def test_a_429_is_timed_from_the_clock_when_no_time_is_given(make_service):
    service = make_service()
    before = time.time()
    rate_limits.vendor_said_wait(service, "create", 2.0)
    stamp = RateBucket.objects.get(service=service).stamp
    assert before + 2.0 <= stamp <= time.time() + 2.0


def test_a_429_counts_the_slots_still_owed_in_slot_time(make_service):
    service = make_service()
    rate_limits.reserve_many(service, "api", 3, now=NOW)  # two slots owed: until NOW + 0.33 s
    rate_limits.vendor_said_wait(service, "create", 0.5, now=NOW)  # beyond them: moved
    assert RateBucket.objects.get(service=service).stamp == NOW + 0.5
    second = make_service(slug="webex-2")
    rate_limits.reserve_many(second, "api", 1, now=NOW)  # nothing owed: taken until NOW
    rate_limits.vendor_said_wait(second, "create", 0.1, now=NOW)
    assert RateBucket.objects.get(service=second).stamp == NOW + 0.1


def test_pauses_are_logged_with_the_service_and_the_reason(make_service, caplog):
    service = make_service(slug="zoom", vendor="zoom", connector_settings={"daily_create_cap": 1})
    until = datetime.datetime(2026, 12, 7, tzinfo=UTC)
    with caplog.at_level("WARNING", logger="campusconf.provisioning"):
        rate_limits.pause_creates(service, until, "the vendor said so")
        rate_limits.reserve_many(
            service,
            "heavy",
            1,
            now=datetime.datetime(2026, 12, 6, 12, tzinfo=UTC).timestamp(),
            creates=1,
        )
    assert [r.getMessage() for r in caplog.records] == [
        "service zoom paused until 2026-12-07T00:00:00+00:00: the vendor said so",
        "service zoom paused until 2026-12-07 00:00:00+00:00: daily create cap of 1 reached "
        "(counted by the engine)",
    ]


def test_plain_reservations_leave_the_daily_count_alone(make_service):
    service = make_service(slug="zoom", vendor="zoom", connector_settings={"daily_create_cap": 1})
    rate_limits.reserve_many(service, "light", 2, now=NOW)
    rate_limits.reserve(service, "light", now=NOW + 1)
    bucket = RateBucket.objects.get(service=service)
    assert (bucket.day, bucket.day_count, bucket.paused_until) == (None, 0, None)


def test_a_pause_ends_at_its_very_moment(make_service):
    service = make_service(slug="zoom", vendor="zoom")
    until = datetime.datetime(2026, 12, 7, tzinfo=UTC)
    rate_limits.pause_creates(service, until, "the vendor said so")
    assert rate_limits.reserve(service, "light", now=until.timestamp()) == 0.0


def test_a_cap_used_up_earlier_today_refuses_the_next_create(make_service):
    service = make_service(slug="zoom", vendor="zoom", connector_settings={"daily_create_cap": 2})
    day = datetime.datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
    rate_limits.reserve(service, "light", now=day.timestamp())  # makes the bucket
    # The count says the cap is used up, but nothing paused the service (staff cleared it).
    RateBucket.objects.filter(service=service).update(day=day.date(), day_count=2)
    with pytest.raises(rate_limits.ServicePaused) as paused:
        rate_limits.reserve(service, "light", now=day.timestamp() + 5, create=True)
    assert paused.value.until == datetime.datetime(2026, 12, 7, tzinfo=UTC)
    assert paused.value.reason == "daily create cap of 2 reached (counted by the engine)"
    assert RateBucket.objects.get(service=service).day_count == 2


def test_a_zoom_429_on_a_create_lands_in_the_light_bucket(make_service):
    service = make_service(slug="zoom", vendor="zoom")
    rate_limits.vendor_said_wait(service, "create", 2.0, now=NOW)
    assert RateBucket.objects.get(service=service).category == "light"


def test_a_pause_already_over_is_no_pause(make_service):
    service = make_service(slug="zoom", vendor="zoom")
    over = datetime.datetime.now(UTC) - datetime.timedelta(hours=2)
    rate_limits.pause_creates(service, over, "yesterday's cap")
    assert rate_limits.creates_paused_until(service) is None


def test_creates_left_today_reads_the_create_bucket_not_another(make_service):
    service = make_service(slug="zoom", vendor="zoom", connector_settings={"daily_create_cap": 5})
    day = datetime.datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
    rate_limits.reserve(service, "medium", now=day.timestamp())  # a list call's bucket, first
    rate_limits.reserve_many(service, "light", 2, now=day.timestamp(), creates=2)
    assert rate_limits.creates_left_today(service, 5, day) == 3
