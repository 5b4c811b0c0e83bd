"""The leases of a worker's jobs in flight, renewed together from its main thread.

A claim leases each job for ``LEASE_SECONDS``; a worker that stops renewing loses its
jobs to ``job_queue.recover_expired``. The pool threads that call vendors never touch the
database: right before a call each checks that the lease is fresh and still held,
and a call whose lease may have lapsed is not sent (``LeaseDoubtful``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from campusconf.provisioning.conf import engine_setting
from campusconf.provisioning.queueing import job_queue

log = logging.getLogger("campusconf.provisioning")


class LeaseDoubtful(Exception):
    """The batch's lease was not renewed in time: do not call the vendor."""


@dataclass
class Lease:
    """The leases of one worker's jobs in flight, renewed together from the main thread."""

    worker: str
    held: set[int]
    renewed: float = field(default_factory=time.monotonic)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def renew(self) -> None:
        with self.lock:
            asked = set(self.held)
        held = job_queue.renew_many(sorted(asked), self.worker)
        with self.lock:
            lost = asked - held
            self.held -= lost
            self.renewed = time.monotonic()
        if lost:
            log.warning("jobs %s: lease lost; another worker has them", sorted(lost))

    def drop(self, job_id: int) -> None:
        with self.lock:
            self.held.discard(job_id)

    def due(self) -> bool:
        return bool(time.monotonic() - self.renewed > engine_setting("LEASE_SECONDS") / 4)

    def beat_for(self, job_id: int) -> Callable[[], None]:
        """The heartbeat of a job run in the main thread: renew when due, stop if lost."""

        def beat() -> None:
            if self.due():
                self.renew()
            if job_id not in self.held:
                raise LeaseDoubtful(f"job {job_id}")

        return beat

    def check(self, job_id: int) -> None:
        """Called in a thread right before its call: the lease must be fresh and ours."""
        with self.lock:
            fresh = time.monotonic() - self.renewed < engine_setting("LEASE_SECONDS") / 2
            if not fresh or job_id not in self.held:
                raise LeaseDoubtful(f"job {job_id}")
