"""CampusConf's workers, run in the rehearsal's process: what is due on its clock, now.

A real worker loops on its own; here each tick of the rehearsal runs the schedules
that are due (expiry, reminders, notices, reconcile, campaigns, …) and every job whose
time has come, then returns, so the clock moves only between ticks.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from campusconf.core import clock
from campusconf.provisioning import worker
from campusconf.provisioning.conf import engine_setting
from campusconf.provisioning.engine import schedules
from campusconf.provisioning.fast_batch import pipeline
from campusconf.provisioning.models import Job
from campusconf.provisioning.queueing import job_queue

# A tick never loops for ever: a job that keeps coming due again (back-off of zero)
# waits for the next tick.
MAX_ROUNDS = 50


class Engine:
    def __init__(self) -> None:
        self.worker = worker.worker_id()
        self.pool = ThreadPoolExecutor(max(1, int(engine_setting("CONCURRENCY"))), "vendor-call")
        self.pipe = pipeline.Pipeline(
            self.worker, self.pool, max(1, int(engine_setting("BATCH_SIZE"))), worker.run_one
        )

    def tick(self) -> None:
        for _ in range(MAX_ROUNDS):
            ran = False
            while schedules.run_due():
                ran = True
            while self.pipe.step():
                ran = True
            self.pipe.drain()
            job_queue.recover_expired()
            if not ran and not self._jobs_due():
                break
        worker.flush_counts()

    def _jobs_due(self) -> bool:
        return Job.objects.filter(status=Job.Status.QUEUED, run_after__lte=clock.now()).exists()

    def close(self) -> None:
        self.pipe.drain()
        self.pipe.close()
        self.pool.shutdown()
        worker.flush_counts()
