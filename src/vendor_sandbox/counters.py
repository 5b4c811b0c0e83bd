"""Request counters: counted in memory, flushed to the shared DB twice a second.

Writing a counter row on every request would double the DB writes of the hot path, so
each worker process batches its increments; the admin API reads the summed table.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter as _Tally
from typing import Any

from django.db import connection

from vendor_sandbox import writelock

log = logging.getLogger(__name__)
_lock = threading.Lock()
_pending: _Tally[str] = _Tally()
_started = False
FLUSH_SECONDS = 0.5


def hit(key: str, amount: int = 1) -> None:
    global _started
    with _lock:
        _pending[key] += amount
        if not _started:
            _started = True
            threading.Thread(target=_loop, name="counter-flush", daemon=True).start()


def flush() -> None:
    with _lock:
        batch = dict(_pending)
        _pending.clear()
    if not batch:
        return
    with writelock.held(), connection.cursor() as cur:
        for key, amount in batch.items():
            cur.execute(
                "INSERT INTO vendor_sandbox_counter (key, count) VALUES (%s, %s) "
                "ON CONFLICT(key) DO UPDATE SET count = count + excluded.count",
                [key, amount],
            )


def _loop() -> None:
    while True:
        time.sleep(FLUSH_SECONDS)
        try:
            flush()
        except Exception:  # the DB may be busy or reset; the next tick retries
            log.exception("counter flush failed")


def by_client(app: Any) -> Any:
    """The WSGI app, counting each request as ``client <address> <method> <status>`` too.

    Several machines share one sandbox in the multi-host proof: the vendor's own counts
    say what was asked, these say who asked it, and who was answered 429.
    """

    def counted(environ: dict[str, Any], start_response: Any) -> Any:
        who = f"client {environ.get('REMOTE_ADDR', '-')} {environ.get('REQUEST_METHOD', '-')}"

        def start(status: str, headers: Any, *exc_info: Any) -> Any:
            hit(f"{who} {status.split(' ', 1)[0]}")
            return start_response(status, headers, *exc_info)

        return app(environ, start)

    return counted
