"""Vendor rate limits shared by every worker process on every machine.

One ``RateBucket`` row per (service, category), updated in one short transaction per
call or per batch of calls. A caller reserves the next free slot and sleeps until it: the engine paces
itself at the vendor's limit instead of bouncing off 429s. Zoom's daily create cap
pauses the service (``paused_until``) until the reset time the vendor gave.

The vendor counts calls in fixed windows of the wall-clock second. A call that leaves
late — a busy machine, a worker stalled for a few tens of milliseconds — is harmless
within its second but counts against the next one when its slot was near the second's
end, and a stalled worker catches up with many calls at once. So slots are handed out
only in the first part of each second (``active_seconds``, ``wall_time``): the last
``RATE_GUARD_SECONDS`` of every second get none, and a call late by less than that
still lands in its own window. The bucket refills only in the active part, so a second
still gets the same number of slots — and so does any one-second span, should a
vendor's windows not start on our second.
"""

from __future__ import annotations

import datetime
import logging
import math
import time

from django.db import IntegrityError, transaction
from django.db.models import F

from campusconf.provisioning.conf import engine_setting
from campusconf.provisioning.models import RateBucket
from campusconf.services.models import Service

log = logging.getLogger("campusconf.provisioning")

# Calls per second, from docs/vendors.md. Webex publishes none (sandbox: 300/minute).
ZOOM_LIMITS = {
    "pro": {"light": 30.0, "medium": 20.0, "heavy": 10.0},
    "business": {"light": 80.0, "medium": 60.0, "heavy": 40.0},
}
ZOOM_DAILY_CREATES = {"pro": 1500, "business": 10000}
WEBEX_LIMITS = {"api": 300 / 60}
# Pace a little under the limit: the vendor counts in fixed windows, we refill smoothly,
# and a call sent late (a busy machine) lands in the next window beside that window's
# own. The 3 % left over is what absorbs it, so a bucket keeps no burst to spend it on:
# with a burst of 3 % too, a window could fill to the limit itself, and 30 ms of delay
# at a second's edge cost a 429 burst and a second's stall (docs/benchmarks.md).
HEADROOM = 0.97
BURST = 1.0


def _guard() -> float:
    return min(0.5, max(0.0, float(engine_setting("RATE_GUARD_SECONDS"))))


def _per_active(bucket: RateBucket) -> float:
    """The bucket's slots per second of slot-bearing time: its rate per wall second."""
    return bucket.rate / (1.0 - _guard())


def active_seconds(t: float, guard: float) -> float:
    """Seconds of slot-bearing time up to wall time ``t`` (each second's last
    ``guard`` seconds bear none)."""
    second = math.floor(t)
    return second * (1.0 - guard) + min(t - second, 1.0 - guard)


def wall_time(a: float, guard: float) -> float:
    """The wall time at which ``a`` seconds of slot-bearing time have passed."""
    length = 1.0 - guard
    second = math.floor(a / length)
    return second + (a - second * length)


class ServicePaused(Exception):
    def __init__(self, until: datetime.datetime, reason: str) -> None:
        super().__init__(f"paused until {until.isoformat()}: {reason}")
        self.until, self.reason = until, reason


def category(vendor: str, op: str) -> str | None:
    """The vendor's rate-limit category of a connector operation; None = not limited."""
    if op == "auth":
        return None
    if vendor == "zoom":
        return "medium" if op == "list" else "light"
    return "api"


def limits(service: Service) -> dict[str, float]:
    cs = service.connector_settings or {}
    if service.vendor == "zoom":
        plan = str(cs.get("plan", "pro")).lower()
        base = dict(ZOOM_LIMITS.get(plan, ZOOM_LIMITS["pro"]))
    else:
        base = dict(WEBEX_LIMITS)
    overrides = cs.get("rate_limits") or {}
    scale = float(cs.get("rate_scale", 1))
    return {k: float(overrides.get(k, v)) * scale for k, v in base.items()}


def daily_create_cap(service: Service) -> int | None:
    """Zoom's creates a day (docs/vendors.md), scaled like the per-second limits."""
    if service.vendor != "zoom":
        return None
    cs = service.connector_settings or {}
    plan = str(cs.get("plan", "pro")).lower()
    cap = cs.get("daily_create_cap") or ZOOM_DAILY_CREATES.get(plan, ZOOM_DAILY_CREATES["pro"])
    return max(1, int(float(cap) * float(cs.get("rate_scale", 1))))


def next_reset(wall: datetime.datetime) -> datetime.datetime:
    """Zoom's daily counters start again at 00:00 UTC."""
    day = wall.astimezone(datetime.UTC).date()
    return datetime.datetime.combine(day, datetime.time(), datetime.UTC) + datetime.timedelta(1)


def _bucket(service: Service, cat: str, now: float | None = None) -> RateBucket:
    bucket = RateBucket.objects.select_for_update().filter(service=service, category=cat).first()
    if bucket is not None:
        return bucket
    rate = limits(service).get(cat, 10.0) * HEADROOM
    try:
        with transaction.atomic():
            return RateBucket.objects.create(
                service=service,
                category=cat,
                rate=rate,
                burst=BURST,
                tokens=1.0,
                stamp=time.time() if now is None else now,
            )
    except IntegrityError:
        return RateBucket.objects.select_for_update().get(service=service, category=cat)


def reserve(service: Service, cat: str, now: float | None = None, *, create: bool = False) -> float:
    """Take one slot; the seconds to sleep before using it. Raises ServicePaused."""
    return reserve_many(service, cat, 1, now, creates=1 if create else 0)[0]


