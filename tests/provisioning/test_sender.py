"""The sender thread (provisioning/fast_batch/call_thread.py) against a real server on 127.0.0.1: each
request goes at its rate-limit slot and only with its lease, and whatever goes wrong on
that thread, every call handed to it comes back to the main thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from campusconf.connectors.base import Exchange
from campusconf.connectors.transport.http_client import PerThreadConnections, Response, Timeout
from campusconf.connectors.transport.mux import Multiplexer
from campusconf.provisioning.fast_batch.batch_lease import Lease, LeaseDoubtful
from campusconf.provisioning.fast_batch.call_thread import Sender
from tests.connectors.test_transport_mux import RawServer, post


@pytest.fixture
def raw() -> Iterator[RawServer]:
    server = RawServer()
    yield server
    server.close()


def exchanges(url: str, count: int) -> list[Exchange]:
    via = PerThreadConnections(Timeout(connect=2, read=2))
    return [Exchange(post(url, b'{"n": %d}' % i), lambda answer: None, via) for i in range(count)]


def gather(sender: Sender, count: int) -> dict[int, tuple[float, object]]:
    """Each job's answer and when it came back, waiting up to 10 s for them all."""
    got: dict[int, tuple[float, object]] = {}
    deadline = time.monotonic() + 10
    while len(got) < count and time.monotonic() < deadline:
        for job_id, answer in sender.answers(0.5):
            got[job_id] = (time.monotonic(), answer)
    return got


def test_a_poll_woken_from_another_thread_ends_its_wait_at_once() -> None:
    mux: Multiplexer[int] = Multiplexer(1)
    threading.Timer(0.1, mux.wake).start()
    start = time.monotonic()
    assert mux.poll(30.0) == []
    assert time.monotonic() - start < 10  # woken, not timed out
    mux.close()


def test_each_request_goes_at_its_slot_not_before(raw: RawServer) -> None:
    lease = Lease("w", {1, 2, 3})
    sender = Sender(4, lease)
    start = time.monotonic()
    slots = {1: start + 0.6, 2: start, 3: start + 0.3}
    sender.send(
        (slots[job_id], job_id, e) for job_id, e in zip(slots, exchanges(raw.url, 3), strict=True)
    )
    got = gather(sender, 3)
    sender.close()
    assert sorted(got) == [1, 2, 3]
    assert all(isinstance(answer, Response) for _, answer in got.values())
    for job_id, (answered_at, _) in got.items():
        assert answered_at >= slots[job_id]
    assert [job_id for job_id, _ in sorted(got.items(), key=lambda kv: kv[1][0])] == [2, 3, 1]
    assert len(raw.requests) == 3


def test_a_request_whose_lease_is_not_held_comes_back_unsent(raw: RawServer) -> None:
    lease = Lease("w", {1})
    sender = Sender(4, lease)
    first, second = exchanges(raw.url, 2)
    sender.send([(0.0, 1, first), (0.0, 2, second)])  # job 2's lease went to another worker
    got = gather(sender, 2)
    sender.close()
    assert isinstance(got[1][1], Response)
    assert isinstance(got[2][1], LeaseDoubtful)
    assert len(raw.requests) == 1


def test_a_stale_lease_stops_every_request(raw: RawServer) -> None:
    lease = Lease("w", {1, 2})
    lease.renewed -= 3600  # the worker stalled past its lease
    sender = Sender(4, lease)
    sender.send((0.0, job_id, e) for job_id, e in zip((1, 2), exchanges(raw.url, 2), strict=True))
    got = gather(sender, 2)
    sender.close()
    assert all(isinstance(answer, LeaseDoubtful) for _, answer in got.values())
    assert raw.requests == []


def test_when_the_sender_thread_fails_every_call_it_held_comes_back(
    raw: RawServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    lease = Lease("w", set(range(1, 11)))
    sender = Sender(2, lease)
    real = Multiplexer.send
    calls = []

    def failing(self: Multiplexer[int], *args: object) -> None:
        calls.append(args)
        if len(calls) == 4:
            raise RuntimeError("a bug in the sender")
        real(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(Multiplexer, "send", failing)
    later = time.monotonic() + 0.5  # some still wait for their slot when it fails
    batch = exchanges(raw.url, 10)
    sender.send((0.0 if i < 5 else later, i + 1, e) for i, e in enumerate(batch))
    got = gather(sender, 10)
    assert sorted(got) == list(range(1, 11))  # none lost
    failed = [job_id for job_id, (_, answer) in got.items() if isinstance(answer, RuntimeError)]
    assert failed  # reported, to be retried by the main thread
    # The thread lives on: the next requests go out and are answered.
    monkeypatch.setattr(Multiplexer, "send", real)
    lease.held |= {11, 12}
    sender.send((0.0, job_id, e) for job_id, e in zip((11, 12), exchanges(raw.url, 2), strict=True))
    after = gather(sender, 2)
    sender.close()
    assert all(isinstance(answer, Response) for _, answer in after.values())


def test_close_stops_the_thread() -> None:
    sender = Sender(1, Lease("w", set()))
    sender.send([])
    thread = sender._thread
    assert thread is not None and thread.is_alive()
    sender.close()
    assert not thread.is_alive()
