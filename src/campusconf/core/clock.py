"""CampusConf's clock: the time every rule about invitations, reminders and schedules reads.

In production it is ``timezone.now()``. A rehearsal (``campusconf rehearse``) runs the
engine in its own process against the vendor sandbox and lets days pass in minutes; it
moves this clock and the sandbox's by the same amount, so an invitation expires, a
reminder goes out and a reconcile comes round when they would on those days. The offset
lives in the process: only a rehearsal, which runs every part of CampusConf it needs
in-process, moves it.

It reads ``django.utils.timezone.now`` at each call, so a test that replaces that
function moves this clock too. A rehearsal goes the other way (``installed``): Django's
own ``timezone.now`` then reads this clock, so the dates Django stamps by itself
(``auto_now_add``: account events, jobs, notices) are on the rehearsal's days as well,
and the resend limits and the history read from them hold.
"""

from __future__ import annotations

import contextlib
import datetime
from collections.abc import Iterator

from django.utils import timezone

_offset = [0.0]
_real_now = timezone.now
_installed = [False]


def now() -> datetime.datetime:
    moved = _offset[0]
    current = _real_now() if _installed[0] else timezone.now()
    return current + datetime.timedelta(seconds=moved) if moved else current


@contextlib.contextmanager
def installed() -> Iterator[None]:
    """Within the block, Django's ``timezone.now`` is this clock (rehearsals only)."""
    if _installed[0]:
        raise RuntimeError("the clock is already installed")
    original = timezone.now
    _installed[0] = True
    timezone.now = now
    try:
        yield
    finally:
        timezone.now = original
        _installed[0] = False


def offset_seconds() -> float:
    return _offset[0]


def advance(seconds: float) -> None:
    if seconds < 0:
        raise ValueError("the clock only moves forward")
    _offset[0] += seconds


def reset() -> None:
    _offset[0] = 0.0
