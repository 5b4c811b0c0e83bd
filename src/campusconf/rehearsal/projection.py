"""When the last member of a real cohort can be active, from the vendors' real limits.

A rehearsal plays a few hundred members, whom no vendor limit slows; a term start has
tens of thousands. What bounds the real one is the vendor: Zoom creates at most its
daily cap of new users a day (1,500 on Pro, 10,000 on Business and up; docs/vendors.md,
Z-e), and every create is paced at the per-second limit the engine keeps to (Zoom's
"light" calls, Webex's 300 a minute), counting a look-up per account as the campaign's
own finish estimate does (``campaign_progress.paced_per_minute``). So the last
invitation goes out on a day the limits alone decide, and the last member is active
once they have acted on it, which the rehearsal measures.

Days are counted as the vendor counts them: day 1 starts at 00:00 UTC, when Zoom's
daily counter starts again, with the whole cap to spend.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from campusconf.provisioning.queueing import rate_limits
from campusconf.provisioning.verbs import campaign_progress
from campusconf.services.models import Service

MINUTES_A_DAY = 24 * 60


@dataclass(frozen=True)
class Limits:
    """One service's limits and the members who will apply for it."""

    service: str
    members: int
    creates_per_minute: float
    daily_cap: int | None  # None: the vendor has no daily cap (Webex)


@dataclass(frozen=True)
class Projection:
    service: str
    members: int
    creates_per_minute: float
    daily_cap: int | None
    last_invitation_day: int  # the day (from 1) the last create is made; 0: nobody
    last_invitation_hours: float  # hours from the start of day 1 to the last create
    slowest_hours: float  # the rehearsal's slowest member: hours from invitation to active
    last_active_day: int  # the day (from 1) the last member can be active; 0: nobody


def limits_of(service: Service, members: int) -> Limits:
    """The limits the engine keeps to for ``service``, as configured (plan, overrides)."""
    return Limits(
        service=service.slug,
        members=members,
        creates_per_minute=round(campaign_progress.paced_per_minute(service), 2),
        daily_cap=rate_limits.daily_create_cap(service),
    )


def last_invitation_hours(members: int, creates_per_minute: float, cap: int | None) -> float:
    """Hours from the start of day 1 until the last of ``members`` creates is made:
    each day holds ``cap`` creates (or as many as the pace allows, if fewer), made at
    the pace from the day's start."""
    if members <= 0:
        return 0.0
    pace = max(creates_per_minute, 0.01)
    per_day = pace * MINUTES_A_DAY if cap is None else min(cap, pace * MINUTES_A_DAY)
    full_days = math.ceil(members / per_day) - 1
    minutes = (members - full_days * per_day) / pace
    return full_days * 24 + minutes / 60


def project(limits: Limits, slowest_hours: float) -> Projection:
    """The day of the last invitation and of the last member active, who takes
    ``slowest_hours`` from invitation to active like the rehearsal's slowest member."""
    sent = last_invitation_hours(limits.members, limits.creates_per_minute, limits.daily_cap)
    nobody = limits.members <= 0
    return Projection(
        service=limits.service,
        members=limits.members,
        creates_per_minute=limits.creates_per_minute,
        daily_cap=limits.daily_cap,
        last_invitation_day=0 if nobody else _day(sent),
        last_invitation_hours=round(sent, 2),
        slowest_hours=round(slowest_hours, 2),
        last_active_day=0 if nobody else _day(sent + slowest_hours),
    )


def _day(hours: float) -> int:
    """The day (from 1) an instant ``hours`` after the start of day 1 falls on."""
    return math.floor(hours / 24) + 1


def read_limits(rows: Iterable[dict[str, Any]]) -> list[Limits]:
    """Limits from their JSON (the back office writes them for ``rehearse --cohorts``)."""
    found = []
    for row in rows:
        cap = row.get("daily_cap")
        found.append(
            Limits(
                service=str(row["service"]),
                members=int(row["members"]),
                creates_per_minute=float(row["creates_per_minute"]),
                daily_cap=None if cap is None else int(cap),
            )
        )
    return found


def as_json(projections: Iterable[Projection]) -> list[dict[str, Any]]:
    return [asdict(p) for p in projections]
