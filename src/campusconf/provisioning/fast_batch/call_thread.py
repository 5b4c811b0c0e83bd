"""A worker's vendor calls, sent at their slots and read on a thread of their own.

The worker's main thread owns the database: it claims, loads and settles. Were it
also to send and read the calls, every claim and every settle would leave the
connections idle for as long as the database took — a settle on PostgreSQL waits on
the server for most of its time — and the vendor's capacity would go unused that
long. So the multiplexer (``connectors.transport.mux``) runs here, on the sender thread,
which touches no database: it sends each request when its rate-limit slot comes,
right after checking that the job's lease is fresh and still held, and hands every
answer back through a queue. The main thread waits on that queue, which costs it no
CPU, and settles what came back while the next answers arrive.
"""

from __future__ import annotations

import heapq
import logging
import threading
import time
from collections.abc import Iterable
from queue import Empty, SimpleQueue

from campusconf.connectors.base import Exchange
from campusconf.connectors.transport.http_client import Response, TransportError
from campusconf.connectors.transport.mux import Multiplexer
from campusconf.provisioning.fast_batch.batch_lease import Lease, LeaseDoubtful

log = logging.getLogger("campusconf.provisioning")

# What comes back for a job: the vendor's answer, a transport error, or why the
# request was never sent (a doubtful lease; the sender thread's own failure).
Answer = Response | TransportError | BaseException

IDLE_WAIT = 1.0  # seconds the thread sleeps with nothing to send or read


class Sender:
    """Requests handed over by the main thread, sent and read on the sender thread.

    ``send`` takes (slot, job id, exchange) triples, the slot a ``time.monotonic``
    deadline (0 for at once); ``answers`` returns (job id, answer) pairs as they come,
    and (job id, None) for a call ``deliver`` said has ended on another thread.
    The thread starts with the first request and stops with ``close``.
    """

    def __init__(self, per_origin: int, lease: Lease) -> None:
        self.lease = lease
        self._mux: Multiplexer[int] = Multiplexer(per_origin)
        self._inbox: list[tuple[float, int, Exchange]] = []
        self._lock = threading.Lock()
        self._answers: SimpleQueue[tuple[int, Answer | None]] = SimpleQueue()
        self._thread: threading.Thread | None = None
        self._closing = False

    def send(self, requests: Iterable[tuple[float, int, Exchange]]) -> None:
        with self._lock:
            self._inbox.extend(requests)
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="vendor-sender", daemon=True)
            self._thread.start()
        self._mux.wake()

    def deliver(self, job_id: int) -> None:
        """A call that ended elsewhere (on the pool): waited for with the rest."""
        self._answers.put((job_id, None))

    def answers(self, timeout: float) -> list[tuple[int, Answer | None]]:
        """Every answer waiting, after waiting up to ``timeout`` for the first."""
        try:
            got = [
                self._answers.get(timeout=timeout) if timeout > 0 else self._answers.get_nowait()
            ]
        except Empty:
            return []
        while True:
            try:
                got.append(self._answers.get_nowait())
            except Empty:
                return got

    def close(self) -> None:
        """Stop the thread; requests not answered yet are dropped (drain first)."""
        self._closing = True
        if self._thread is not None:
            self._mux.wake()
            self._thread.join()
            self._thread = None
        self._mux.close()

    # --- the sender thread ------------------------------------------------------------

    def _run(self) -> None:
        due: list[tuple[float, int, Exchange]] = []  # a heap, by slot
        sent: set[int] = set()
        while not self._closing:
            try:
                self._turn(due, sent)
            except Exception as exc:
                # A bug here must not strand the jobs: each comes back as failed (the
                # main thread retries it, and the retry looks the user up first).
                log.exception("the sender thread failed; %d calls come back", len(due) + len(sent))
                for _, job_id, _ in due:
                    self._answers.put((job_id, exc))
                for job_id in sent:
                    self._answers.put((job_id, exc))
                due.clear()
                sent.clear()
                self._mux.close()
                self._mux = Multiplexer(self._mux.per_origin)

    def _turn(self, due: list[tuple[float, int, Exchange]], sent: set[int]) -> None:
        with self._lock:
            fresh, self._inbox = self._inbox, []
        for item in fresh:
            heapq.heappush(due, item)
        now = time.monotonic()
        while due and due[0][0] <= now:
            _, job_id, exchange = heapq.heappop(due)
            try:
                self.lease.check(job_id)  # right before the request leaves
            except LeaseDoubtful as doubt:
                self._answers.put((job_id, doubt))
                continue
            sent.add(job_id)
            self._mux.send(exchange.request, job_id, exchange.via)
        wait = max(0.0, due[0][0] - now) if due else IDLE_WAIT
        for job_id, answer in self._mux.poll(wait):
            sent.discard(job_id)
            self._answers.put((job_id, answer))