def reserve_many(
    service: Service, cat: str, count: int, now: float | None = None, *, creates: int = 0
) -> list[float]:
    """Take ``count`` slots in one row update; the seconds to wait before each.

    A worker that runs a batch of jobs pays one short transaction for all its calls
    instead of one each; the slots are the same as ``count`` single reservations.

    ``creates`` of them are user creates, counted against the vendor's daily cap ahead
    of the vendor: the list is cut to what today's cap still allows, and the call that
    uses the cap up pauses the service until the reset, so the engine stops before
    Zoom's 429 instead of after it (that 429 still pauses it, should others share the
    vendor account). Raises ServicePaused when nothing is left.
    """
    now = time.time() if now is None else now
    with transaction.atomic():
        bucket = _bucket(service, cat, now)
        wall = datetime.datetime.fromtimestamp(now, datetime.UTC)
        if bucket.paused_until and bucket.paused_until > wall:
            raise ServicePaused(bucket.paused_until, bucket.pause_reason)
        day, day_count = bucket.day, bucket.day_count
        cap = daily_create_cap(service) if creates else None
        if cap is not None:
            if day != wall.date():
                day, day_count = wall.date(), 0
            allowed = max(0, cap - day_count)
            count -= max(0, creates - allowed)
            day_count += min(creates, allowed)
            if day_count >= cap:
                until = next_reset(wall)
                reason = f"daily create cap of {cap} reached (counted by the engine)"
                RateBucket.objects.filter(pk=bucket.pk).update(
                    paused_until=until, pause_reason=reason, day=day, day_count=day_count
                )
                log.warning("service %s paused until %s: %s", service.slug, until, reason)
                if count <= 0:
                    raise ServicePaused(until, reason)
        guard, per_active = _guard(), _per_active(bucket)
        here = active_seconds(now, guard)
        start = min(
            bucket.burst, bucket.tokens + (here - active_seconds(bucket.stamp, guard)) * per_active
        )
        # Rounded to the microsecond: wall_time(active_seconds(now)) is now, give or take a
        # float's error.
        waits = [
            max(0.0, round(wall_time(here + max(0.0, i + 1 - start) / per_active, guard) - now, 6))
            for i in range(count)
        ]
        RateBucket.objects.filter(pk=bucket.pk).update(
            tokens=start - count,
            stamp=now,
            waits=F("waits") + sum(1 for w in waits if w > 0),
            day=day,
            day_count=day_count,
        )
    return waits


def pace(service: Service, op: str) -> float:
    """Block until the next call of ``op`` may go out; the seconds waited."""
    if not engine_setting("RATE_LIMITS"):
        return 0.0
    cat = category(service.vendor, op)
    if cat is None:
        return 0.0
    wait = reserve(service, cat, create=op == "create")
    if wait > 0:
        time.sleep(wait)
    return wait


def vendor_said_wait(
    service: Service, op: str, seconds: float | None, now: float | None = None
) -> None:
    """A 429 anyway: no slot before the time the vendor asked us to wait for.

    The wait runs from now, not from the last slot: the calls in flight when a
    vendor's window fills up all come back 429 together, each asking for the same
    second, and pushing the bucket back once per answer paused a whole campaign for
    as many seconds as there were answers (18 in one pace run). Slots reserved
    beyond the wait already stay as they are.
    """
    now = time.time() if now is None else now
    later = now + (seconds or 1.0)
    cat = category(service.vendor, op) or "api"
    with transaction.atomic():
        bucket = _bucket(service, cat, now)
        # When the slots handed out so far run out (tokens below zero are slots taken).
        guard, per_active = _guard(), _per_active(bucket)
        taken = active_seconds(bucket.stamp, guard) + max(0.0, -bucket.tokens) / per_active
        taken_until = wall_time(taken, guard)
        moved = {"tokens": 0.0, "stamp": later} if taken_until < later else {}
        RateBucket.objects.filter(pk=bucket.pk).update(rate_limited=F("rate_limited") + 1, **moved)


def pause_creates(service: Service, until: datetime.datetime, reason: str) -> None:
    """Zoom's daily cap: stop this service's account work until ``until``."""
    with transaction.atomic():
        bucket = _bucket(service, category(service.vendor, "create") or "api")
        RateBucket.objects.filter(pk=bucket.pk).update(
            paused_until=until, pause_reason=reason[:200], rate_limited=F("rate_limited") + 1
        )
    log.warning("service %s paused until %s: %s", service.slug, until.isoformat(), reason)


def creates_paused_until(
    service: Service, now: datetime.datetime | None = None
) -> datetime.datetime | None:
    """Until when the service's creates are paused (the daily cap, counted by us or
    answered by the vendor), or None when they are not: every finish estimate starts
    from here."""
    now = now or datetime.datetime.now(datetime.UTC)
    until: datetime.datetime | None = (
        RateBucket.objects.filter(service=service, paused_until__gt=now)
        .order_by("-paused_until")
        .values_list("paused_until", flat=True)
        .first()
    )
    return until


def creates_left_today(service: Service, cap: int, now: datetime.datetime) -> int:
    """Creates today's daily cap still allows, as counted by the engine (``day_count``)."""
    row = (
        RateBucket.objects.filter(service=service, category=category(service.vendor, "create"))
        .values_list("day", "day_count")
        .first()
    )
    if row is None or row[0] != now.astimezone(datetime.UTC).date():
        return cap
    return max(0, cap - row[1])
