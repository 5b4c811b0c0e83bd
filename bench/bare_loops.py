"""What the sandbox serves to a client with no engine behind it: the ceiling's yardstick.

Two bare loops of creates, each on as many connections as the engine has calls in
flight: ``threaded`` calls the connector's ``create_user`` from that many threads (what
a simple script does), ``multiplexed`` sends the connector's single-request creates
from one thread over ``transport.mux`` (what the engine does). The sandbox's raw create rate
is the better of the two: the engine is held to the cheapest client, not a slow one.
Neither loop touches a database.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from campusconf.connectors import outcomes as o
from campusconf.connectors.base import Connector, SingleRequestCreate, UserSpec
from campusconf.connectors.factory import build_connector
from campusconf.connectors.transport.mux import Multiplexer
from campusconf.provisioning.engine.vendors import split_settings


def _connector(service: Any) -> Connector:
    plain, secrets = split_settings(service.connector_settings)
    return build_connector(service.vendor, plain, secrets)


def _spec(prefix: str, i: int) -> UserSpec:
    return UserSpec(f"{prefix}{i}@raw.example.org", "R", f"{i}", f"R {i}")


def threaded(service: Any, count: int, threads: int, prefix: str = "raw") -> float:
    """Creates per second by ``threads`` threads, each calling ``create_user`` in turn."""

    def loop(part: int) -> None:
        conn = _connector(service)
        for i in range(part, count, threads):
            conn.create_user(_spec(prefix, i))

    start = time.monotonic()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(loop, range(threads)))
    return count / (time.monotonic() - start)


def multiplexed(service: Any, count: int, connections: int, prefix: str = "mux") -> float:
    """Creates per second sent from one thread over ``connections`` connections."""
    conn = _connector(service)
    if not isinstance(conn, SingleRequestCreate):
        raise SystemExit(f"{service.vendor}: no single-request create to multiplex")
    conn.create_user(_spec(prefix, count))  # fetches the token (or licence) first
    mux: Multiplexer[int] = Multiplexer(connections)
    reads = {}
    start = time.monotonic()
    for i in range(count):
        exchange = conn.create_exchange(_spec(prefix, i))
        assert exchange is not None
        reads[i] = exchange.read
        mux.send(exchange.request, i, exchange.via)
    created = 0
    while reads:
        for i, answer in mux.poll(5.0):
            created += isinstance(reads.pop(i)(answer), o.Created)
    elapsed = time.monotonic() - start
    mux.close()
    if created < count:
        raise SystemExit(f"multiplexed bare loop: only {created} of {count} created")
    return count / elapsed
